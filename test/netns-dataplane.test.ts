/**
 * The Linux data plane on the real kernel: namespaces cn, maar1..3, mn (scenarios/netns), one
 * LinuxDataPlane (seg6, radvd) per MAAR namespace, no dmm process. We apply the states a
 * handover produces and check with real pings from the CN, SLAAC addresses the MN got from the
 * radvd RAs (preferred / deprecated), and tcpdump on the backbone for the tunnel path.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ExecRunner, LinuxDataPlane, PMIP_ROUTER, dlifMac, eui64LinkLocal, routerDevice } from '@dmm-mesh/dataplane'
import type { CommandRunner, DataPlaneState, LinuxDataPlaneOptions } from '@dmm-mesh/dataplane'
import { createTopology, defaultRouters, eventually, inNetns, mustRun, netnsSupport, pingOnce, reachable, routerNeighbour, run, slaac, tunnelCapture } from './netns-topology.js'
import type { MaarNode, NetnsTopology } from './netns-topology.js'

const MN = 'mn@dmm.example'
const PREF1 = '2001:db8:1:1::/64'
const PREF2 = '2001:db8:2:1::/64'

/** The rules of ours (protocol 213) on a MAAR's backbone, as `ip -6 rule show` prints them, sorted. */
async function backboneRules (m: MaarNode): Promise<string[]> {
  const rules = (await inNetns(m.netns, ['ip', '-6', 'rule', 'show'])).stdout.split('\n').filter(l => l.includes('proto 213') && l.includes(' iif bb0 '))
  return rules.map(l => l.replace(/\s+/g, ' ').trim()).sort()
}

/**
 * The access-side rules of ours on a MAAR (into the uplink table, tableBase - 2: 998, plan.ts
 * planMns), as `ip -6 rule show` prints them, sorted.
 */
async function accessRules (m: MaarNode): Promise<string[]> {
  const rules = (await inNetns(m.netns, ['ip', '-6', 'rule', 'show'])).stdout.split('\n').filter(l => l.includes('proto 213') && !l.includes(' iif bb0 '))
  return rules.map(l => l.replace(/\s+/g, ' ').trim()).sort()
}

/** The backbone rules a MAAR holds whatever its MNs (plan.ts planOwn; 999 is the served table, tableBase - 1). */
function ownBackboneRules (m: MaarNode): string[] {
  return [
    `1000: from all to ${m.sid} iif bb0 lookup main proto 213`,
    '1000: from all iif bb0 ipproto ipv6 lookup main proto 213',
    '1000: from all iif bb0 lookup 999 proto 213',
    `1000: from all to ${m.pool} iif bb0 lookup main proto 213`,
    `1000: from ${m.pool} iif bb0 lookup main proto 213`,
    '1001: from all iif bb0 unreachable proto 213'
  ].sort()
}

/** A topology with one started LinuxDataPlane (seg6, radvd) per MAAR namespace, no dmm process. */
class DriverBench {
  topo: NetnsTopology | undefined
  runDir: string | undefined
  readonly dp: LinuxDataPlane[] = []
  private extra: Partial<LinuxDataPlaneOptions> = {}

  async up (maars: number, extra: Partial<LinuxDataPlaneOptions>): Promise<void> {
    this.topo = await createTopology({ maars })
    this.runDir = await mkdtemp(join(tmpdir(), 'dmm-netns-'))
    this.extra = extra
    for (const m of this.topo.maars) this.dp.push(await this.started(m))
  }

  /** A fresh driver for maar `i` (1-based) in place of the running one, as after a restart or an upgrade. */
  async restart (i: number, runner?: CommandRunner): Promise<LinuxDataPlane> {
    const d = await this.started(this.topo!.maars[i - 1]!, runner)
    this.dp[i - 1] = d
    return d
  }

  private async started (m: MaarNode, runner?: CommandRunner): Promise<LinuxDataPlane> {
    const d = new LinuxDataPlane({ tunnelKind: 'seg6', tunnelAddress: m.sid, backboneInterface: 'bb0', ownPools: [m.pool], netns: m.netns, radvd: { enabled: true, runDir: this.runDir! }, name: `maar${m.index}`, ...this.extra, ...(runner !== undefined ? { runner } : {}) })
    await d.start()
    return d
  }

