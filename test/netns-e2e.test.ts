/**
 * Issue 4 end to end: real `dmm maar` processes (Linux data plane: seg6 tunnels, radvd) in the
 * namespaces of scenarios/netns, the DHT between them, an MN that gets its addresses by SLAAC and
 * moves maar1 -> maar2 -> maar3 -> maar1. scenarios/netns/e2e.sh does every step (humans run its
 * `demo`, bench/netns-handover.ts its rounds); this test drives it step by step and checks
 * reachability from the CN, the anchors (attach reports, binding caches, tcpdump on the backbone
 * both ways), deprecated vs preferred addresses, and the first prefix native again at the end.
 * Without DLIF every MAAR shows the MN the same router (RFC 5213 §6.8), checked after each move.
 * The interruption of the steady 10 ms pings is printed, not asserted (speed goes in bench/).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { PMIP_ROUTER } from '@dmm-mesh/dataplane'
import { DMM_BIN as BIN, e2e, maarApi, planAccess } from './netns-e2e-script.js'
import type { AttachReport } from './netns-e2e-script.js'
import { defaultRouters, netnsSupport, reachable, routerNeighbour, slaac, tunnelCapture } from './netns-topology.js'

type Report = AttachReport

describe('dmm maar processes in network namespaces: an MN moves maar1 -> maar2 -> maar3 -> maar1', function () {
  this.timeout(180_000)
  const id = `e${randomBytes(4).toString('hex')}`
  let started = false
  let plan = new Map<string, string>()
  const interruptions: string[] = []
  const { get, ns, bb, sid, cn, cnNs } = planAccess(() => plan)
  const topo = { mn: { netns: `dmm-${id}-mn`, ifname: 'eth0' } }
  const addr: string[] = []

  before(async function () {
    const support = await netnsSupport(['seg6', 'radvd', 'tcpdump'])
    if (!support.ok) { console.log(`      skipped: ${support.reason ?? ''}`); this.skip() }
    if (!existsSync(BIN)) throw new Error(`${BIN} missing: build first (npx tsc -b)`)
    started = true
    plan = (await e2e(['up', id, '3'])).plan
  })

  after(async function () {
    if (started) await e2e(['down', id])
    if (interruptions.length > 0) console.log(`      interruption of a steady ping (10 ms), per handover:\n${interruptions.map(l => `        ${l}`).join('\n')}`)
  })

  /** Moves the MN with a steady ping from the CN to every address it has; prints the losses. */
  async function handover (to: number, from: number): Promise<Report> {
    const r = await e2e(['handover', id, String(to), ...addr])
    assert.ok(r.report !== undefined, r.stdout)
    for (const p of r.pings) {
      const line = `maar${from} -> maar${to}: ping ${p.dst}: ${p.lost} of ${p.sent} lost, outage ${p.outageMs} ms (kernel programming: serving ${r.report.programMs.toFixed(1)} ms)`
      interruptions.push(line)
      console.log(`      ${line}`)
    }
    assert.equal(r.pings.length, addr.length)
    if (process.env.DMM_E2E_DLIF === undefined || process.env.DMM_E2E_DLIF === '') await sameRouter()
    return r.report
  }

  /** RFC 5213 §6.8: one default router, the domain-wide link-local, resolved to the fixed MAC. */
  async function sameRouter (): Promise<void> {
    assert.deepEqual(await defaultRouters(topo), [PMIP_ROUTER.linkLocal])
    const neigh = await routerNeighbour(topo, PMIP_ROUTER.linkLocal)
    assert.match(neigh, new RegExp(`lladdr ${PMIP_ROUTER.mac} router`), neigh)
    assert.doesNotMatch(neigh, /FAILED|INCOMPLETE/, neigh)
  }

  const anchorsOf = (r: Report): Record<string, string> => Object.fromEntries(r.anchors.map(a => [a.prefix, `${a.anchor}${a.native ? ' native' : ''}`]))

  /** Tunnelled packets (outer next header 41) seen on a MAAR's backbone while `during` runs. */
  const captureAt = async (i: number, during: () => Promise<void>): Promise<string> => await tunnelCapture(ns(i), during)

  async function bindings (i: number): Promise<Array<{ mnId: string, attached: boolean, servingMaar?: { address: string } }>> {
    return await maarApi(id, i, 'GET', '/bindings')
  }

  it('first attach at maar1: the MN gets an address in maar1\'s pool by SLAAC and the CN reaches it natively', async () => {
    const r = await e2e(['attach', id, '1'])
    assert.equal(r.report?.kind, 'first-attach')
    const pref1 = r.report.localPrefix
    assert.ok(pref1.startsWith('2001:db8:1:'), pref1)
    assert.deepEqual(anchorsOf(r.report), { [pref1]: `${sid(1)} native` })
    addr.push(await slaac(topo, pref1, true))
    await reachable(cnNs(), addr[0]!)
    if (process.env.DMM_E2E_DLIF === undefined || process.env.DMM_E2E_DLIF === '') await reachable(topo.mn.netns, cn(), addr[0]!).then(sameRouter)
    const seen = await captureAt(1, async () => { await reachable(cnNs(), addr[0]!) })
    assert.equal(seen.trim(), '', 'no tunnel while the prefix is native')
  })

  it('handover to maar2: new prefix preferred, old one deprecated; both reachable, the old one through maar1', async () => {
    const r = await handover(2, 1)
    assert.equal(r.kind, 'handover')
    const [pref1, pref2] = [r.anchors.find(a => !a.native)!.prefix, r.localPrefix]
    assert.deepEqual(anchorsOf(r), { [pref2]: `${sid(2)} native`, [pref1]: sid(1) })
    assert.deepEqual(r.peers.map(p => [p.address, p.status]), [[sid(1), 'ACCEPTED']])
    addr.push(await slaac(topo, pref2, true))
    assert.equal(await slaac(topo, pref1, false), addr[0], 'the first address stays, deprecated')
    const [a1, a2] = [addr[0]!, addr[1]!]
    await reachable(cnNs(), a2)
    // Downlink: maar1 tunnels the first prefix to maar2's SID (RFC 5213 IPv6-in-IPv6).
    const down = await captureAt(2, async () => { await reachable(cnNs(), a1) })
    assert.match(down, new RegExp(`IP6 ${bb(1)} > ${sid(2)}: IP6 ${cn()} > ${a1}: ICMP6, echo request`), down)
    // Uplink: from the old address through maar1; from the new one natively.
    const up = await captureAt(1, async () => {
      await reachable(topo.mn.netns, cn(), a1)
      await reachable(topo.mn.netns, cn(), a2)
    })
    assert.match(up, new RegExp(`IP6 ${bb(2)} > ${sid(1)}: IP6 ${a1} > ${cn()}: ICMP6, echo request`), up)
    assert.doesNotMatch(up, new RegExp(`IP6 ${a2} >`), up)
  })

  it('handover to maar3: every old address reachable through its own anchor, both ways', async () => {
    const r = await handover(3, 2)
    assert.equal(r.kind, 'handover')
    const pref3 = r.localPrefix
    const old = r.anchors.filter(a => !a.native).map(a => [a.prefix, a.anchor]).sort()
    assert.deepEqual(old.map(([, at]) => at), [sid(1), sid(2)], JSON.stringify(r.anchors))
    assert.deepEqual(r.peers.map(p => p.status), ['ACCEPTED', 'ACCEPTED'])
    addr.push(await slaac(topo, pref3, true))
    const [a1, a2, a3] = [addr[0]!, addr[1]!, addr[2]!]
    for (const [prefix] of old) await slaac(topo, prefix!, false)
    for (const a of [a3, a1, a2]) await reachable(cnNs(), a)
    const down = await captureAt(3, async () => {
      await reachable(cnNs(), a1)
      await reachable(cnNs(), a2)
      await reachable(cnNs(), a3)
    })
    assert.match(down, new RegExp(`IP6 ${bb(1)} > ${sid(3)}: IP6 ${cn()} > ${a1}: ICMP6, echo request`), down)
    assert.match(down, new RegExp(`IP6 ${bb(2)} > ${sid(3)}: IP6 ${cn()} > ${a2}: ICMP6, echo request`), down)
    assert.doesNotMatch(down, new RegExp(`> ${a3}:`), down)
    const up1 = await captureAt(1, async () => { await reachable(topo.mn.netns, cn(), a1) })
    assert.match(up1, new RegExp(`IP6 ${bb(3)} > ${sid(1)}: IP6 ${a1} > ${cn()}: ICMP6, echo request`), up1)
    const up2 = await captureAt(2, async () => { await reachable(topo.mn.netns, cn(), a2) })
    assert.match(up2, new RegExp(`IP6 ${bb(3)} > ${sid(2)}: IP6 ${a2} > ${cn()}: ICMP6, echo request`), up2)
    // Both anchors know maar3 serves the MN (the P-MAAR side of the PBA).
    for (const i of [1, 2]) {
      const bce = (await bindings(i)).find(e => e.mnId === get('MN_ID'))
      assert.equal(bce?.attached, false)
      assert.equal(bce?.servingMaar?.address, sid(3))
    }
  })

  it('back at maar1: the first prefix is native and preferred again, the others anchored at maar2 and maar3', async () => {
    const r = await handover(1, 3)
    assert.equal(r.kind, 'return')
    const [a1, a2, a3] = [addr[0]!, addr[1]!, addr[2]!]
    const byAnchor = Object.fromEntries(r.anchors.map(a => [a.anchor, a]))
    assert.equal(byAnchor[sid(1)]?.native, true)
    assert.equal(byAnchor[sid(2)]?.native, false)
    assert.equal(byAnchor[sid(3)]?.native, false)
    assert.equal(await slaac(topo, byAnchor[sid(1)]!.prefix, true), a1, 'the first address is preferred again')
    assert.equal(await slaac(topo, byAnchor[sid(2)]!.prefix, false), a2)
    assert.equal(await slaac(topo, byAnchor[sid(3)]!.prefix, false), a3)
    for (const a of [a1, a2, a3]) await reachable(cnNs(), a)
    const seen = await captureAt(1, async () => {
      await reachable(cnNs(), a1)
      await reachable(cnNs(), a3)
      await reachable(topo.mn.netns, cn(), a1)
    })
    assert.doesNotMatch(seen, new RegExp(`${a1}`), `the first prefix is not tunnelled any more:\n${seen}`)
    assert.match(seen, new RegExp(`IP6 ${bb(3)} > ${sid(1)}: IP6 ${cn()} > ${a3}: ICMP6, echo request`), seen)
    const bce = (await bindings(1)).find(e => e.mnId === get('MN_ID'))
    assert.equal(bce?.attached, true)
  })
})
