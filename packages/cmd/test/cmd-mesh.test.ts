/**
 * The partially distributed mode end to end (draft-bernardos-dmm-pmip §3, RFC 8885 §3): a CMD and
 * four MAARs in one process per mode, real libp2p and LevelDB, the in-memory data plane traced
 * hop by hop; the movement set of the DHT mesh test (packages/maar/test/mesh.test.ts), and for
 * each step who sent which PBU/PBA to whom.
 */
import assert from 'node:assert/strict'
import { parsePrefix, prefixContains } from '@dmm-mesh/wire'
import type { CmdMode } from '../src/index.js'
import { CMD_ADDRESS, createCmdDomain } from './cmd-fixture.js'
import type { CmdDomain, Seen } from './cmd-fixture.js'

async function eventually (what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** The messages as "KIND from > to", sorted: the order two peers record them in is not the order on the wire. */
const flow = (seen: Seen[]): string[] => seen.map(s => `${s.kind} ${s.from} > ${s.to}`).sort()

for (const mode of ['relay', 'locator', 'proxy'] as CmdMode[]) {
  describe(`CMD in ${mode} mode with 4 MAARs (one process, real libp2p + LevelDB)`, function () {
    this.timeout(120_000)
    let d: CmdDomain
    before(async () => { d = await createCmdDomain({ mode, count: 4 }) })
    after(async () => { await d?.stop() })

    const addr = (i: number): string => d.m(i).address

    /** Every address of the MN reaches it from the CN through its prefix's anchor, and back. */
    function assertReachable (mnId: string, expected: Map<string, string>): void {
      const addresses = d.mesh.network.mnAddresses(mnId)
      assert.equal(addresses.length, expected.size, `one address per prefix: ${addresses.join(', ')}`)
      for (const address of addresses) {
        const [prefix, anchor] = [...expected].find(([p]) => prefixContains(parsePrefix(p), address)) ?? []
        assert.ok(prefix !== undefined && anchor !== undefined, `${address} belongs to a known prefix`)
        const down = d.mesh.network.traceFromCn(address)
        assert.ok(down.delivered, `CN -> ${address}: ${down.hops.join(' > ')} (${down.reason ?? ''})`)
        assert.equal(down.hops[1], anchor, `CN -> ${address} enters at ${anchor}: ${down.hops.join(' > ')}`)
        const up = d.mesh.network.traceFromMn(mnId, address)
        assert.ok(up.delivered && up.hops.includes(anchor), `${address} -> CN through ${anchor}: ${up.hops.join(' > ')}`)
      }
    }

    /** Locator mode completes when the P-MAARs' own PBAs arrive; the others at once. */
    async function complete (mnId: string, i: number): Promise<void> {
      await eventually(`${mnId} complete at maar${i}`, async () => {
        const e = (await d.m(i).maar.bindings()).find(x => x.mnId === mnId)
        return e !== undefined && e.remoteAnchors.every(a => a.pendingUntil === undefined)
      })
      await d.cmd.cmd.settled()
    }

    it('first attach: one PBU to the CMD, a plain PBA back, the session stored', async () => {
      const mark = d.recorder.mark()
      const r = await d.move('alice@dmm.example', 1)
      assert.equal(r.kind, 'first-attach')
      assert.deepEqual(flow(d.recorder.sent('alice@dmm.example', mark)), [`PBA ${CMD_ADDRESS} > ${addr(1)}`, `PBU ${addr(1)} > ${CMD_ADDRESS}`])
      const s = d.cmd.cmd.session('alice@dmm.example')
      assert.equal(s?.serving.address, addr(1))
      assert.deepEqual(s?.anchors.map(a => [a.ref.address, a.prefixes]), [[addr(1), [r.localPrefix]]])
      assertReachable('alice@dmm.example', new Map([[r.localPrefix, 'maar1']]))
    })

    it('a handover: the S-MAAR signals only the CMD; the messages follow the mode', async () => {
      const mn = 'bob@dmm.example'
      const r1 = await d.move(mn, 1)
      const mark = d.recorder.mark()
      const r2 = await d.move(mn, 2)
      assert.equal(r2.kind, 'handover')
      // Complete when the attach returns in every mode: in locator mode maar2 waits for maar1's own
      // PBA (draft §3.3) before it answers, as the relay CMD waits for it (§3.2).
      assert.deepEqual([r2.complete, r2.peers.map(p => [p.address, p.status])], [true, [[addr(1), 'ACCEPTED']]])
      await complete(mn, 2)
      const sent = d.recorder.sent(mn, mark)
      // The serving MAAR sends exactly one PBU, to the CMD, and gets the CMD's PBA naming maar1.
      assert.deepEqual(flow(sent.filter(s => s.from === addr(2))), [`PBU ${addr(2)} > ${CMD_ADDRESS}`])
      const fromCmd = sent.filter(s => s.from === CMD_ADDRESS && s.to === addr(2))
      assert.equal(fromCmd.length, 1)
      assert.deepEqual(fromCmd[0]?.pba?.referrals.map(p => [p.address, p.prefixes, p.pending ?? false]), [[addr(1), [r1.localPrefix], mode === 'locator']])
      // The CMD forwards one PBU to maar1 with the Serving MAAR option and maar2's locator.
      const relayed = sent.filter(s => s.kind === 'PBU' && s.from === CMD_ADDRESS)
      assert.deepEqual(flow(relayed), [`PBU ${CMD_ADDRESS} > ${addr(1)}`])
      assert.equal(relayed[0]?.pbu?.servingAddress, addr(2))
      assert.equal(relayed[0]?.pbu?.servingLocator?.peerId, d.m(2).maar.peerId)
      assert.equal(relayed[0]?.pbu?.answerServingMaar ?? false, mode === 'locator')
      // maar1 answers the CMD; in locator mode it also answers maar2 directly.
      const fromP = flow(sent.filter(s => s.from === addr(1)))
      assert.deepEqual(fromP.sort(), (mode === 'locator' ? [`PBA ${addr(1)} > ${CMD_ADDRESS}`, `PBA ${addr(1)} > ${addr(2)}`] : [`PBA ${addr(1)} > ${CMD_ADDRESS}`]).sort())
      assertReachable(mn, new Map([[r1.localPrefix, 'maar1'], [r2.localPrefix, 'maar2']]))
      const anchor = (await d.m(1).maar.bindings()).find(e => e.mnId === mn)
      assert.equal(anchor?.servingMaar?.address, addr(2))
      assert.equal(anchor?.expiresAt, undefined, 'the anchor stops its timer: only the serving MAAR de-registers (draft §3.5 a)')
      assert.equal(d.cmd.cmd.session(mn)?.serving.address, addr(2))
    })

    it('a chain across 4 MAARs: 4 prefixes, each reachable through its anchor', async () => {
      const mn = 'carol@dmm.example'
      const reports = []
      for (const i of [1, 2, 3, 4]) {
        reports.push(await d.move(mn, i))
        await complete(mn, i)
      }
      assert.deepEqual(reports.map(r => r.kind), ['first-attach', 'handover', 'handover', 'handover'])
      assert.deepEqual(reports.map(r => r.complete), [true, true, true, true])
      const last = (await d.m(4).maar.bindings()).find(e => e.mnId === mn)
      assert.equal(last?.remoteAnchors.length, 3)
      assertReachable(mn, new Map(reports.map((r, i) => [r.localPrefix, `maar${i + 1}`])))
      assert.deepEqual(d.cmd.cmd.session(mn)?.anchors.map(a => a.ref.address).sort(), [1, 2, 3, 4].map(addr).sort())
      // The session record is published to the DHT in every mode (a switch of mode loses nothing).
      await d.m(4).maar.settled()
      const record = await d.m(1).maar.lookupSession(mn)
      assert.equal(record?.serving?.address, addr(4))
      assert.deepEqual(record?.anchors.map(a => a.prefix).sort(), reports.map(r => r.localPrefix).sort())
    })

    it('a return to the first MAAR: native again, the other prefix through its anchor', async () => {
      const mn = 'dave@dmm.example'
      const a = await d.move(mn, 1)
      const b = await d.move(mn, 2)
      await complete(mn, 2)
      const c = await d.move(mn, 1)
      await complete(mn, 1)
      assert.equal(c.kind, 'return')
      assert.equal(c.localPrefix, a.localPrefix)
      assertReachable(mn, new Map([[a.localPrefix, 'maar1'], [b.localPrefix, 'maar2']]))
      assert.equal(d.cmd.cmd.session(mn)?.serving.address, addr(1))
    })

    it('two MNs moving at once each end with the right anchors', async () => {
      const [e1, f1] = await Promise.all([d.move('erin@dmm.example', 3), d.move('frank@dmm.example', 4)])
      const [e2, f2] = await Promise.all([d.move('erin@dmm.example', 4), d.move('frank@dmm.example', 3)])
      await Promise.all([complete('erin@dmm.example', 4), complete('frank@dmm.example', 3)])
      assert.deepEqual([e2.kind, f2.kind], ['handover', 'handover'])
      assertReachable('erin@dmm.example', new Map([[e1.localPrefix, 'maar3'], [e2.localPrefix, 'maar4']]))
      assertReachable('frank@dmm.example', new Map([[f1.localPrefix, 'maar4'], [f2.localPrefix, 'maar3']]))
    })

    it('de-registration (draft §3.5 a): the serving MAAR frees every prefix and the CMD ends the session', async () => {
      const mn = 'heidi@dmm.example'
      await d.move(mn, 2)
      await d.move(mn, 3)
      await complete(mn, 3)
      const outcomes = await d.m(3).maar.deregister(mn)
      assert.deepEqual(outcomes.map(o => [o.address, o.status]), [[addr(2), 'ACCEPTED']])
      for (const i of [2, 3]) {
        assert.equal((await d.m(i).maar.bindings()).find(e => e.mnId === mn), undefined, `maar${i} holds no binding`)
        assert.ok(![...(await d.m(i).cache.allocations()).values()].includes(mn), `maar${i} released the prefix`)
      }
      assert.equal(d.cmd.cmd.session(mn), undefined, 'the CMD forgot the session')
      const again = await d.move(mn, 4)
      assert.equal(again.kind, 'first-attach')
    })
  })
}
