/**
 * The fully distributed mesh end to end in one process: ten real libp2p MAARs on loopback, real
 * LevelDB binding caches, the in-memory data plane traced hop by hop.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { prefixContains, parsePrefix } from '@dmm-mesh/wire'
import { createLocalMesh } from '../src/index.js'
import type { LocalMesh, LocalMaar, HandoverReport } from '../src/index.js'

const LL = '02:00:00:00:00:01'

describe('MAAR mesh (10 MAARs, one process, real libp2p + LevelDB)', function () {
  this.timeout(120_000)
  let dir: string
  let mesh: LocalMesh
  const lines: string[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-mesh-test-'))
    mesh = await createLocalMesh({ count: 10, dataDir: dir, log: (_level, line) => { lines.push(line) } })
  })
  after(async () => {
    await mesh?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const m = (i: number): LocalMaar => {
    const found = mesh.maars[i - 1]
    assert.ok(found, `maar${i} exists`)
    return found
  }

  async function move (mnId: string, i: number, opts: { settle?: boolean } = {}): Promise<HandoverReport> {
    mesh.network.attachMn(mnId, m(i).address)
    const report = await m(i).maar.attach({ mnId, accessLink: 'access0', linkLayerId: LL })
    if (opts.settle !== false) await m(i).maar.settled()
    return report
  }

  /** Every address of the MN reaches it from the CN through its prefix's anchor, and back. */
  function assertReachable (mnId: string, expectedAnchors: Map<string, string>): void {
    const addresses = mesh.network.mnAddresses(mnId)
    assert.equal(addresses.length, expectedAnchors.size, `MN holds one address per prefix: ${addresses.join(', ')}`)
    for (const address of addresses) {
      const [prefix, anchorName] = [...expectedAnchors.entries()].find(([p]) => prefixContains(parsePrefix(p), address)) ?? []
      assert.ok(prefix !== undefined && anchorName !== undefined, `address ${address} belongs to a known prefix`)
      const down = mesh.network.traceFromCn(address)
      assert.ok(down.delivered, `CN -> ${address}: ${down.hops.join(' > ')} (${down.reason ?? ''})`)
      assert.equal(down.hops[1], anchorName, `CN -> ${address} enters at its anchor ${anchorName}: ${down.hops.join(' > ')}`)
      const up = mesh.network.traceFromMn(mnId, address)
      assert.ok(up.delivered, `${address} -> CN: ${up.hops.join(' > ')} (${up.reason ?? ''})`)
      assert.ok(up.hops.includes(anchorName), `uplink from ${address} leaves through ${anchorName}: ${up.hops.join(' > ')}`)
    }
  }

  it('first attach delegates a prefix from the pool and routes it natively', async () => {
    const r = await move('first@dmm.example', 1)
    assert.equal(r.kind, 'first-attach')
    assert.ok(prefixContains(parsePrefix(m(1).pool), parsePrefix(r.localPrefix)), `${r.localPrefix} in ${m(1).pool}`)
    assert.deepEqual(r.peers, [])
    assertReachable('first@dmm.example', new Map([[r.localPrefix, 'maar1']]))
  })

  it('one handover: the old prefix stays reachable through its anchor, the new one natively', async () => {
    const r1 = await move('bob@dmm.example', 2)
    const r2 = await move('bob@dmm.example', 3)
    assert.equal(r2.kind, 'handover')
    assert.deepEqual(r2.peers.map(p => [p.address, p.status]), [[m(2).address, 'ACCEPTED']])
    assert.deepEqual(r2.anchors.map(a => [a.prefix, a.anchor, a.native]), [[r2.localPrefix, m(3).address, true], [r1.localPrefix, m(2).address, false]])
    assertReachable('bob@dmm.example', new Map([[r1.localPrefix, 'maar2'], [r2.localPrefix, 'maar3']]))
    const anchorBce = (await m(2).maar.bindings()).find(e => e.mnId === 'bob@dmm.example')
    assert.equal(anchorBce?.attached, false)
    assert.equal(anchorBce?.servingMaar?.address, m(3).address)
    assert.equal(anchorBce?.expiresAt, undefined, 'the anchor stops its expiry timer: only the serving MAAR de-registers')
  })

  it('a chain across 4 MAARs gives 4 prefixes and 3 P-MAARs, each reachable through its anchor', async () => {
    const mn = 'carol@dmm.example'
    const reports = [await move(mn, 4), await move(mn, 5), await move(mn, 6), await move(mn, 7)]
    const last = reports[3]
    assert.ok(last)
    assert.equal(last.peers.length, 3)
    assert.ok(last.peers.every(p => p.status === 'ACCEPTED'), JSON.stringify(last.peers))
    assert.equal(last.anchors.length, 4)
    assertReachable(mn, new Map(reports.map((r, i) => [r.localPrefix, `maar${i + 4}`])))
  })

  it('an MN that returns to an earlier MAAR gets native routing back and that tunnel removed', async () => {
    const mn = 'dave@dmm.example'
    const a = await move(mn, 8)
    const b = await move(mn, 9)
    const c = await move(mn, 8)
    assert.equal(c.kind, 'return')
    assert.equal(c.localPrefix, a.localPrefix, 'the returning MN keeps its prefix')
    assert.deepEqual(c.anchors.map(x => [x.prefix, x.native]), [[a.localPrefix, true], [b.localPrefix, false]])
    const dp8 = m(8).maar
    const bce8 = (await dp8.bindings()).find(e => e.mnId === mn)
    assert.equal(bce8?.attached, true)
    assert.equal(bce8?.servingMaar, undefined)
    assertReachable(mn, new Map([[a.localPrefix, 'maar8'], [b.localPrefix, 'maar9']]))
    const down = mesh.network.traceFromCn(mesh.network.mnAddresses(mn).find(x => prefixContains(parsePrefix(a.localPrefix), x)) ?? '')
    assert.ok(!down.hops.some(h => h.startsWith('tunnel')), `native again: ${down.hops.join(' > ')}`)
  })

  it('two MNs moving at once each end with the right anchors', async () => {
    const [e1, f1] = await Promise.all([move('erin@dmm.example', 1), move('frank@dmm.example', 2)])
    const [e2, f2] = await Promise.all([move('erin@dmm.example', 2), move('frank@dmm.example', 1)])
    assert.ok(e1 && f1 && e2 && f2)
    assertReachable('erin@dmm.example', new Map([[e1.localPrefix, 'maar1'], [e2.localPrefix, 'maar2']]))
    assertReachable('frank@dmm.example', new Map([[f1.localPrefix, 'maar2'], [f2.localPrefix, 'maar1']]))
  })

  it('a move faster than DHT publication follows the P-MAAR referrals and loses no prefix', async () => {
    const mn = 'grace@dmm.example'
    const r1 = await move(mn, 3)
    // Hold maar4's publication: maar5 will read the record maar3 wrote (stale: it misses maar4).
    const held = m(4).directory
    const original = held.publish.bind(held)
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    held.publish = async (...args) => { await gate; await original(...args) }
    try {
      const r2 = await move(mn, 4, { settle: false })
      const r3 = await move(mn, 5)
      assert.ok(r3.referralsFollowed >= 1, `maar5 learnt of maar4 only by referral: ${JSON.stringify(r3.peers)}`)
      assert.deepEqual(new Set(r3.anchors.map(a => a.prefix)), new Set([r1.localPrefix, r2.localPrefix, r3.localPrefix]))
      assertReachable(mn, new Map([[r1.localPrefix, 'maar3'], [r2.localPrefix, 'maar4'], [r3.localPrefix, 'maar5']]))
    } finally {
      release()
      held.publish = original
      await m(4).maar.settled()
    }
  })

  it('de-registration frees every prefix back to its pool and withdraws the session', async () => {
    const mn = 'heidi@dmm.example'
    const a = await move(mn, 6)
    await move(mn, 7)
    const outcomes = await m(7).maar.deregister(mn)
    assert.deepEqual(outcomes.map(o => [o.address, o.status]), [[m(6).address, 'ACCEPTED']])
    await m(7).maar.settled()
    for (const i of [6, 7]) {
      assert.equal((await m(i).maar.bindings()).find(e => e.mnId === mn), undefined, `maar${i} holds no binding`)
      const allocations = await m(i).cache.allocations()
      assert.ok(![...allocations.values()].includes(mn), `maar${i} released the prefix`)
    }
    assert.equal(mesh.network.traceFromCn(mesh.network.mnAddresses(mn)[0] ?? a.localPrefix.replace('/64', '1')).delivered, false)
    const found = await m(1).directory.lookup(mn)
    assert.ok(found === undefined || found.record.serving === null, 'the session record is withdrawn')
    // The MN comes back later: a new session replaces the withdrawn record and hands over as usual.
    const again = await move(mn, 8)
    assert.equal(again.kind, 'first-attach')
    assert.ok(again.sessionSequence > (found?.record.sequence ?? 0), 'the new session outranks the withdrawn record')
    const next = await move(mn, 9)
    assert.equal(next.kind, 'handover')
    assert.deepEqual(next.peers.map(p => [p.address, p.status]), [[m(8).address, 'ACCEPTED']])
    await m(9).maar.deregister(mn)
  })

  it('a PBU for a prefix the P-MAAR does not anchor is refused with status 155', async () => {
    const mn = 'ivan@dmm.example'
    await move(mn, 2)
    // maar3 claims maar2 anchors a prefix of maar1's pool for ivan.
    const { buildPbu } = await import('../src/messages.js')
    const transport = m(3).maar.transport
    const { ack } = await transport.exchange({ peerId: m(2).maar.peerId, multiaddrs: m(2).maar.multiaddrs() }, buildPbu({
      mnId: mn, sequence: 9, lifetime: 3600, timestampMs: Date.now() + 100, anchoredPrefixes: ['2001:db8:1:ff::/64'], localPrefix: '2001:db8:3:ff::/64', servingAddress: m(3).address
    }))
    assert.equal(ack.status, 155)
    assert.ok(lines.some(l => l.includes('rejected PBU') && l.includes('NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX')), 'a clear log line')
    const bce = (await m(2).maar.bindings()).find(e => e.mnId === mn)
    assert.equal(bce?.attached, true, 'the binding did not change')
  })

  it('an older PBU (timestamp) never overrides a newer one, whatever the arrival order', async () => {
    const mn = 'judy@dmm.example'
    await move(mn, 1)
    await move(mn, 2)
    const { buildPbu } = await import('../src/messages.js')
    const transport = m(3).maar.transport
    const { ack } = await transport.exchange({ peerId: m(1).maar.peerId, multiaddrs: m(1).maar.multiaddrs() }, buildPbu({
      mnId: mn, sequence: 1, lifetime: 3600, timestampMs: 1000, anchoredPrefixes: [], servingAddress: m(3).address
    }))
    assert.equal(ack.status, 157)
    const bce = (await m(1).maar.bindings()).find(e => e.mnId === mn)
    assert.equal(bce?.servingMaar?.address, m(2).address)
  })
})
