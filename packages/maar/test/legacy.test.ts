/**
 * Legacy PMIPv6 (draft-bernardos-dmm-pmip Appendix A.5, RFC 5213) on the same MAARs: maar1 is the
 * LMA, maar2..maar5 only MAGs. The movement set of the DHT mesh test (mesh.test.ts), with, for
 * every move, the PBU/PBA exchanged (who to whom) and the forwarding traced hop by hop: the MN
 * keeps one prefix, from the LMA's pool, and traffic always goes CN > LMA > tunnel > MAG > MN.
 * Real libp2p, real LevelDB, the in-memory data plane.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parsePrefix, prefixContains } from '@dmm-mesh/wire'
import type { BindingAck, BindingUpdate } from '@dmm-mesh/wire'
import { AttachDeferredError, createLocalMesh, legacyLocalDomain, maarPlan, readPba, readPbu } from '../src/index.js'
import type { HandoverReport, LocalMaar, LocalMesh, MessageCapture } from '../src/index.js'

const LL = '02:00:00:00:00:01'
const name = (address: string): string => `maar${parseInt(address.split('::').at(-1) ?? '0', 16)}`

/** One message as its sender recorded it: "PBU maar2 > maar1". */
interface Seen { line: string, mnId: string, referrals: string[] }

describe('legacy PMIPv6: maar1 the LMA, maar2..5 MAGs (one process, real libp2p + LevelDB)', function () {
  this.timeout(120_000)
  let dir: string
  let mesh: LocalMesh
  const seen: Seen[] = []

  const capture = (self: string): MessageCapture => ({
    record: (message: BindingUpdate | BindingAck, from: string, to: string) => {
      if (from !== self) return
      if (message.kind === 'binding-update') seen.push({ line: `PBU ${name(from)} > ${name(to)}`, mnId: readPbu(message).mnId, referrals: [] })
      else {
        const pba = readPba(message)
        seen.push({ line: `PBA ${name(from)} > ${name(to)}`, mnId: pba.mnId, referrals: pba.referrals.map(r => name(r.address)) })
      }
    },
    close: () => {}
  })

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-legacy-test-'))
    mesh = await createLocalMesh({
      count: 5, dataDir: dir, signalling: legacyLocalDomain(), observe: n => ({ capture: capture(maarPlan(Number(n.replace('maar', ''))).address) })
    })
  })
  after(async () => {
    await mesh?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const m = (i: number): LocalMaar => {
    const found = mesh.maars.find(x => x.name === `maar${i}`)
    assert.ok(found, `maar${i} is running`)
    return found
  }
  const lma = (): LocalMaar => m(1)

  /** The MN's link comes up at maarN; returns the report and the messages of the move, sorted. */
  async function move (mnId: string, i: number): Promise<{ r: HandoverReport, flow: string[] }> {
    const mark = seen.length
    mesh.network.attachMn(mnId, m(i).address)
    const r = await m(i).maar.attach({ mnId, accessLink: 'access0', linkLayerId: LL })
    await m(i).maar.settled()
    return { r, flow: seen.slice(mark).filter(s => s.mnId === mnId).map(s => s.line).sort() }
  }

  async function bindingsOf (mnId: string): Promise<Map<string, { attached: boolean, local: string[], remote: string[], serving?: string }>> {
    const out = new Map<string, { attached: boolean, local: string[], remote: string[], serving?: string }>()
    for (const x of mesh.maars) {
      const e = (await x.maar.bindings()).find(b => b.mnId === mnId)
      if (e !== undefined) out.set(x.name, { attached: e.attached, local: e.localPrefixes, remote: e.remoteAnchors.map(a => `${a.prefix}@${name(a.address)}`), ...(e.servingMaar !== undefined ? { serving: name(e.servingMaar.address) } : {}) })
    }
    return out
  }

  /**
   * The MN holds exactly one address, from the LMA's pool, preferred; the CN reaches it through
   * the LMA and, when the MN is at a MAG, the LMA's tunnel to it; the uplink goes back the same way.
   */
  function assertThroughLma (mnId: string, at: number): string {
    const info = mesh.network.mnAddressInfo(mnId)
    assert.equal(info.length, 1, `one address: ${JSON.stringify(info)}`)
    const [only] = info
    assert.ok(only !== undefined)
    assert.ok(prefixContains(parsePrefix(lma().pool), parsePrefix(only.prefix)), `${only.prefix} from the LMA's pool ${lma().pool}`)
    assert.equal(only.anchor, lma().address)
    assert.equal(only.preferred, true, 'the home network prefix is the only one: preferred')
    const down = mesh.network.traceFromCn(only.address)
    const up = mesh.network.traceFromMn(mnId, only.address)
    const expected = at === 1 ? ['CN', 'maar1', `mn:${mnId}`] : ['CN', 'maar1', `tunnel->maar${at}`, `maar${at}`, `mn:${mnId}`]
    assert.deepEqual(down.hops, expected, `CN -> MN: ${down.hops.join(' > ')} (${down.reason ?? ''})`)
    assert.ok(down.delivered)
    assert.ok(up.delivered, `MN -> CN: ${up.hops.join(' > ')} (${up.reason ?? ''})`)
    assert.deepEqual(up.hops.slice(0, at === 1 ? 2 : 4), at === 1 ? [`mn:${mnId}`, 'maar1'] : [`mn:${mnId}`, `maar${at}`, 'tunnel->maar1', 'maar1'], `MN -> CN: ${up.hops.join(' > ')}`)
    return only.prefix
  }

  it('first attach at a MAG: one PBU to the LMA, which delegates the prefix from its pool and tunnels it', async () => {
    const mn = 'alice@dmm.example'
    const { r, flow } = await move(mn, 2)
    assert.equal(r.kind, 'first-attach')
    assert.deepEqual(flow, ['PBA maar1 > maar2', 'PBU maar2 > maar1'])
    const hnp = assertThroughLma(mn, 2)
    assert.deepEqual(r.anchors.map(a => [a.prefix, a.anchor, a.native]), [[hnp, lma().address, false]])
    assert.deepEqual(await bindingsOf(mn), new Map([
      ['maar1', { attached: false, local: [hnp], remote: [], serving: 'maar2' }],
      ['maar2', { attached: true, local: [], remote: [`${hnp}@maar1`] }]
    ]))
    assert.equal((await lma().cache.allocations()).get(hnp), mn, 'the LMA holds the allocation')
    assert.equal((await m(2).cache.allocations()).size, 0, 'a MAG delegates nothing')
  })

  it('a handover between MAGs: same prefix, the LMA re-points its tunnel and names the old MAG, which drops its uplink', async () => {
    const mn = 'bob@dmm.example'
    const first = await move(mn, 2)
    const hnp = assertThroughLma(mn, 2)
    const mark = seen.length
    const { r, flow } = await move(mn, 3)
    assert.equal(first.r.kind, 'first-attach')
    assert.equal(r.kind, 'handover')
    assert.deepEqual(flow, ['PBA maar1 > maar3', 'PBA maar2 > maar3', 'PBU maar3 > maar1', 'PBU maar3 > maar2'])
    assert.deepEqual(seen.slice(mark).find(s => s.mnId === mn && s.line === 'PBA maar1 > maar3')?.referrals, ['maar2'], 'the LMA names the previous MAG')
    assert.equal(assertThroughLma(mn, 3), hnp)
    assert.deepEqual(await bindingsOf(mn), new Map([
      ['maar1', { attached: false, local: [hnp], remote: [], serving: 'maar3' }],
      ['maar3', { attached: true, local: [], remote: [`${hnp}@maar1`] }]
    ]))
  })

  it('a chain across 4 MAGs keeps one prefix, always through the LMA', async () => {
    const mn = 'carol@dmm.example'
    let hnp: string | undefined
    let sequence = 0
    for (const i of [2, 3, 4, 5]) {
      const { r } = await move(mn, i)
      assert.equal(r.kind, i === 2 ? 'first-attach' : 'handover')
      // Session records are published in every mode: each MAG's replaces the one before.
      assert.ok(r.sessionSequence > sequence, `session sequence ${r.sessionSequence} above ${sequence}`)
      sequence = r.sessionSequence
      assert.equal((await m(i).maar.lookupSession(mn))?.serving?.address, m(i).address, 'the DHT record names the serving MAG')
      const now = assertThroughLma(mn, i)
      hnp ??= now
      assert.equal(now, hnp, 'the home network prefix never changes')
      assert.deepEqual([...(await bindingsOf(mn)).keys()], ['maar1', `maar${i}`], 'only the LMA and the serving MAG hold state')
    }
  })

  it('an attach at the LMA itself is native; back at a MAG and home again, the MAG\'s uplink goes', async () => {
    const mn = 'dave@dmm.example'
    const home = await move(mn, 1)
    assert.equal(home.r.kind, 'first-attach')
    assert.deepEqual(home.flow, [], 'nothing to signal at the LMA')
    const hnp = assertThroughLma(mn, 1)
    assert.deepEqual(home.r.anchors.map(a => [a.prefix, a.native]), [[hnp, true]])
    const away = await move(mn, 4)
    assert.equal(away.r.kind, 'handover')
    assert.deepEqual(away.flow, ['PBA maar1 > maar4', 'PBU maar4 > maar1'])
    assert.equal(assertThroughLma(mn, 4), hnp)
    const back = await move(mn, 1)
    assert.equal(back.r.kind, 'return')
    assert.deepEqual(back.flow, ['PBA maar4 > maar1', 'PBU maar1 > maar4'])
    assert.equal(assertThroughLma(mn, 1), hnp)
    assert.deepEqual(await bindingsOf(mn), new Map([['maar1', { attached: true, local: [hnp], remote: [] }]]))
  })

  it('an MN that returns to the MAG of its first attach keeps its prefix, through the LMA', async () => {
    const mn = 'erin@dmm.example'
    await move(mn, 3)
    const hnp = assertThroughLma(mn, 3)
    await move(mn, 5)
    const back = await move(mn, 3)
    assert.equal(back.r.kind, 'handover')
    assert.equal(assertThroughLma(mn, 3), hnp)
    assert.deepEqual([...(await bindingsOf(mn)).keys()], ['maar1', 'maar3'])
  })

  it('two MNs moving at once each end at their MAG, through the LMA', async () => {
    const [f1, g1] = await Promise.all([move('frank@dmm.example', 2), move('grace@dmm.example', 4)])
    const [f, g] = [assertThroughLma('frank@dmm.example', 2), assertThroughLma('grace@dmm.example', 4)]
    assert.notEqual(f, g, 'two MNs, two prefixes')
    await Promise.all([move('frank@dmm.example', 4), move('grace@dmm.example', 2)])
    assert.equal(f1.r.kind, 'first-attach')
    assert.equal(g1.r.kind, 'first-attach')
    assert.equal(assertThroughLma('frank@dmm.example', 4), f)
    assert.equal(assertThroughLma('grace@dmm.example', 2), g)
  })

  it('de-registration at a MAG: a lifetime-0 PBU frees the prefix at the LMA; nobody keeps state', async () => {
    const mn = 'heidi@dmm.example'
    await move(mn, 2)
    await move(mn, 5)
    const hnp = assertThroughLma(mn, 5)
    const mark = seen.length
    const outcomes = await m(5).maar.deregister(mn)
    assert.deepEqual(outcomes.map(o => [o.address, o.status, o.prefixes]), [[lma().address, 'ACCEPTED', [hnp]]])
    assert.deepEqual(seen.slice(mark).filter(s => s.mnId === mn).map(s => s.line).sort(), ['PBA maar1 > maar5', 'PBU maar5 > maar1'])
    assert.equal((await bindingsOf(mn)).size, 0)
    assert.equal((await lma().cache.allocations()).get(hnp), undefined, 'the prefix is back in the LMA\'s pool')
    assert.ok(!mesh.network.traceFromCn(`${hnp.split('/')[0] ?? ''}1`).delivered, 'the prefix is routed nowhere')
  })

  it('with the LMA down a MAG defers the attach, naming the LMA; once the LMA is back the same MN registers', async () => {
    const mn = 'ivan@dmm.example'
    const lmaPeer = lma().maar.peerId
    await mesh.stopMaar(0)
    try {
      mesh.network.attachMn(mn, m(2).address)
      await assert.rejects(m(2).maar.attach({ mnId: mn, accessLink: 'access0', linkLayerId: LL }), (err: unknown) => {
        assert.ok(err instanceof AttachDeferredError, String(err))
        assert.match(err.message, new RegExp(`LMA ${lmaPeer} did not answer`))
        return true
      })
      assert.equal(await (await m(2).maar.bindings()).find(e => e.mnId === mn), undefined, 'no half registration left at the MAG')
    } finally {
      await mesh.restartMaar(0)
    }
    const { r } = await move(mn, 2)
    assert.equal(r.kind, 'first-attach')
    assertThroughLma(mn, 2)
  })
})
