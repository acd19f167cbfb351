/**
 * Federation policies in one process (doc/ARCHITECTURE.md "Federation"): per agreement, A's
 * prefixes of an MN that crosses into B are kept through tunnels, dropped, or kept for a bound;
 * a revoked agreement stops new cross-border registrations; three domains A → B → C. Every step
 * traces every address of the MN on the shared memory data plane.
 */
import assert from 'node:assert/strict'
import { BINDING_ACK_STATUS } from '@dmm-mesh/wire'
import type { CrossBorderPolicy } from '@dmm-mesh/federation'
import { buildPbu, readPba } from '../src/index.js'
import { startFederation } from './federation-fixture.js'
import type { FederationFixture, Reach } from './federation-fixture.js'

/** Which of the MN's addresses are reachable, by anchor name. */
function reachableAnchors (reach: Reach[]): string[] {
  return reach.filter(r => r.delivered).map(r => r.anchor).sort()
}

function twoDomains (aAcceptsB: CrossBorderPolicy, extra: Parameters<typeof startFederation>[0] extends infer O ? Partial<O> : never = {}): Promise<FederationFixture> {
  return startFederation({
    domains: [{ label: 'a', count: 2 }, { label: 'b', count: 2 }],
    agreements: [{ issuer: 'a', subject: 'b', policy: aAcceptsB }, { issuer: 'b', subject: 'a', policy: { prefixes: 'tunnel' } }],
    ...extra
  })
}

/*
 * Leaving: an MN leaving a domain whose anchors will not tunnel its prefixes across the border
 * (doc/ARCHITECTURE.md "Federation", "Leaving a domain that does not tunnel"): under `drop`, or
 * once the agreement was revoked, A's MAARs still learn from B's PBU that the MN left (RFC 5213
 * §5.3: the binding's owner is told of the new registration), so A's serving MAAR stops serving
 * it and its prefixes are released, while the PBA refuses naming the agreement. One serving MAAR
 * is checked by reading every MAAR's binding cache, reachability on the memory data plane.
 */
/** Only b1 serves the MN, reachable through b1 alone: a1 and a2 hold no binding of it any more. */
async function onlyB1Serves (f: FederationFixture, mnId: string): Promise<void> {
  assert.deepEqual(await f.fed.serving(mnId), ['b1'])
  for (const name of ['a1', 'a2']) assert.equal((await f.maar(name).maar.bindings()).some(e => e.mnId === mnId), false, `${name} let ${mnId} go`)
  assert.deepEqual(reachableAnchors(f.reach(mnId)), ['b1'])
}

/** The MN back at a2 (B accepts A with tunnel): a handover signalling b1, a2 alone serving, B's prefix kept. */
async function backAtA2 (f: FederationFixture, mnId: string): Promise<void> {
  const back = await f.move(mnId, 'a2')
  assert.equal(back.kind, 'handover')
  assert.deepEqual(back.peers.map(p => [p.address, p.status]), [[f.maar('b1').address, 'ACCEPTED']])
  assert.deepEqual(await f.fed.serving(mnId), ['a2'])
  assert.deepEqual(reachableAnchors(f.reach(mnId)), ['a2', 'b1'])
}

