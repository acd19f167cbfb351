import assert from 'node:assert/strict'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { MaarCertificate } from '@dmm-mesh/discovery'
import { decideAnchor } from '../src/anchor-decision.js'
import type { KnownMaar } from '../src/peer-table.js'
import type { ProxyUpdate } from '../src/messages.js'

const maar = (i: number): KnownMaar => ({
  peerId: `peer${i}`,
  address: `2001:db8:ffff::${i}`,
  multiaddrs: [`/ip4/127.0.0.1/tcp/400${i}`],
  certificate: new Uint8Array(),
  cert: {} as MaarCertificate
})
const m1 = maar(1); const m2 = maar(2); const m3 = maar(3)
const ref = (m: KnownMaar): { peerId: string, address: string, multiaddrs: string[] } => ({ peerId: m.peerId, address: m.address, multiaddrs: m.multiaddrs })
const allowed = { covers: () => true }

/** MAAR1's binding: it delegated 2001:db8:1::/64; the MN is now served by `serving` (or attached). */
function binding (over: Partial<BindingCacheEntry> = {}): BindingCacheEntry {
  return {
    mnId: 'mn@x', localPrefixes: ['2001:db8:1::/64'], attached: false, servingMaar: ref(m2), remoteAnchors: [],
    lastUpdate: { sequence: 3, timestampMs: 1000 }, sessionSequence: 3, createdAt: 0, updatedAt: 0, ...over
  }
}
function update (over: Partial<ProxyUpdate> = {}): ProxyUpdate {
  return { mnId: 'mn@x', sequence: 4, lifetime: 3600, timestampMs: 2000, anchoredPrefixes: ['2001:db8:1::/64'], servingAddress: m3.address, ...over }
}

describe('P-MAAR decision (RFC 5213 §5.3, RFC 8885 §3.1)', () => {
  it('anchors for the new serving MAAR, stops its expiry timer and refers to the previous serving MAAR', () => {
    const d = decideAnchor(binding({ expiresAt: 5000 }), update(), m3, allowed, 2500)
    assert.equal(d.kind, 'anchor')
    if (d.kind !== 'anchor') return
    assert.deepEqual(d.entry.servingMaar, ref(m3))
    assert.equal(d.entry.expiresAt, undefined)
    assert.deepEqual(d.entry.lastUpdate, { sequence: 4, timestampMs: 2000 })
    assert.deepEqual(d.prefixes, ['2001:db8:1::/64'])
    assert.deepEqual(d.referrals, [ref(m2)])
  })

  it('a former serving MAAR refers the sender to every anchor it used', () => {
    const d = decideAnchor(binding({ attached: true, servingMaar: undefined, remoteAnchors: [{ ...ref(m2), prefix: '2001:db8:2::/64' }, { ...ref(m2), prefix: '2001:db8:2:1::/64' }, { ...ref(m3), prefix: '2001:db8:3::/64' }] }), update(), m3, allowed, 0)
    assert.equal(d.kind, 'anchor')
    if (d.kind === 'anchor') assert.deepEqual(d.referrals, [ref(m2)], 'once per peer, never the sender')
  })

  it('an empty Anchored Prefix list means every prefix anchored here', () => {
    const d = decideAnchor(binding({ localPrefixes: ['2001:db8:1::/64', '2001:db8:1:1::/64'] }), update({ anchoredPrefixes: [] }), m3, allowed, 0)
    assert.ok(d.kind === 'anchor' && d.prefixes.length === 2)
  })

  const refusals: Array<[string, BindingCacheEntry | undefined, ProxyUpdate, number]> = [
    ['no binding for the MN', undefined, update(), 153],
    ['a prefix not anchored here', binding(), update({ anchoredPrefixes: ['2001:db8:9::/64'] }), 155],
    ['an older timestamp', binding(), update({ timestampMs: 999 }), 157],
    ['an equal timestamp', binding(), update({ timestampMs: 1000 }), 157],
    ['a Serving MAAR that is not the sender', binding(), update({ servingAddress: m2.address }), 129],
    ['a de-registration from a MAAR that does not serve the MN', binding(), update({ lifetime: 0, servingAddress: undefined }), 129]
  ]
  for (const [what, entry, u, status] of refusals) {
    it(`refuses ${what} with status ${status}`, () => {
      const d = decideAnchor(entry, u, m3, allowed, 0)
      assert.equal(d.kind, 'refuse')
      if (d.kind === 'refuse') assert.equal(d.status, status, d.reason)
    })
  }

  it('an older PBU is refused but still points at the current serving MAAR', () => {
    const d = decideAnchor(binding(), update({ timestampMs: 10 }), m3, allowed, 0)
    assert.ok(d.kind === 'refuse')
    if (d.kind === 'refuse') assert.deepEqual(d.referrals, [ref(m2)])
  })

  it('refuses a Local Prefix outside the sender\'s certified pools', () => {
    const d = decideAnchor(binding(), update({ localPrefix: '2001:db8:3::/64' }), m3, { covers: () => false }, 0)
    assert.ok(d.kind === 'refuse' && d.status === 129 && /certified pools/.test(d.reason))
  })

  it('releases the prefixes on a de-registration from the serving MAAR', () => {
    const d = decideAnchor(binding({ servingMaar: ref(m3) }), update({ lifetime: 0, servingAddress: undefined }), m3, allowed, 0)
    assert.deepEqual(d, { kind: 'release', mnId: 'mn@x', prefixes: ['2001:db8:1::/64'] })
  })
})