  /** Flushes every driver and removes the namespaces, whatever state the test left. */
  async down (): Promise<void> {
    for (const d of this.dp) await d.stop({ flush: true }).catch(() => {})
    await this.topo?.destroy()
    if (this.runDir !== undefined) await rm(this.runDir, { recursive: true, force: true })
  }
}

/**
 * The kernel sends a destination at most one ICMPv6 error a second after a small burst
 * (net.ipv6.icmp.ratelimit): a test that asserts the error a MAAR answers with must not depend on
 * how many the tests before it drew.
 */
async function noIcmpRateLimit (netns: string): Promise<void> {
  await mustRun(['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv6.icmp.ratelimit=0'])
}

describe('Linux data plane in network namespaces (seg6 + radvd)', function () {
  this.timeout(120_000)
  const bench = new DriverBench()
  const dp = bench.dp
  let topo: NetnsTopology | undefined
  const S = (i: number): string => topo!.maars[i - 1]!.sid

  before(async function () {
    const support = await netnsSupport(['seg6', 'radvd', 'tcpdump'])
    if (!support.ok) { console.log(`      skipped: ${support.reason}`); this.skip() }
    await bench.up(3, {})
    topo = bench.topo
  })

  after(async () => { await bench.down() })

  const mnLink = () => ({ mnId: MN, accessLink: 'acc0', linkLayerId: topo!.mn.mac })
  const none = (): DataPlaneState => ({ local: [], downlinks: [], uplinks: [], advertisements: [] })
  const attached = (self: number, local: string, anchored: Array<[string, number]>): DataPlaneState => ({
    local: [{ ...mnLink(), prefix: local }],
    downlinks: [],
    uplinks: anchored.map(([prefix, at]) => ({ mnId: MN, prefix, remote: S(at), accessLink: 'acc0' })),
    advertisements: [{ ...mnLink(), prefixes: [{ prefix: local, preferred: true, anchor: S(self) }, ...anchored.map(([prefix, at]) => ({ prefix, preferred: false, anchor: S(at) }))] }]
  })
  const anchoring = (prefix: string, servingAt: number): DataPlaneState => ({ ...none(), downlinks: [{ mnId: MN, prefix, remote: S(servingAt) }] })

  let addr1 = ''
  let addr2 = ''

  it('MN on maar1 gets an address in Pref1 from the RA and the CN reaches it natively', async () => {
    await dp[0]!.apply(attached(1, PREF1, []))
    addr1 = await slaac(topo!, PREF1, true)
    await reachable(topo!.cn.netns, addr1)
    // RFC 5213 §6.8 without DLIF: the router the MN learns is the domain-wide one (RFC 6543).
    assert.deepEqual(await defaultRouters(topo!), [PMIP_ROUTER.linkLocal])
  })

  it('after the handover to maar2: Pref1 deprecated, Pref2 preferred, both reachable; Pref1 tunnelled maar1 -> maar2', async () => {
    await topo!.moveMn(2)
    // Anchor first, then the serving MAAR (the order of PBA then local programming).
    await dp[0]!.apply(anchoring(PREF1, 2))
    await dp[1]!.apply(attached(2, PREF2, [[PREF1, 1]]))
    addr2 = await slaac(topo!, PREF2, true)
    assert.equal(await slaac(topo!, PREF1, false), addr1, 'the old address stays, deprecated (preferred lifetime 0)')
    // Same router on maar2: one default route, via the same link-local, resolved to the same MAC.
    assert.deepEqual(await defaultRouters(topo!), [PMIP_ROUTER.linkLocal])
    await reachable(topo!.mn.netns, topo!.cn.address, addr2)
    const neigh = await routerNeighbour(topo!, PMIP_ROUTER.linkLocal)
    assert.match(neigh, new RegExp(`lladdr ${PMIP_ROUTER.mac} router`), neigh)
    assert.doesNotMatch(neigh, /FAILED|INCOMPLETE/, neigh)
    await reachable(topo!.cn.netns, addr2)
    await reachable(topo!.cn.netns, addr1)
    const down = await tunnelCapture(topo!.maars[1]!.netns, async () => { await reachable(topo!.cn.netns, addr1) })
    assert.match(down, new RegExp(`IP6 ${topo!.maars[0]!.address} > ${S(2)}: IP6 ${topo!.cn.address} > ${addr1}: ICMP6, echo request`), down)
  })

  it('uplink from Pref1 leaves maar2 through the tunnel to maar1; Pref2 traffic does not', async () => {
    const cn = topo!.cn.address
    const up = await tunnelCapture(topo!.maars[0]!.netns, async () => {
      await reachable(topo!.mn.netns, cn, addr1)
      await reachable(topo!.mn.netns, cn, addr2)
    })
    assert.match(up, new RegExp(`IP6 ${topo!.maars[1]!.address} > ${S(1)}: IP6 ${addr1} > ${cn}: ICMP6, echo request`), up)
    assert.doesNotMatch(up, new RegExp(`IP6 ${addr2} >`), up)
  })

  it('maar2 sends Pref1\'s uplink into maar1\'s tunnel by a source-specific route in its uplink table, looked up by one rule per access-side device that names no MN', async () => {
    const maar2 = topo!.maars[1]!
    // doc/ARCHITECTURE.md "What a MAAR forwards from its backbone": the same rules with 1 MN
    // served for another anchor as with 10,000.
    assert.deepEqual(await accessRules(maar2), [
      '1000: from all iif acc0 lookup 998 proto 213',
      `1000: from all iif ${routerDevice('acc0', PMIP_ROUTER)} lookup 998 proto 213`
    ].sort())
    const table = (await inNetns(maar2.netns, ['ip', '-6', 'route', 'show', 'table', '998'])).stdout.trim()
    assert.match(table, new RegExp(`^default from ${PREF1.replace(/[.:/]/g, '\\$&')}\\s+encap seg6 mode encap\\.red segs 1 \\[ ${S(1)} \\] dev bb0 proto 213`), table)
    assert.equal(table.split('\n').length, 1, table)
  })

  it('a MAAR upgraded in place from per-MN uplink tables: its first apply moves the uplink into the one table and removes the old rules and table, and the MN\'s uplink still reaches the CN through its anchor', async () => {
    const maar2 = topo!.maars[1]!
    const R = routerDevice('acc0', PMIP_ROUTER)
    const cn = topo!.cn.address
    // What the previous version programmed on maar2 for Pref1: a table of its own (tableBase,
    // 1000) and a rule per interface the MN sends from.
    const old = await run(['ip', '-n', maar2.netns, '-6', '-batch', '-'], [
      `route replace default encap seg6 mode encap.red segs ${S(1)} dev bb0 table 1000 proto 213`,
      `rule add from ${PREF1} iif acc0 table 1000 priority 1000 protocol 213`,
      `rule add from ${PREF1} iif ${R} table 1000 priority 1000 protocol 213`,
      'rule del from all iif acc0 table 998 priority 1000',
      `rule del from all iif ${R} table 998 priority 1000`,
      `route del default from ${PREF1} table 998 proto 213`
    ].join('\n') + '\n')
    assert.equal(old.code, 0, old.stderr)
    assert.deepEqual(await accessRules(maar2), [`1000: from ${PREF1} iif acc0 lookup 1000 proto 213`, `1000: from ${PREF1} iif ${R} lookup 1000 proto 213`].sort())
    await reachable(topo!.mn.netns, cn, addr1)

    const upgraded = await bench.restart(2)
    await upgraded.apply(attached(2, PREF2, [[PREF1, 1]]))
    assert.deepEqual(await accessRules(maar2), ['1000: from all iif acc0 lookup 998 proto 213', `1000: from all iif ${R} lookup 998 proto 213`].sort())
    assert.equal((await inNetns(maar2.netns, ['ip', '-6', 'route', 'show', 'table', '1000'])).stdout.trim(), '')
    // Read back by the next start as it was written (source-specific routes included): nothing to program.
    const batches: string[] = []
    const runner = new ExecRunner({ netns: maar2.netns })
    const again = await bench.restart(2, { async run (argv, input) { if (argv.includes('-batch')) batches.push(input ?? ''); return await runner.run(argv, input) } })
    batches.length = 0
    await again.apply(attached(2, PREF2, [[PREF1, 1]]))
    assert.deepEqual(batches, [])
    const up = await tunnelCapture(topo!.maars[0]!.netns, async () => {
      await reachable(topo!.mn.netns, cn, addr1)
      await reachable(topo!.mn.netns, cn, addr2)
    })
    assert.match(up, new RegExp(`IP6 ${maar2.address} > ${S(1)}: IP6 ${addr1} > ${cn}: ICMP6, echo request`), up)
    assert.doesNotMatch(up, new RegExp(`IP6 ${addr2} >`), up)
  })

  it('maar2 delivers Pref1 for maar1 through its served table, with no backbone rule of its own; a transit packet for maar1\'s pool is refused there', async () => {
    const maar2 = topo!.maars[1]!
    // doc/ARCHITECTURE.md "What a MAAR forwards from its backbone": the same rules with 1 MN
    // served for another anchor as with 10,000 (plan.ts planOwn), and the MN's route in table 999.
    assert.deepEqual(await backboneRules(maar2), ownBackboneRules(maar2))
    const table = (await inNetns(maar2.netns, ['ip', '-6', 'route', 'show', 'table', '999'])).stdout.trim()
    assert.match(table, new RegExp(`^${PREF1.replace(/[.:/]/g, '\\$&')} dev \\S+ proto 213`), table)
    // Through maar1's tunnel, out of the served table at maar2 (captured above, now with the rules checked).
    await reachable(topo!.cn.netns, addr1)
    // The CN sends a packet for an address of maar1's pool that nobody serves to maar2: maar2's main
    // table routes maar1's pool back into the backbone, its rules refuse it (ICMPv6 no route).
    const transit = '2001:db8:1:99::/64'
    await noIcmpRateLimit(maar2.netns)
    await mustRun(['ip', '-n', topo!.cn.netns, '-6', 'route', 'replace', transit, 'via', maar2.address, 'dev', 'bb0'])
    try {
      const ping = await inNetns(topo!.cn.netns, ['ping', '-6', '-n', '-c', '1', '-W', '1', '2001:db8:1:99::1'])
      assert.match(ping.stdout, new RegExp(`From ${maar2.address} icmp_seq=1 Destination unreachable: No route`), ping.stdout)
    } finally {
      await mustRun(['ip', '-n', topo!.cn.netns, '-6', 'route', 'del', transit])
    }
  })

  it('MN moves on to maar3: both old prefixes stay reachable through their anchors', async () => {
    await topo!.moveMn(3)
    const PREF3 = '2001:db8:3:1::/64'
    await dp[0]!.apply(anchoring(PREF1, 3))
    await dp[1]!.apply(anchoring(PREF2, 3))
    await dp[2]!.apply(attached(3, PREF3, [[PREF1, 1], [PREF2, 2]]))
    const addr3 = await slaac(topo!, PREF3, true)
    for (const a of [addr3, addr1, addr2]) await reachable(topo!.cn.netns, a)
    await reachable(topo!.mn.netns, topo!.cn.address, addr2)
  })

  it('de-registration removes every route, rule and radvd it programmed', async () => {
    for (const d of dp) await d.apply(none())
    for (const m of topo!.maars) {
      const routes = await inNetns(m.netns, ['ip', '-6', 'route', 'show', 'table', 'all', 'proto', '213'])
      // The SID, its pool's unreachable route and the backbone rules stay while the driver runs
      // (packages/dataplane/src/linux/plan.ts planOwn).
      assert.deepEqual(routes.stdout.trim().replace(/ +/g, ' ').split('\n').sort(), [
        `${m.sid} encap seg6local action End.DT6 table unspec dev bb0 metric 1024 pref medium`,
        `unreachable ${m.pool} dev lo metric 4294967295 pref medium`
      ].sort())
      assert.deepEqual(await backboneRules(m), ownBackboneRules(m))
      assert.equal((await run(['ip', 'netns', 'pids', m.netns])).stdout.trim(), '', 'no radvd left in the namespace')
    }
    assert.equal(await pingOnce(topo!.cn.netns, addr1), false)
  })

  it('a released prefix of its pool is refused at the MAAR, not sent back out of its default route', async () => {
    // maar1's default route points to maar2, a router that routes maar1's pool back to maar1: the
    // packet for a prefix no MN holds would leave maar1 again (and be refused by maar2's own
    // backbone rules, or loop with a plain router there) but for maar1's unreachable pool route.
    const [maar1, maar2] = [topo!.maars[0]!, topo!.maars[1]!]
    await mustRun(['ip', '-n', maar1.netns, '-6', 'route', 'replace', 'default', 'via', maar2.address, 'dev', 'bb0'])
    // The previous test's ping drew the same ICMPv6 error from maar1 a moment ago.
    await noIcmpRateLimit(maar1.netns)
    const ping = await inNetns(topo!.cn.netns, ['ping', '-6', '-n', '-c', '1', '-W', '1', addr1])
    assert.match(ping.stdout, new RegExp(`From ${maar1.address} icmp_seq=1 Destination unreachable: No route`), ping.stdout)
  })
})

