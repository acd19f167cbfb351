/** The reliability suite's judge: it must pass a consistent mesh and name every kind of break. */
import assert from 'node:assert/strict'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { meshViolations } from './mesh-invariants.js'
import type { CacheSnapshot } from './mesh-invariants.js'

const ref = (i: number): { peerId: string, address: string, multiaddrs: string[] } => ({ peerId: `peer${i}`, address: `2001:db8:ffff::${i}`, multiaddrs: [] })
const base = { lastUpdate: { sequence: 2, timestampMs: 2 }, sessionSequence: 2, createdAt: 0, updatedAt: 0 }

function serving (mnId: string, prefix: string, anchors: Array<[string, number]>): BindingCacheEntry {
  return { ...base, mnId, localPrefixes: [prefix], attached: true, remoteAnchors: anchors.map(([p, i]) => ({ ...ref(i), prefix: p })) }
}
function anchor (mnId: string, prefix: string, servingAt?: number): BindingCacheEntry {
  return { ...base, mnId, localPrefixes: [prefix], attached: false, remoteAnchors: [], ...(servingAt !== undefined ? { servingMaar: ref(servingAt) } : {}) }
}
function mesh (...caches: BindingCacheEntry[][]): CacheSnapshot[] {
  return caches.map((bindings, i) => ({ name: `maar${i + 1}`, address: `2001:db8:ffff::${i + 1}`, bindings }))
}

describe('mesh invariants', () => {
  it('a consistent mesh has no violation', () => {
    const caches = mesh([anchor('a', '2001:db8:1:1::/64', 2)], [serving('a', '2001:db8:2:1::/64', [['2001:db8:1:1::/64', 1]])])
    assert.deepEqual(meshViolations(caches, new Map([['a', 'maar2']])), [])
  })

  it('names two serving MAARs, an anchor pointing elsewhere, a dropped or phantom anchor, a prefix held twice, a wrong last target', () => {
    assert.match(meshViolations(mesh([serving('a', '2001:db8:1:1::/64', [])], [serving('a', '2001:db8:2:1::/64', [])])).join('\n'), /a: 2 serving MAARs \(maar1, maar2\)/)
    assert.match(meshViolations(mesh([anchor('a', '2001:db8:1:1::/64')])).join('\n'), /a: 0 serving MAARs/)
    const stale = mesh([anchor('a', '2001:db8:1:1::/64', 3)], [serving('a', '2001:db8:2:1::/64', [['2001:db8:1:1::/64', 1]])], [])
    assert.deepEqual(meshViolations(stale), ['a: anchor maar1 points to 2001:db8:ffff::3, the serving MAAR is maar2 (2001:db8:ffff::2)'])
    const dropped = mesh([anchor('a', '2001:db8:1:1::/64', 2)], [serving('a', '2001:db8:2:1::/64', [])])
    assert.deepEqual(meshViolations(dropped), ['a: maar2 does not list the anchored prefix 2001:db8:1:1::/64@2001:db8:ffff::1 among its remote anchors'])
    const phantom = mesh([], [serving('a', '2001:db8:2:1::/64', [['2001:db8:1:1::/64', 1]])])
    assert.deepEqual(meshViolations(phantom), ['a: maar2 lists 2001:db8:1:1::/64@2001:db8:ffff::1 as a remote anchor, but no MAAR there anchors it'])
    const twice = mesh([serving('a', '2001:db8:1:1::/64', []), serving('b', '2001:db8:1:1::/64', [])])
    assert.deepEqual(meshViolations(twice), ['prefix 2001:db8:1:1::/64 is held by a and by b (at maar1)'])
    const moved = mesh([serving('a', '2001:db8:1:1::/64', [])])
    assert.deepEqual(meshViolations(moved, new Map([['a', 'maar2'], ['b', 'maar1']])), ['b: no MAAR holds it', 'a: served by maar1, but it attached to maar2 last'])
  })
})