describe('federation policies (in one process)', function () {
  let f: FederationFixture | undefined
  afterEach(async () => { await f?.stop(); f = undefined })

  it('drop: A refuses to tunnel into B naming the agreement; the MN has only B\'s prefix; back in A it keeps B\'s', async () => {
    f = await twoDomains({ prefixes: 'drop' })
    await f.move('dave', 'a1')
    const cross = await f.move('dave', 'b1')
    assert.equal(cross.kind, 'handover')
    assert.equal(cross.lookupSource, 'border')
    assert.equal(cross.peers[0]?.status, 'ADMINISTRATIVELY_PROHIBITED')
    assert.match(cross.peers[0]?.error ?? '', /agreement a-accepts-b: policy drop: a\.example's prefixes are not tunnelled into b\.example/)
    assert.deepEqual(cross.anchors.map(a => a.anchor), ['2001:db8:ffff:200::1'])
    assert.deepEqual(reachableAnchors(f.reach('dave')), ['b1'])
    // B accepts A with tunnel: B's prefix follows the MN home.
    const back = await f.move('dave', 'a2')
    assert.equal(back.lookupSource, 'border')
    assert.deepEqual(back.peers.map(p => p.status), ['ACCEPTED'])
    assert.deepEqual(reachableAnchors(f.reach('dave')), ['a2', 'b1'])
  })

  it('bounded: A\'s prefix crosses with a lifetime capped to the bound, survives a move inside B, and is released when the bound ends', async () => {
    let skew = 0
    f = await twoDomains({ prefixes: 'bounded', seconds: 20 }, { clock: () => Date.now() + skew, lifetimeCheckIntervalMs: 0 })
    await f.move('erin', 'a1')
    await f.move('erin', 'b1')
    const a1 = (await f.maar('a1').maar.bindings()).find(e => e.mnId === 'erin')
    assert.ok(a1 !== undefined && !a1.attached && a1.expiresAt !== undefined && a1.expiresAt - Date.now() <= 20_000, `a1 anchors erin for at most 20 s: ${JSON.stringify(a1)}`)
    assert.deepEqual(reachableAnchors(f.reach('erin')), ['a1', 'b1'])
    skew = 10_000
    await f.move('erin', 'b2')
    assert.deepEqual(reachableAnchors(f.reach('erin')), ['a1', 'b1', 'b2'])
    const again = (await f.maar('a1').maar.bindings()).find(e => e.mnId === 'erin')
    assert.equal(again?.expiresAt, a1.expiresAt, 'a move inside B does not renew the bound')
    skew = 21_000
    await f.maar('a1').maar.checkLifetimes()
    assert.equal((await f.maar('a1').maar.bindings()).find(e => e.mnId === 'erin'), undefined, 'a1 released erin\'s prefix at the bound')
    assert.deepEqual(reachableAnchors(f.reach('erin')), ['b1', 'b2'])
  })

  it('revoked: no new cross-border registration under it, each refusal names it; B\'s own prefixes still move', async () => {
    f = await twoDomains({ prefixes: 'tunnel' })
    await f.move('frank', 'a1')
    await f.move('frank', 'b1')
    assert.deepEqual(reachableAnchors(f.reach('frank')), ['a1', 'b1'])
    await f.fed.revoke('a-accepts-b')
    const inside = await f.move('frank', 'b2')
    const fromA = inside.peers.find(p => p.address === '2001:db8:ffff:100::1')
    assert.equal(fromA?.status, 'ADMINISTRATIVELY_PROHIBITED')
    assert.match(fromA?.error ?? '', /b.example refused: agreement a-accepts-b: revoked at/)
    assert.deepEqual(reachableAnchors(f.reach('frank')), ['b1', 'b2'])
    // A new MN crossing now: A's gateway refuses the lookup, B serves it as new.
    await f.move('grace', 'a1')
    const cross = await f.move('grace', 'b1')
    assert.equal(cross.kind, 'first-attach')
    assert.deepEqual(reachableAnchors(f.reach('grace')), ['b1'])
  })

  it('drop: a1 → a2 → b1: A\'s serving MAAR and anchor let the MN go (refusing, naming the agreement), b1 alone serves; back at a2 is a handover', async () => {
    f = await twoDomains({ prefixes: 'drop' })
    await f.move('pat', 'a1')
    await f.move('pat', 'a2')
    assert.deepEqual(reachableAnchors(f.reach('pat')), ['a1', 'a2'])
    const cross = await f.move('pat', 'b1')
    assert.equal(cross.lookupSource, 'border')
    // a2 (serving) refers b1 to a1 (anchoring a1's prefix for a2): both refuse naming the agreement.
    assert.deepEqual(cross.peers.map(p => p.address).sort(), [f.maar('a1').address, f.maar('a2').address].sort())
    for (const p of cross.peers) {
      assert.equal(p.status, 'ADMINISTRATIVELY_PROHIBITED')
      assert.match(p.error ?? '', /agreement a-accepts-b: policy drop: a\.example's prefixes are not tunnelled into b\.example/)
    }
    await onlyB1Serves(f, 'pat')
    await backAtA2(f, 'pat')
  })

  it('drop: a PBU older than A\'s binding is refused and changes nothing (the ordering of RFC 5213 §5.5 still holds)', async () => {
    f = await twoDomains({ prefixes: 'drop' })
    await f.move('quinn', 'a1')
    const entry = (await f.maar('a1').maar.bindings()).find(e => e.mnId === 'quinn')
    assert.ok(entry !== undefined)
    // b1 (in scope of the agreement) sends a1 a registration stamped before a1's binding.
    const b1 = f.maar('b1').maar
    const a1 = f.maar('a1').maar
    const { ack } = await b1.transport.exchange({ peerId: a1.peerId, multiaddrs: a1.multiaddrs() }, buildPbu({
      mnId: 'quinn', sequence: 9, lifetime: 400, timestampMs: entry.lastUpdate.timestampMs - 1000, anchoredPrefixes: [], localPrefix: '2001:db8:201:1::/64', servingAddress: b1.address, accessTechnology: 3
    }))
    const pba = readPba(ack)
    assert.equal(pba.status, BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED)
    assert.match(pba.reason ?? '', /agreement a-accepts-b: policy drop: .*timestamp \d+ not after/)
    assert.deepEqual(await f.fed.serving('quinn'), ['a1'])
  })

  it('revoked (one way): a1 → b1 → a2, A revokes, → b1: a2 lets the MN go refusing as revoked, b1 alone serves; back at a2 is a handover', async () => {
    f = await twoDomains({ prefixes: 'tunnel' })
    await f.move('rose', 'a1')
    await f.move('rose', 'b1')
    await f.move('rose', 'a2')
    assert.deepEqual(await f.fed.serving('rose'), ['a2'])
    await f.fed.revoke('a-accepts-b')
    const cross = await f.move('rose', 'b1')
    const fromA2 = cross.peers.find(p => p.address === f?.maar('a2').address)
    assert.equal(fromA2?.status, 'ADMINISTRATIVELY_PROHIBITED')
    assert.match(fromA2?.error ?? '', /agreement a-accepts-b: revoked at/)
    await onlyB1Serves(f, 'rose')
    // B still accepts A: B's prefix follows the MN back.
    await backAtA2(f, 'rose')
  })
})

describe('federation: three domains A → B → C (in one process)', function () {
  let f: FederationFixture | undefined
  after(async () => { await f?.stop() })

  it('C finds the newest record across both borders and keeps A\'s and B\'s prefixes; back to A', async () => {
    const tunnel: CrossBorderPolicy = { prefixes: 'tunnel' }
    const pairs: Array<[string, string]> = [['a', 'b'], ['b', 'a'], ['a', 'c'], ['c', 'a'], ['b', 'c'], ['c', 'b']]
    f = await startFederation({
      domains: [{ label: 'a', count: 1 }, { label: 'b', count: 1 }, { label: 'c', count: 1 }],
      agreements: pairs.map(([issuer, subject]) => ({ issuer, subject, policy: tunnel }))
    })
    await f.move('heidi', 'a1')
    await f.move('heidi', 'b1')
    const toC = await f.move('heidi', 'c1')
    assert.equal(toC.lookupSource, 'border')
    assert.equal(toC.sessionSequence, 3)
    assert.ok(toC.peers.every(p => p.status === 'ACCEPTED'), JSON.stringify(toC.peers))
    assert.deepEqual(reachableAnchors(f.reach('heidi')), ['a1', 'b1', 'c1'])
    const home = await f.move('heidi', 'a1')
    assert.equal(home.kind, 'return')
    assert.deepEqual(reachableAnchors(f.reach('heidi')), ['a1', 'b1', 'c1'])
  })

  it('C federated with B only: B\'s record names A\'s anchor C cannot prove, so C serves the MN as new', async () => {
    await f?.stop()
    f = await startFederation({
      domains: [{ label: 'a', count: 1 }, { label: 'b', count: 1 }, { label: 'c', count: 1 }],
      agreements: [['a', 'b'], ['b', 'a'], ['b', 'c'], ['c', 'b']].map(([issuer, subject]) => ({ issuer: issuer ?? '', subject: subject ?? '', policy: { prefixes: 'tunnel' as const } }))
    })
    await f.move('ivan', 'a1')
    await f.move('ivan', 'b1')
    const toC = await f.move('ivan', 'c1')
    assert.equal(toC.kind, 'first-attach')
    assert.deepEqual(reachableAnchors(f.reach('ivan')), ['c1'])
  })
})