describe('Linux data plane in network namespaces with DLIF (RFC 8885 logical interfaces)', function () {
  this.timeout(120_000)
  const bench = new DriverBench()
  const dp = bench.dp
  let topo: NetnsTopology | undefined

  before(async function () {
    const support = await netnsSupport(['seg6', 'radvd'])
    if (!support.ok) { console.log(`      skipped: ${support.reason}`); this.skip() }
    await bench.up(2, { dlif: true })
    topo = bench.topo
  })

  after(async () => { await bench.down() })

  const routers = async (): Promise<string[]> => await defaultRouters(topo!)

  it('the MN keeps its anchor\'s router (same link-local, same MAC) on the new MAAR', async () => {
    const [sid1, sid2] = [topo!.maars[0]!.sid, topo!.maars[1]!.sid]
    const link = { mnId: MN, accessLink: 'acc0', linkLayerId: topo!.mn.mac }
    await dp[0]!.apply({ local: [{ ...link, prefix: PREF1 }], downlinks: [], uplinks: [], advertisements: [{ ...link, prefixes: [{ prefix: PREF1, preferred: true, anchor: sid1 }] }] })
    const addr1 = await slaac(topo!, PREF1, true)
    await reachable(topo!.cn.netns, addr1)
    const router1 = eui64LinkLocal(dlifMac(sid1))
    assert.deepEqual(await routers(), [router1])

    await topo!.moveMn(2)
    await dp[0]!.apply({ local: [], downlinks: [{ mnId: MN, prefix: PREF1, remote: sid2 }], uplinks: [], advertisements: [] })
    await dp[1]!.apply({
      local: [{ ...link, prefix: PREF2 }],
      downlinks: [],
      uplinks: [{ mnId: MN, prefix: PREF1, remote: sid1, accessLink: 'acc0' }],
      advertisements: [{ ...link, prefixes: [{ prefix: PREF2, preferred: true, anchor: sid2 }, { prefix: PREF1, preferred: false, anchor: sid1 }] }]
    })
    const addr2 = await slaac(topo!, PREF2, true)
    // maar2 shows the MN maar1's logical router as well as its own.
    await eventually('two default routers', async () => (await routers()).length === 2 ? true : undefined)
    assert.deepEqual(await routers(), [router1, eui64LinkLocal(dlifMac(sid2))].sort())
    await reachable(topo!.mn.netns, topo!.cn.address, addr1)
    const neigh = await routerNeighbour(topo!, router1)
    assert.match(neigh, new RegExp(`lladdr ${dlifMac(sid1)} router`), neigh)
    assert.doesNotMatch(neigh, /FAILED/)
    await reachable(topo!.cn.netns, addr1)
    await reachable(topo!.cn.netns, addr2)
  })
})
