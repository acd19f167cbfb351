/**
 * LinuxDataPlane against the fake `ip`: the exact commands for each transition of a handover,
 * for both tunnel kinds, idempotence, reconciliation on start, errors and bad input.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { CommandError, ExecRunner, LinuxDataPlane, PMIP_ROUTER, checkLinuxSupport, dlifDevice, dlifMac, eui64LinkLocal, radvdConfig, routerDevice, tunnelDevice } from '../src/linux/index.js'
import type { LinuxDataPlaneOptions } from '../src/linux/index.js'
import { FullApplyNeeded, emptyState } from '../src/types.js'
import { joinSlices } from '../src/mn-slices.js'
import type { DataPlaneState } from '../src/types.js'
import { FakeIp, UnexpectedCommand } from './linux-fake-ip.js'

const SID1 = '2001:db8:ff::1'
const SID2 = '2001:db8:ff::2'
const PREF1 = '2001:db8:1:1::/64'
const PREF2 = '2001:db8:2:1::/64'
const MN = 'mn1@example.net'
const MAC = '02:00:00:00:00:01'

/** Maar-level states of a handover MN: maar1 -> maar2 -> maar1. */
const S = {
  attachedAt1: (): DataPlaneState => ({
    ...emptyState(),
    local: [{ mnId: MN, prefix: PREF1, accessLink: 'acc0', linkLayerId: MAC }],
    advertisements: [{ mnId: MN, accessLink: 'acc0', linkLayerId: MAC, prefixes: [{ prefix: PREF1, preferred: true, anchor: SID1 }] }]
  }),
  anchorAt1: (): DataPlaneState => ({ ...emptyState(), downlinks: [{ mnId: MN, prefix: PREF1, remote: SID2 }] }),
  servingAt2: (): DataPlaneState => ({
    ...emptyState(),
    local: [{ mnId: MN, prefix: PREF2, accessLink: 'acc0', linkLayerId: MAC }],
    uplinks: [{ mnId: MN, prefix: PREF1, remote: SID1, accessLink: 'acc0' }],
    advertisements: [{ mnId: MN, accessLink: 'acc0', linkLayerId: MAC, prefixes: [{ prefix: PREF2, preferred: true, anchor: SID2 }, { prefix: PREF1, preferred: false, anchor: SID1 }] }]
  }),
  homeAt1: (): DataPlaneState => ({
    ...emptyState(),
    local: [{ mnId: MN, prefix: PREF1, accessLink: 'acc0', linkLayerId: MAC }],
    uplinks: [{ mnId: MN, prefix: PREF2, remote: SID2, accessLink: 'acc0' }],
    advertisements: [{ mnId: MN, accessLink: 'acc0', linkLayerId: MAC, prefixes: [{ prefix: PREF1, preferred: true, anchor: SID1 }, { prefix: PREF2, preferred: false, anchor: SID2 }] }]
  }),
  anchorAt2: (): DataPlaneState => ({ ...emptyState(), downlinks: [{ mnId: MN, prefix: PREF2, remote: SID1 }] })
}

type Extra = Pick<LinuxDataPlaneOptions, 'dlif' | 'accessRouter' | 'ownPools'>
/** The tunnel tests advertise from the access link itself, so their commands show only tunnels. */
const PLAIN: Extra = { accessRouter: false }

async function started (kind: 'seg6' | 'ip6tnl', self: string, fake = new FakeIp(), extra: Extra = PLAIN): Promise<{ dp: LinuxDataPlane, fake: FakeIp }> {
  const dp = new LinuxDataPlane({ tunnelKind: kind, tunnelAddress: self, backboneInterface: 'bb0', runner: fake, ...extra })
  await dp.start()
  return { dp, fake }
}

/** The batch lines one apply issued. */
async function batchOf (dp: LinuxDataPlane, fake: FakeIp, s: DataPlaneState): Promise<string[]> {
  const before = fake.batches.length
  await dp.apply(s)
  assert.ok(fake.batches.length - before <= 1, 'one batch per apply')
  return fake.batches[before] ?? []
}

const SIDROUTE1 = `route replace ${SID1}/128 encap seg6local action End.DT6 table 0 dev bb0 table main proto 213`
const SIDROUTE2 = `route replace ${SID2}/128 encap seg6local action End.DT6 table 0 dev bb0 table main proto 213`
/**
 * seg6's own backbone rules (plan.ts planOwn): tunnelled packets through main, and those for the
 * MNs served here for another anchor through the served table (tableBase - 1: 999) ...
 */
const tunnelled = (sid: string): string[] => [
  `rule add from all to ${sid}/128 iif bb0 table main priority 1000 protocol 213`,
  'rule add from all ipproto 41 iif bb0 table main priority 1000 protocol 213',
  'rule add from all iif bb0 table 999 priority 1000 protocol 213'
]
/** ... and the rest of the backbone's packets refused, added after every rule that lets some through. */
const REFUSE = 'rule add from all iif bb0 unreachable priority 1001 protocol 213'
/** seg6's own rules as FakeIp.ours() lists them (sorted). */
const OWN_RULES = (sid: string): string[] => ['1000 all bb0 999', '1000 all ipproto 41 bb0 main', `1000 all to ${sid}/128 bb0 main`, '1001 all bb0 unreachable']
/** The delivery route of a prefix served here for another anchor, in the served table (plan.ts planMns). */
const served = (prefix: string, dev = 'acc0'): string => `route replace ${prefix} dev ${dev} table 999 proto 213`
/** An MN's backbone rule (plan.ts backboneRules): packets to or from one of its prefixes through main. */
const backbone = (op: 'add' | 'del', dir: 'to' | 'from', prefix: string): string =>
  `rule ${op} from ${dir === 'to' ? `all to ${prefix}` : prefix} iif bb0 table main priority 1000${op === 'add' ? ' protocol 213' : ''}`
/** The batch lines one apply issued but seg6's backbone rules, tested above: for the router device tests. */
async function deviceBatchOf (dp: LinuxDataPlane, fake: FakeIp, s: DataPlaneState): Promise<string[]> {
  return (await batchOf(dp, fake, s)).filter(l => !l.includes(' iif bb0 '))
}
/** The uplink rules alone (iif the access link), as FakeIp.ours() lists them. */
const uplinkRules = (fake: FakeIp): string[] => fake.ours().rules.filter(r => r.includes(' acc0 '))
/**
 * A served prefix's uplink (plan.ts planMns): its source-specific default route in the uplink
 * table (tableBase - 2: 998) into the tunnel to its anchor ...
 */
const uplink = (prefix: string, sid: string, op: 'replace' | 'del' = 'replace'): string =>
  op === 'replace' ? `route replace default from ${prefix} encap seg6 mode encap.red segs ${sid} dev bb0 table 998 proto 213` : `route del default from ${prefix} table 998 proto 213`
/** ... looked up by one rule per device MNs send from, whatever the MNs. */
const uplinkRule = (dev: string, op: 'add' | 'del' = 'add'): string => `rule ${op} from all iif ${dev} table 998 priority 1000${op === 'add' ? ' protocol 213' : ''}`
/** The probe of source-specific routes at start (driver.ts checkSourceRoutes). */
const PROBE = ['ip -6 -batch -', 'batch: route replace unreachable default from 100::/64 table 998 proto 213', 'batch: route del default from 100::/64 table 998 proto 213']

describe('LinuxDataPlane with seg6 tunnels (fake ip)', () => {
  it('start turns on forwarding and seg6 and lists what the kernel has', async () => {
    const { fake } = await started('seg6', SID1)
    assert.deepEqual(fake.log, [
      'sysctl -q -w net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.seg6_enabled=1 net.ipv6.conf.bb0.seg6_enabled=1',
      ...PROBE,
      'ip -j -6 route show table all proto 213',
      'ip -j -6 rule show',
      'ip -j -d link show'
    ])
  })

  it('anchor side: attach, handover away (downlink into the tunnel), de-registration', async () => {
    const { dp, fake } = await started('seg6', SID1)
    assert.deepEqual(await batchOf(dp, fake, S.attachedAt1()), [
      SIDROUTE1,
      `route replace ${PREF1} dev acc0 table main proto 213`,
      ...tunnelled(SID1),
      backbone('add', 'to', PREF1),
      REFUSE
    ])
    // The local route is replaced in place by the tunnel route: no moment without a route. The
    // MN's uplink now comes out of the tunnel on the backbone: let it through.
    assert.deepEqual(await batchOf(dp, fake, S.anchorAt1()), [
      `route replace ${PREF1} encap seg6 mode encap.red segs ${SID2} dev bb0 table main proto 213`,
      backbone('add', 'from', PREF1)
    ])
    assert.deepEqual(await batchOf(dp, fake, emptyState()), [backbone('del', 'to', PREF1), backbone('del', 'from', PREF1), `route del ${PREF1} table main proto 213`])
    assert.deepEqual(fake.ours().routes, [`main ${SID1}/128 seg6local bb0`])
    assert.deepEqual(fake.ours().rules, OWN_RULES(SID1))
  })

  it('serving side: local prefix plus a source-specific route in the uplink table for the anchored prefix', async () => {
    const { dp, fake } = await started('seg6', SID2)
    assert.deepEqual(await batchOf(dp, fake, S.servingAt2()), [
      SIDROUTE2,
      `route replace ${PREF2} dev acc0 table main proto 213`,
      uplink(PREF1, SID1),
      `route replace ${PREF1} dev acc0 table main proto 213`,
      // PREF1 comes out of maar1's tunnel on the backbone, to be delivered on the access link:
      // through the served table, with no rule of its own.
      served(PREF1),
      ...tunnelled(SID2),
      backbone('add', 'to', PREF2),
      uplinkRule('acc0'),
      REFUSE
    ])
    // The MN returns to maar1: maar2 anchors PREF2 and drops the uplink (adds before deletes);
    // PREF1 out of a tunnel is refused from now on, not routed back to maar1.
    assert.deepEqual(await batchOf(dp, fake, S.anchorAt2()), [
      `route replace ${PREF2} encap seg6 mode encap.red segs ${SID1} dev bb0 table main proto 213`,
      backbone('add', 'from', PREF2),
      uplinkRule('acc0', 'del'),
      uplink(PREF1, SID1, 'del'),
      `route del ${PREF1} table main proto 213`,
      `route del ${PREF1} table 999 proto 213`
    ])
  })

  it('return home at maar1: downlink becomes local, uplink to maar2 appears', async () => {
    const { dp, fake } = await started('seg6', SID1)
    await dp.apply(S.anchorAt1())
    assert.deepEqual(await batchOf(dp, fake, S.homeAt1()), [
      `route replace ${PREF1} dev acc0 table main proto 213`,
      uplink(PREF2, SID2),
      `route replace ${PREF2} dev acc0 table main proto 213`,
      served(PREF2),
      uplinkRule('acc0'),
      backbone('del', 'from', PREF1)
    ])
  })

  it('apply twice issues no command the second time, and reports no change', async () => {
    const { dp, fake } = await started('seg6', SID2)
    const first = await dp.apply(S.servingAt2())
    assert.ok(first.changes.includes(`+ uplink ${PREF1} from acc0 -> ${SID1} (${MN})`), first.changes.join('\n'))
    const n = fake.log.length
    const second = await dp.apply(S.servingAt2())
    assert.equal(fake.log.length, n)
    assert.deepEqual(second.changes, [])
    assert.deepEqual(dp.current(), S.servingAt2())
  })

  it('stop with flush removes everything it programmed, the SID too', async () => {
    const { dp, fake } = await started('seg6', SID2)
    await dp.apply(S.servingAt2())
    await dp.stop({ flush: true })
    assert.deepEqual(fake.ours(), { routes: [], rules: [], links: [] })
    assert.deepEqual(dp.current(), emptyState())
  })

  it('every served prefix is a route in the one uplink table; the access link\'s rule stays while any MN sends from it', async () => {
    const { dp, fake } = await started('seg6', SID2)
    const up = (mnId: string, p: string, r: string) => ({ mnId, prefix: p, remote: r, accessLink: 'acc0' })
    const P3 = '2001:db8:3:1::/64'
    const uplinkRoutes = (): string[] => fake.ours().routes.filter(r => r.startsWith('998 '))
    await dp.apply({ ...emptyState(), uplinks: [up('a', PREF1, SID1), up('b', P3, '2001:db8:ff::3')] })
    assert.deepEqual(uplinkRules(fake), ['1000 all acc0 998'])
    assert.deepEqual(uplinkRoutes(), [`998 default from ${PREF1} seg6 ${SID1} bb0`, `998 default from ${P3} seg6 2001:db8:ff::3 bb0`])
    // MN a leaves: its route goes, the rule MN b still sends through stays.
    assert.deepEqual(await batchOf(dp, fake, { ...emptyState(), uplinks: [up('b', P3, '2001:db8:ff::3')] }), [uplink(PREF1, SID1, 'del'), `route del ${PREF1} table main proto 213`, `route del ${PREF1} table 999 proto 213`])
    assert.deepEqual(uplinkRules(fake), ['1000 all acc0 998'])
    // The last one leaves: the rule goes with it.
    assert.ok((await batchOf(dp, fake, emptyState())).includes(uplinkRule('acc0', 'del')))
    assert.deepEqual(uplinkRules(fake), [])
  })
})

describe('LinuxDataPlane with ip6tnl tunnels (fake ip)', () => {
  const T2 = tunnelDevice(SID2)
  const T1 = tunnelDevice(SID1)

  it('start only turns on forwarding', async () => {
    const { fake } = await started('ip6tnl', SID1)
    assert.equal(fake.log[0], 'sysctl -q -w net.ipv6.conf.all.forwarding=1')
  })

  it('anchor side: one ip6ip6 device per remote MAAR, created before its route and deleted after it', async () => {
    const { dp, fake } = await started('ip6tnl', SID1)
    assert.deepEqual(await batchOf(dp, fake, S.attachedAt1()), [`route replace ${PREF1} dev acc0 table main proto 213`])
    assert.deepEqual(await batchOf(dp, fake, S.anchorAt1()), [
      `link add ${T2} type ip6tnl mode ip6ip6 local ${SID1} remote ${SID2} encaplimit none dev bb0`,
      `link set ${T2} up`,
      `route replace ${PREF1} dev ${T2} table main proto 213`
    ])
    assert.deepEqual(await batchOf(dp, fake, emptyState()), [`route del ${PREF1} table main proto 213`, `link del ${T2}`])
    assert.deepEqual(fake.ours(), { routes: [], rules: [], links: [] })
  })

  it('serving side: the uplink table routes into the device; the device is shared by every prefix of that anchor', async () => {
    const { dp, fake } = await started('ip6tnl', SID2)
    assert.deepEqual(await batchOf(dp, fake, S.servingAt2()), [
      `link add ${T1} type ip6tnl mode ip6ip6 local ${SID2} remote ${SID1} encaplimit none dev bb0`,
      `link set ${T1} up`,
      `route replace ${PREF2} dev acc0 table main proto 213`,
      `route replace default from ${PREF1} dev ${T1} table 998 proto 213`,
      `route replace ${PREF1} dev acc0 table main proto 213`,
      uplinkRule('acc0')
    ])
    assert.deepEqual(await batchOf(dp, fake, S.anchorAt2()), [
      `route replace ${PREF2} dev ${T1} table main proto 213`,
      uplinkRule('acc0', 'del'),
      uplink(PREF1, SID1, 'del'),
      `route del ${PREF1} table main proto 213`
    ])
    const n = fake.log.length
    await dp.apply(S.anchorAt2())
    assert.equal(fake.log.length, n, 'idempotent')
  })
})

describe('LinuxDataPlane reconciliation on start (fake ip)', () => {
  it('removes what the kernel has of ours that the desired state lacks, adds what is missing, keeps the rest and never touches foreign state', async () => {
    const fake = new FakeIp()
    // Left over by a previous run (protocol 213 / our device names) ...
    fake.routes.set(`main ${PREF1}`, { table: 'main', dst: PREF1, dev: 'acc0', proto: '213' })
    fake.routes.set('main 2001:db8:9::/64', { table: 'main', dst: '2001:db8:9::/64', dev: 'acc0', proto: '213' })
    fake.routes.set('1007 default', { table: '1007', dst: 'default', dev: 'bb0', encap: 'seg6', sid: '2001:db8:ff::9', proto: '213' })
    fake.rules.push({ priority: 1000, src: '2001:db8:8::/64', iif: 'acc0', table: '1007', protocol: '213' })
    fake.links.set('dmt0123456789', { name: 'dmt0123456789', kind: 'ip6tnl', up: true, args: 'local 2001:db8:ff::1 remote 2001:db8:ff::7 dev bb0' })
    // ... and somebody else's, which must stay.
    fake.routes.set('main 2001:db8:77::/64', { table: 'main', dst: '2001:db8:77::/64', dev: 'acc0', proto: '4' })
    fake.rules.push({ priority: 500, src: '2001:db8:66::/64', iif: 'acc0', table: '1007' })
    fake.links.set('macvlan9', { name: 'macvlan9', kind: 'macvlan', up: true, args: 'link acc0' })

    const { dp } = await started('seg6', SID1, fake)
    const batch = await batchOf(dp, fake, S.attachedAt1())
    assert.deepEqual(batch, [
      SIDROUTE1,
      ...tunnelled(SID1),
      backbone('add', 'to', PREF1),
      REFUSE,
      'rule del from 2001:db8:8::/64 iif acc0 table 1007 priority 1000',
      'route del 2001:db8:9::/64 table main proto 213',
      'route del default table 1007 proto 213',
      'link del dmt0123456789'
    ])
    assert.deepEqual(fake.ours(), { routes: [`main ${PREF1} acc0`, `main ${SID1}/128 seg6local bb0`], rules: [...OWN_RULES(SID1), `1000 all to ${PREF1} bb0 main`].sort(), links: [] })
    assert.ok(fake.routes.has('main 2001:db8:77::/64'))
    assert.equal(fake.rules.filter(r => r.protocol === undefined).length, 1)
    assert.ok(fake.links.has('macvlan9'))
  })

  it('a MAAR upgraded in place from before the served table: the per-MN backbone rule and uplink table of an MN served for another anchor are replaced by its routes in the served and uplink tables', async () => {
    const fake = new FakeIp()
    // What the previous version programmed for S.servingAt2 (a backbone rule per MN served here).
    await fake.run(['ip', '-6', '-batch', '-'], [
      SIDROUTE2,
      `route replace ${PREF2} dev acc0 table main proto 213`,
      `route replace default encap seg6 mode encap.red segs ${SID1} dev bb0 table 1000 proto 213`,
      `route replace ${PREF1} dev acc0 table main proto 213`,
      ...tunnelled(SID2).slice(0, 2),
      backbone('add', 'to', PREF2),
      backbone('add', 'to', PREF1),
      `rule add from ${PREF1} iif acc0 table 1000 priority 1000 protocol 213`,
      REFUSE
    ].join('\n'))
    const { dp } = await started('seg6', SID2, fake)
    // The served and uplink tables' rules come before the old rules go: PREF1 is never refused in between.
    assert.deepEqual(await batchOf(dp, fake, S.servingAt2()), [
      uplink(PREF1, SID1), served(PREF1), tunnelled(SID2)[2], uplinkRule('acc0'), backbone('del', 'to', PREF1),
      `rule del from ${PREF1} iif acc0 table 1000 priority 1000`, 'route del default table 1000 proto 213'
    ])
    const fresh = await started('seg6', SID2)
    await fresh.dp.apply(S.servingAt2())
    assert.deepEqual(fake.ours(), fresh.fake.ours())
  })

  it('a MAAR upgraded in place from per-MN uplink tables: one route each in the uplink table and one rule for the access link come before the old rules and tables go', async () => {
    const fake = new FakeIp()
    const served3 = [1, 2, 3].map(i => ({ mnId: `mn${i}`, prefix: `2001:db8:1:${i}::/64`, remote: SID1, accessLink: 'acc0' }))
    // What the previous version programmed for them: a rule and a table each, from tableBase (1000) up.
    await fake.run(['ip', '-6', '-batch', '-'], [
      SIDROUTE2,
      ...served3.flatMap((u, i) => [
        `route replace default encap seg6 mode encap.red segs ${SID1} dev bb0 table ${1000 + i} proto 213`,
        `route replace ${u.prefix} dev acc0 table main proto 213`,
        served(u.prefix)
      ]),
      ...tunnelled(SID2),
      ...served3.map((u, i) => `rule add from ${u.prefix} iif acc0 table ${1000 + i} priority 1000 protocol 213`),
      REFUSE
    ].join('\n'))
    const { dp } = await started('seg6', SID2, fake)
    const state = { ...emptyState(), uplinks: served3 }
    assert.deepEqual(await batchOf(dp, fake, state), [
      ...served3.map(u => uplink(u.prefix, SID1)),
      uplinkRule('acc0'),
      ...served3.map((u, i) => `rule del from ${u.prefix} iif acc0 table ${1000 + i} priority 1000`),
      ...served3.map((_, i) => `route del default table ${1000 + i} proto 213`)
    ])
    const fresh = await started('seg6', SID2)
    await fresh.dp.apply(state)
    assert.deepEqual(fake.ours(), fresh.fake.ours())
  })

  it('an End.DT6 SID left looking up the main table (before backbone rules) is replaced by one looking up through the rules', async () => {
    const fake = new FakeIp()
    fake.routes.set(`main ${SID1}/128`, { table: 'main', dst: `${SID1}/128`, dev: 'bb0', encap: 'seg6local', lookup: 'main', proto: '213' })
    const { dp } = await started('seg6', SID1, fake)
    assert.deepEqual((await batchOf(dp, fake, emptyState()))[0], SIDROUTE1)
    assert.equal(fake.routes.get(`main ${SID1}/128`)?.lookup, '0')
  })

  it('a fresh driver on an already programmed kernel issues nothing', async () => {
    const fake = new FakeIp()
    const { dp } = await started('seg6', SID2, fake)
    await dp.apply(S.servingAt2())
    const { dp: again } = await started('seg6', SID2, fake)
    assert.deepEqual(await batchOf(again, fake, S.servingAt2()), [])
  })
})

describe('LinuxDataPlane with many MNs (fake ip)', () => {
  const many = (n: number, moved?: number): DataPlaneState => {
    const s = emptyState()
    for (let i = 0; i < n; i++) {
      const mnId = `mn${i}@example.net`
      const prefix = `2001:db8:1:${i.toString(16)}::/64`
      if (i === moved) s.downlinks.push({ mnId, prefix, remote: '2001:db8:ff::2' })
      else s.local.push({ mnId, prefix, accessLink: 'acc0', linkLayerId: MAC })
    }
    return s
  }

  it('a handover of one MN among 200 issues commands for that MN only, and only reads the kernel at start', async () => {
    const { dp, fake } = await started('seg6', SID1)
    assert.equal((await batchOf(dp, fake, many(200))).length, 405, 'the SID, its 4 rules, 200 local routes and their backbone rules')
    const reads = fake.log.filter(l => l.startsWith('ip -j')).length
    const batch = await batchOf(dp, fake, many(200, 57))
    assert.deepEqual(batch, ['route replace 2001:db8:1:39::/64 encap seg6 mode encap.red segs 2001:db8:ff::2 dev bb0 table main proto 213', backbone('add', 'from', '2001:db8:1:39::/64')])
    assert.equal(fake.log.filter(l => l.startsWith('ip -j')).length, reads)
    assert.equal(dp.current().local.length, 199)
    assert.equal(dp.current().downlinks[0]?.mnId, 'mn57@example.net')
  })

  it('a partial apply naming the moved MN alone issues the same commands as the whole state; before the first apply, or after a failed one, it asks for the whole state', async () => {
    const { dp, fake } = await started('seg6', SID1)
    await assert.rejects(dp.apply(many(200), { only: ['mn57@example.net'] }), FullApplyNeeded)
    await dp.apply(many(200))
    const moved = many(200, 57)
    const only = { ...emptyState(), downlinks: moved.downlinks }
    const before = fake.batches.length
    await dp.apply(only, { only: ['mn57@example.net'] })
    assert.deepEqual(fake.batches.slice(before).flat(), ['route replace 2001:db8:1:39::/64 encap seg6 mode encap.red segs 2001:db8:ff::2 dev bb0 table main proto 213', backbone('add', 'from', '2001:db8:1:39::/64')])
    assert.equal(dp.current().local.length, 199, 'the MNs not named keep their routes')
    fake.failOn = { pattern: /^route/, stderr: 'RTNETLINK answers: No buffer space available' }
    await assert.rejects(dp.apply(many(200), { only: ['mn57@example.net'] }))
    fake.failOn = undefined
    await assert.rejects(dp.apply(only, { only: ['mn57@example.net'] }), FullApplyNeeded)
  })

  it('refuses two MNs wanting one prefix, naming both, and changes nothing', async () => {
    const { dp, fake } = await started('seg6', SID1)
    await dp.apply(many(3))
    const n = fake.log.length
    const clash = many(3)
    clash.downlinks.push({ mnId: 'intruder@example.net', prefix: '2001:db8:1:1::/64', remote: '2001:db8:ff::2' })
    await assert.rejects(dp.apply(clash), /route main 2001:db8:1:1::\/64 is wanted for both mn1@example.net and intruder@example.net/)
    assert.equal(fake.log.length, n)
    assert.deepEqual(await batchOf(dp, fake, many(3)), [], 'the driver still knows what it programmed')
  })
})

describe('LinuxDataPlane given its own pools (fake ip)', () => {
  const POOL1 = '2001:db8:1::/48'
  const POOL1B = '2001:db8:11::/48'
  const POOLS: Extra = { accessRouter: false, ownPools: [POOL1, POOL1B] }
  const POOL_ROUTE = (pool: string): string => `route replace unreachable ${pool} table main metric 4294967295 proto 213`
  const poolRules = (pool: string): string[] => [`rule add from all to ${pool} iif bb0 table main priority 1000 protocol 213`, `rule add from ${pool} iif bb0 table main priority 1000 protocol 213`]
  /** `local` MNs anchored and served here, `away` anchored here and served at maar2, `visiting` served here for maar2. */
  const mix = (local: number, away: number, visiting: number): DataPlaneState => {
    const s = emptyState()
    for (let i = 0; i < local + away; i++) {
      const mnId = `mn${i}@example.net`
      const prefix = `2001:db8:1:${i.toString(16)}::/64`
      if (i < local) s.local.push({ mnId, prefix, accessLink: 'acc0', linkLayerId: MAC })
      else s.downlinks.push({ mnId, prefix, remote: SID2 })
    }
    for (let i = 0; i < visiting; i++) s.uplinks.push({ mnId: `v${i}@example.net`, prefix: `2001:db8:2:${i.toString(16)}::/64`, remote: SID2, accessLink: 'acc0' })
    return s
  }
  const backboneRules = (fake: FakeIp): string[] => fake.ours().rules.filter(r => r.includes(' bb0 '))

  it('lets the pools through with two rules each: 50 MNs anchored here, 5 of them served elsewhere, and 3 served here for another anchor add no backbone rule', async () => {
    const { dp, fake } = await started('seg6', SID1, new FakeIp(), POOLS)
    const batch = await batchOf(dp, fake, mix(45, 5, 3))
    assert.deepEqual(batch.filter(l => l.startsWith('rule ')).sort(), [
      ...tunnelled(SID1),
      ...poolRules(POOL1),
      ...poolRules(POOL1B),
      uplinkRule('acc0'),
      REFUSE
    ].sort())
    // O(pools): the SID's 2, the served table's, the refusal, 2 per pool.
    assert.equal(backboneRules(fake).length, 4 + 2 * 2)
    assert.ok(batch.includes(POOL_ROUTE(POOL1)) && batch.includes(POOL_ROUTE(POOL1B)), batch.join('\n'))
    // The MNs served here for maar2 are delivered through the served table.
    assert.deepEqual(batch.filter(l => l.startsWith('route ') && l.includes(' table 999 ')).sort(), ['2001:db8:2::/64', '2001:db8:2:1::/64', '2001:db8:2:2::/64'].map(p => served(p)).sort())
  })

  it('the rules do not grow with the MNs served here for another anchor: 1 or 300, the same rules, backbone and access side; each adds one route to the served table and one to the uplink table', async () => {
    const { dp, fake } = await started('seg6', SID1, new FakeIp(), POOLS)
    const servedRoutes = (): string[] => fake.ours().routes.filter(r => r.startsWith('999 '))
    const uplinkRoutes = (): string[] => fake.ours().routes.filter(r => r.startsWith('998 '))
    await dp.apply(mix(45, 5, 1))
    const rules = fake.ours().rules
    assert.equal(servedRoutes().length, 1)
    assert.equal(uplinkRoutes().length, 1)
    await dp.apply(mix(45, 5, 300))
    assert.deepEqual(fake.ours().rules, rules)
    assert.equal(servedRoutes().length, 300)
    assert.equal(uplinkRoutes().length, 300)
    // The last one leaves: its routes go, the served table's rule stays (an empty served table
    // lets nothing through), the access link's into the uplink table goes with the last MN using it.
    await dp.apply(mix(45, 5, 0))
    assert.deepEqual(fake.ours().rules, rules.filter(r => !r.includes(' acc0 ')))
    assert.deepEqual([...servedRoutes(), ...uplinkRoutes()], [])
  })

  it('a handover of an MN anchored here issues its route alone, no rule', async () => {
    const { dp, fake } = await started('seg6', SID1, new FakeIp(), POOLS)
    await dp.apply(mix(50, 0, 0))
    const moved = mix(50, 0, 0)
    const [mn] = moved.local.splice(7, 1)
    moved.downlinks.push({ mnId: mn!.mnId, prefix: mn!.prefix, remote: SID2 })
    assert.deepEqual(await batchOf(dp, fake, moved), [`route replace ${mn!.prefix} encap seg6 mode encap.red segs ${SID2} dev bb0 table main proto 213`])
    assert.deepEqual(await batchOf(dp, fake, emptyState()).then(b => b.filter(l => l.startsWith('rule'))), [], 'de-registering them all leaves the pool rules alone')
  })

  it('a prefix outside the pools keeps its rules per MN', async () => {
    const { dp, fake } = await started('seg6', SID1, new FakeIp(), POOLS)
    await dp.apply({ ...emptyState(), downlinks: [{ mnId: MN, prefix: PREF2, remote: SID2 }] })
    assert.ok(backboneRules(fake).includes(`1000 all to ${PREF2} bb0 main`) && backboneRules(fake).includes(`1000 ${PREF2} bb0 main`), backboneRules(fake).join('\n'))
  })

  it('each pool is unreachable in main below every MN route, read back on restart, removed by flush', async () => {
    const fake = new FakeIp()
    const { dp } = await started('seg6', SID1, fake, POOLS)
    await dp.apply(mix(2, 0, 0))
    assert.deepEqual(fake.ours().routes.filter(r => r.includes('unreachable')), [`main ${POOL1B} unreachable metric 4294967295`, `main ${POOL1} unreachable metric 4294967295`])
    const { dp: again } = await started('seg6', SID1, fake, POOLS)
    assert.deepEqual(await batchOf(again, fake, mix(2, 0, 0)), [], 'a restarted driver finds them all in place')
    const { dp: fewer } = await started('seg6', SID1, fake, { ...POOLS, ownPools: [POOL1] })
    assert.deepEqual(await batchOf(fewer, fake, mix(2, 0, 0)), [
      `rule del from all to ${POOL1B} iif bb0 table main priority 1000`,
      `rule del from ${POOL1B} iif bb0 table main priority 1000`,
      `route del ${POOL1B} table main metric 4294967295 proto 213`
    ], 'a pool no longer configured goes')
    await fewer.stop({ flush: true })
    assert.deepEqual(fake.ours(), { routes: [], rules: [], links: [] })
  })

  it('ip6tnl gets the pools\' unreachable routes too, and no backbone rule', async () => {
    const { dp, fake } = await started('ip6tnl', SID1, new FakeIp(), POOLS)
    await dp.apply(mix(3, 1, 0))
    assert.deepEqual(fake.ours().routes.filter(r => r.includes('unreachable')), [`main ${POOL1B} unreachable metric 4294967295`, `main ${POOL1} unreachable metric 4294967295`])
    assert.deepEqual(backboneRules(fake), [])
  })

  it('rejects a bad pool, naming it, before running anything', () => {
    const fake = new FakeIp()
    assert.throws(() => new LinuxDataPlane({ tunnelKind: 'seg6', tunnelAddress: SID1, backboneInterface: 'bb0', runner: fake, ownPools: [POOL1, '2001:db8:1::1/48'] }), /ownPools\[1\]/)
    assert.throws(() => new LinuxDataPlane({ tunnelKind: 'seg6', tunnelAddress: SID1, backboneInterface: 'bb0', runner: fake, ownPools: 'x' as unknown as string[] }), /ownPools/)
    assert.deepEqual(fake.log, [])
  })
})

describe('LinuxDataPlane errors and bad input (fake ip)', () => {
  it('an ip failure surfaces with the failing command and stderr, and the next apply re-reads the kernel', async () => {
    const { dp, fake } = await started('seg6', SID2)
    fake.failOn = { pattern: /^rule add from \S+ iif acc0/, stderr: 'RTNETLINK answers: Operation not permitted' }
    await assert.rejects(dp.apply(S.servingAt2()), (err: unknown) => {
      assert.ok(err instanceof CommandError)
      assert.match(err.message, /ip -6 -batch -/)
      assert.match(err.message, /rule add from all iif acc0 table 998/)
      assert.match(err.message, /Operation not permitted/)
      return true
    })
    fake.failOn = undefined
    const n = fake.log.length
    await dp.apply(S.servingAt2())
    assert.equal(fake.log[n], 'ip -j -6 route show table all proto 213')
    // The half-done batch left the uplink route without its rule; the re-read kernel gets the rule.
    assert.deepEqual(uplinkRules(fake), ['1000 all acc0 998'])
    assert.deepEqual(fake.ours().routes.filter(r => r.startsWith('998')), [`998 default from ${PREF1} seg6 ${SID1} bb0`])
    assert.deepEqual(fake.ours().routes.filter(r => r.startsWith('999')), [`999 ${PREF1} acc0`])
  })

  it('a missing device is reported as the kernel says it', async () => {
    const { dp } = await started('seg6', SID1)
    const s = S.attachedAt1()
    s.local[0]!.accessLink = 'nosuch0'
    await assert.rejects(dp.apply(s), /Cannot find device "nosuch0"/)
  })

  it('rejects bad prefixes, addresses, link-layer ids and interface names before running anything', async () => {
    const { dp, fake } = await started('seg6', SID1)
    const n = fake.log.length
    const bad: Array<[DataPlaneState, RegExp]> = [
      [{ ...emptyState(), local: [{ mnId: MN, prefix: '2001:db8:1:1::1/64', accessLink: 'acc0', linkLayerId: MAC }] }, /local\[0\]\.prefix/],
      [{ ...emptyState(), local: [{ mnId: MN, prefix: '2001:db8:1:1::', accessLink: 'acc0', linkLayerId: MAC }] }, /local\[0\]\.prefix/],
      [{ ...emptyState(), downlinks: [{ mnId: MN, prefix: PREF1, remote: 'maar2' }] }, /downlinks\[0\]\.remote/],
      [{ ...emptyState(), uplinks: [{ mnId: MN, prefix: PREF1, remote: SID1, accessLink: 'acc0; reboot' }] }, /uplinks\[0\]\.accessLink/],
      [{ ...emptyState(), uplinks: [{ mnId: MN, prefix: PREF1, remote: SID1, accessLink: 'a-very-long-interface-name' }] }, /accessLink/],
      [{ ...emptyState(), local: [{ mnId: MN, prefix: PREF1, accessLink: 'acc0', linkLayerId: '02:00:00:00:00' }] }, /linkLayerId/],
      [{ ...emptyState(), local: [{ mnId: '', prefix: PREF1, accessLink: 'acc0', linkLayerId: MAC }] }, /mnId/],
      [{ local: [] } as unknown as DataPlaneState, /arrays/]
    ]
    for (const [s, re] of bad) await assert.rejects(dp.apply(s), re)
    assert.equal(fake.log.length, n)
    assert.throws(() => new LinuxDataPlane({ tunnelKind: 'gre' as 'seg6', tunnelAddress: SID1, backboneInterface: 'bb0', runner: fake }), /tunnelKind/)
    // The uplink table is tableBase - 2, seg6's served table tableBase - 1 (driver.ts): table 0 is no table.
    assert.throws(() => new LinuxDataPlane({ tunnelKind: 'seg6', tunnelAddress: SID1, backboneInterface: 'bb0', runner: fake, tableBase: 2 }), /tableBase must be an integer from 3/)
  })

  it('a kernel that refuses source-specific routes (no CONFIG_IPV6_SUBTREES) stops start with the reason, before anything is programmed', async () => {
    for (const kind of ['seg6', 'ip6tnl'] as const) {
      const fake = new FakeIp()
      fake.subtrees = false
      const dp = new LinuxDataPlane({ tunnelKind: kind, tunnelAddress: SID1, backboneInterface: 'bb0', runner: fake })
      await assert.rejects(dp.start(), /refuses source-specific IPv6 routes .*CONFIG_IPV6_SUBTREES.*IPV6_SUBTREES to be enabled/)
      assert.deepEqual(fake.ours(), { routes: [], rules: [], links: [] })
      assert.equal(fake.batches.length, 1, 'only the probe ran')
    }
  })

  it('the fake itself fails on a command it does not know (so these tests can fail)', async () => {
    await assert.rejects(new FakeIp().run(['ip', 'route', 'flush', 'all']), UnexpectedCommand)
  })
})

describe('DLIF logical interfaces (fake ip)', () => {
  it('one macvlan per anchor with the anchor-derived MAC; an uplink rule for every interface the MN may use', async () => {
    const { dp, fake } = await started('seg6', SID2, new FakeIp(), { dlif: true })
    const L2 = dlifDevice('acc0', SID2)
    const L1 = dlifDevice('acc0', SID1)
    assert.deepEqual(await deviceBatchOf(dp, fake, S.servingAt2()), [
      `link add ${L2} address ${dlifMac(SID2)} link acc0 type macvlan mode bridge`,
      `link set ${L2} up`,
      `link add ${L1} address ${dlifMac(SID1)} link acc0 type macvlan mode bridge`,
      `link set ${L1} up`,
      SIDROUTE2,
      `route replace ${PREF2} dev ${L2} table main proto 213`,
      uplink(PREF1, SID1),
      `route replace ${PREF1} dev ${L1} table main proto 213`,
      served(PREF1, L1),
      uplinkRule('acc0'),
      uplinkRule(L2),
      uplinkRule(L1)
    ])
    await dp.apply(emptyState())
    assert.deepEqual(fake.ours(), { routes: [`main ${SID2}/128 seg6local bb0`], rules: OWN_RULES(SID2), links: [] })
  })

  it('the logical router of an anchor looks the same from every serving MAAR', () => {
    assert.equal(dlifMac(SID1), dlifMac(SID1))
    assert.notEqual(dlifMac(SID1), dlifMac(SID2))
    assert.match(dlifMac(SID1), /^02(:[0-9a-f]{2}){5}$/)
    assert.notEqual(dlifDevice('acc0', SID1), dlifDevice('acc1', SID1))
    assert.ok(dlifDevice('acc0', SID1).length <= 15)
  })
})

describe('Shared access router without DLIF, RFC 5213 §6.8 (fake ip)', () => {
  const R = routerDevice('acc0', PMIP_ROUTER)
  const LL = PMIP_ROUTER.linkLocal
  const routerUp = (name: string, mac: string, ll: string): string[] => [
    `link add ${name} address ${mac} link acc0 type macvlan mode bridge`,
    `link set ${name} addrgenmode none`,
    `link set ${name} up`,
    `address add ${ll}/64 dev ${name} nodad`
  ]

  it('defaults to RFC 6543\'s reserved MAC and its EUI-64 link-local', () => {
    assert.deepEqual({ ...PMIP_ROUTER }, { mac: '00:00:5e:00:52:13', linkLocal: 'fe80::200:5eff:fe00:5213' })
    assert.equal(eui64LinkLocal(PMIP_ROUTER.mac), PMIP_ROUTER.linkLocal)
  })

  it('one router macvlan on the MN\'s access link with only the fixed link-local (no DAD, no kernel-made one); prefixes delivered from it; uplink rules for it and the link', async () => {
    const { dp, fake } = await started('seg6', SID2, new FakeIp(), {})
    assert.deepEqual(await deviceBatchOf(dp, fake, S.servingAt2()), [
      ...routerUp(R, PMIP_ROUTER.mac, LL),
      SIDROUTE2,
      `route replace ${PREF2} dev ${R} table main proto 213`,
      uplink(PREF1, SID1),
      `route replace ${PREF1} dev ${R} table main proto 213`,
      served(PREF1, R),
      uplinkRule('acc0'),
      uplinkRule(R)
    ])
    assert.deepEqual(fake.ours().links, [`${R} macvlan up ${LL}`])
    const n = fake.log.length
    await dp.apply(S.servingAt2())
    assert.equal(fake.log.length, n, 'idempotent')
    // The MN leaves: maar2 only anchors PREF2. The router stays with the link (no device
    // removal on the PBA path), ready for the next MN, and is not recreated when it comes.
    assert.deepEqual(await deviceBatchOf(dp, fake, S.anchorAt2()), [
      `route replace ${PREF2} encap seg6 mode encap.red segs ${SID1} dev bb0 table main proto 213`,
      uplinkRule('acc0', 'del'),
      uplinkRule(R, 'del'),
      uplink(PREF1, SID1, 'del'),
      `route del ${PREF1} table main proto 213`,
      `route del ${PREF1} table 999 proto 213`
    ])
    assert.deepEqual(fake.ours().links, [`${R} macvlan up ${LL}`])
    assert.deepEqual(await deviceBatchOf(dp, fake, S.servingAt2()), [
      `route replace ${PREF2} dev ${R} table main proto 213`,
      uplink(PREF1, SID1),
      `route replace ${PREF1} dev ${R} table main proto 213`,
      served(PREF1, R),
      uplinkRule('acc0'),
      uplinkRule(R)
    ])
    await dp.stop({ flush: true })
    assert.deepEqual(fake.ours(), { routes: [], rules: [], links: [] })
  })

  it('every MAAR shows the same router: same device commands on maar1 and maar2, same RA source', async () => {
    const a = await started('seg6', SID1, new FakeIp(), {})
    const b = await started('seg6', SID2, new FakeIp(), {})
    const first = await deviceBatchOf(a.dp, a.fake, S.attachedAt1())
    const second = await deviceBatchOf(b.dp, b.fake, S.servingAt2())
    assert.deepEqual(first.slice(0, 4), routerUp(R, PMIP_ROUTER.mac, LL))
    assert.deepEqual(second.slice(0, 4), first.slice(0, 4))
    const ra1 = radvdConfig(S.attachedAt1().advertisements[0]!, { dlif: false, router: PMIP_ROUTER })
    const ra2 = radvdConfig(S.servingAt2().advertisements[0]!, { dlif: false, router: PMIP_ROUTER })
    for (const conf of [ra1, ra2]) {
      assert.equal((conf.match(/^interface /gm) ?? []).length, 1, conf)
      assert.match(conf, new RegExp(`^interface ${R} \\{\\n[^}]*AdvRASrcAddress \\{ ${LL}; \\};`, 'm'), conf)
    }
    assert.match(ra2, new RegExp(`prefix ${PREF1.replace(/[.:/]/g, '\\$&')} \\{[^}]*AdvPreferredLifetime 0;`))
  })

  it('one router device per access link, all with the same identity', async () => {
    const { dp, fake } = await started('seg6', SID1, new FakeIp(), {})
    const s = S.attachedAt1()
    s.local.push({ mnId: 'mn2@example.net', prefix: '2001:db8:1:2::/64', accessLink: 'acc1', linkLayerId: '02:00:00:00:00:02' })
    await dp.apply(s)
    const R1 = routerDevice('acc1', PMIP_ROUTER)
    assert.notEqual(R, R1)
    assert.deepEqual(fake.ours().links, [`${R} macvlan up ${LL}`, `${R1} macvlan up ${LL}`].sort())
    assert.ok(fake.links.get(R1)!.args.includes(`address ${PMIP_ROUTER.mac} link acc1`))
  })

  it('a configured identity: the link-local follows the MAC unless given; changing it on restart makes the new router before removing the old', async () => {
    const fake = new FakeIp()
    const { dp } = await started('seg6', SID1, fake, {})
    await dp.apply(S.attachedAt1())
    const mine = { mac: '02:aa:00:00:00:01', linkLocal: 'fe80::1' }
    const R2 = routerDevice('acc0', mine)
    assert.notEqual(R2, R)
    const { dp: again } = await started('seg6', SID1, fake, { accessRouter: mine })
    assert.deepEqual(await deviceBatchOf(again, fake, S.attachedAt1()), [
      ...routerUp(R2, mine.mac, 'fe80::1'),
      `route replace ${PREF1} dev ${R2} table main proto 213`,
      `link del ${R}`
    ])
    const f2 = new FakeIp()
    const { dp: m2 } = await started('seg6', SID1, f2, { accessRouter: { mac: '02:AA:00:00:00:01' } })
    await m2.apply(S.attachedAt1())
    assert.deepEqual(f2.ours().links, [`${routerDevice('acc0', { mac: '02:aa:00:00:00:01', linkLocal: 'fe80::aa:ff:fe00:1' })} macvlan up fe80::aa:ff:fe00:1`])
  })

  it('a restarted driver adopts the router device of the identity it has, keeps it without MNs, and flush removes it', async () => {
    const { dp, fake } = await started('seg6', SID1, new FakeIp(), {})
    await dp.apply(S.attachedAt1())
    await dp.stop()
    const { dp: fresh } = await started('seg6', SID1, fake, {})
    assert.deepEqual(await deviceBatchOf(fresh, fake, S.anchorAt1()), [
      `route replace ${PREF1} encap seg6 mode encap.red segs ${SID2} dev bb0 table main proto 213`
    ])
    assert.deepEqual(await deviceBatchOf(fresh, fake, emptyState()), [`route del ${PREF1} table main proto 213`])
    assert.deepEqual(fake.ours().links, [`${R} macvlan up ${LL}`])
    await fresh.stop({ flush: true })
    assert.deepEqual(fake.ours(), { routes: [], rules: [], links: [] })
  })

  it('a router device whose access link went away is forgotten after the failure it causes', async () => {
    const { dp, fake } = await started('seg6', SID1, new FakeIp(), {})
    await dp.apply(S.attachedAt1())
    await dp.apply(S.anchorAt1())
    // The operator removes acc0; the kernel takes the macvlan on it along.
    fake.links.delete('acc0')
    fake.links.delete(R)
    const s = S.attachedAt1()
    await assert.rejects(dp.apply(s), /Cannot find device/)
    s.local[0]!.accessLink = 'acc1'
    s.advertisements[0]!.accessLink = 'acc1'
    const R1 = routerDevice('acc1', PMIP_ROUTER)
    await dp.apply(s)
    assert.deepEqual(fake.ours().links, [`${R1} macvlan up ${LL}`])
    await dp.apply(emptyState())
    assert.deepEqual(fake.ours().links, [`${R1} macvlan up ${LL}`])
  })

  it('rejects a bad identity before running anything', () => {
    const fake = new FakeIp()
    const make = (extra: Extra): LinuxDataPlane => new LinuxDataPlane({ tunnelKind: 'seg6', tunnelAddress: SID1, backboneInterface: 'bb0', runner: fake, ...extra })
    assert.throws(() => make({ accessRouter: { mac: '01:00:5e:00:00:01' } }), /accessRouter\.mac: need a unicast MAC/)
    assert.throws(() => make({ accessRouter: { mac: '00:00:5e:00:52' } }), /accessRouter\.mac/)
    assert.throws(() => make({ accessRouter: { linkLocal: '2001:db8::1' } }), /accessRouter\.linkLocal: need an address in fe80::\/64/)
    assert.throws(() => make({ accessRouter: { linkLocal: 'fe80:0:0:1::1' } }), /fe80::\/64/)
    assert.throws(() => make({ accessRouter: { linkLocal: 'fe80::zz' } }), /accessRouter\.linkLocal/)
    assert.throws(() => make({ accessRouter: 'on' as unknown as false }), /accessRouter must be/)
    assert.throws(() => make({ dlif: true, accessRouter: { mac: PMIP_ROUTER.mac } }), /dlif/)
    assert.doesNotThrow(() => make({ dlif: true, accessRouter: false }))
    assert.deepEqual(fake.log, [])
  })
})

describe('radvd advertisements', () => {
  it('EUI-64 link-local of a MAC (RFC 4291 appendix A)', () => {
    assert.equal(eui64LinkLocal('02:00:00:00:00:01'), 'fe80::ff:fe00:1')
    assert.equal(eui64LinkLocal('00:1b:21:3a:4c:5d'), 'fe80::21b:21ff:fe3a:4c5d')
    assert.throws(() => eui64LinkLocal('zz:00:00:00:00:01'), /link-layer/)
  })

  it('local prefix preferred, the anchored-elsewhere one deprecated, unicast to that MN only', () => {
    const conf = radvdConfig(S.servingAt2().advertisements[0]!, { dlif: false })
    assert.match(conf, /interface acc0 \{/)
    assert.match(conf, new RegExp(`prefix ${PREF2.replace(/[.:/]/g, '\\$&')} \\{[^}]*AdvPreferredLifetime 14400;`))
    assert.match(conf, new RegExp(`prefix ${PREF1.replace(/[.:/]/g, '\\$&')} \\{[^}]*AdvPreferredLifetime 0;`))
    assert.match(conf, /clients \{ fe80::ff:fe00:1; \};/)
    assert.equal((conf.match(/^interface /gm) ?? []).length, 1)
  })

  it('with DLIF each anchor advertises its prefix from its own logical interface', () => {
    const conf = radvdConfig(S.servingAt2().advertisements[0]!, { dlif: true })
    const blocks = conf.split(/^interface /m).slice(1)
    assert.equal(blocks.length, 2)
    assert.ok(blocks.some(b => b.startsWith(dlifDevice('acc0', SID1)) && b.includes(PREF1) && !b.includes(PREF2)))
    assert.ok(blocks.some(b => b.startsWith(dlifDevice('acc0', SID2)) && b.includes(PREF2) && !b.includes(PREF1)))
  })

  it('one radvd per MN: started, reloaded with SIGHUP on change, stopped when the MN goes', async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'dmm-radvd-'))
    try {
      const fake = new FakeIp()
      const dp = new LinuxDataPlane({ tunnelKind: 'seg6', tunnelAddress: SID1, backboneInterface: 'bb0', runner: fake, radvd: { enabled: true, runDir } })
      await dp.start()
      const r1 = await dp.apply(S.attachedAt1())
      assert.ok(r1.changes.includes(`+ radvd ${MN}`), r1.changes.join('\n'))
      const started = fake.log.filter(l => l.startsWith('radvd '))
      assert.equal(started.length, 1)
      assert.match(started[0]!, new RegExp(`^radvd -C ${runDir}/radvd-[0-9a-f]{12}\\.conf -p ${runDir}/radvd-[0-9a-f]{12}\\.pid -m logfile -l `))
      const conf = await readFile(/-C (\S+)/.exec(started[0]!)![1]!, 'utf8')
      assert.match(conf, /AdvPreferredLifetime 14400/)

      const n = fake.log.length
      await dp.apply(S.attachedAt1())
      assert.equal(fake.log.length, n, 'same advertisement: nothing')

      await dp.apply(S.homeAt1())
      assert.ok(fake.log.includes(`kill -HUP ${process.pid}`))
      await dp.apply(S.anchorAt1())
      assert.ok(fake.log.includes(`kill -TERM ${process.pid}`))
      assert.deepEqual((await readdir(runDir)).filter(f => !f.endsWith('.log')), [])
    } finally {
      await rm(runDir, { recursive: true, force: true })
    }
  })
})

describe('checkLinuxSupport and ExecRunner', () => {
  it('says what is missing', async () => {
    const noIp = new FakeIp()
    noIp.missing.add('ip')
    const r = await checkLinuxSupport(noIp)
    if (process.getuid?.() !== 0) {
      assert.match(r.reason ?? '', /root/)
    } else {
      assert.equal(r.ok, false)
      assert.match(r.reason ?? '', /iproute2/)
      assert.deepEqual(await checkLinuxSupport(new FakeIp()), { ok: true })
      const noSeg6 = new FakeIp()
      noSeg6.missing.add('sysctl')
      assert.match((await checkLinuxSupport(noSeg6)).reason ?? '', /segment routing.*ip6tnl/)
      assert.deepEqual(await checkLinuxSupport(noSeg6, { tunnelKind: 'ip6tnl' }), { ok: true })
    }
  })

  it('ExecRunner puts ip into the namespace with -n and everything else under ip netns exec', () => {
    const r = new ExecRunner({ netns: 'maar1' })
    assert.deepEqual(r.wrap(['ip', '-6', 'route']), ['ip', '-n', 'maar1', '-6', 'route'])
    assert.deepEqual(r.wrap(['sysctl', '-w', 'x=1']), ['ip', 'netns', 'exec', 'maar1', 'sysctl', '-w', 'x=1'])
    assert.deepEqual(new ExecRunner().wrap(['ip', 'link']), ['ip', 'link'])
  })

  it('ExecRunner runs real processes, feeds stdin, and reports a missing binary as exit 127', async () => {
    const r = new ExecRunner()
    assert.deepEqual(await r.run(['cat'], 'hello\n'), { stdout: 'hello\n', stderr: '', code: 0 })
    assert.equal((await r.run(['sh', '-c', 'echo oops >&2; exit 3'])).code, 3)
    assert.equal((await r.run(['/nonexistent/dmm-no-such-binary'])).code, 127)
  })
})

/** Table numbers depend on the order prefixes arrived in; everything else must be equal. */
function withoutTables (o: ReturnType<FakeIp['ours']>): ReturnType<FakeIp['ours']> {
  return { routes: o.routes.map(r => r.replace(/^\d+ /, 'T ')).sort(), rules: o.rules.map(r => r.replace(/ \d+$/, ' T')).sort(), links: o.links }
}

describe('LinuxDataPlane properties (fake ip)', () => {
  const remotes = ['2001:db8:ff::2', '2001:db8:ff::3']
  const links = ['acc0', 'acc1']
  const mns = ['alice@dmm.example', 'bob@dmm.example', 'carol@dmm.example']
  /** One MN's part: each of its two prefixes local, down a tunnel, up a tunnel or absent. */
  const sliceArb = (who: number): fc.Arbitrary<DataPlaneState> => fc.array(
    fc.tuple(fc.constantFrom(1, 2), fc.constantFrom('local', 'down', 'up'), fc.constantFrom(...remotes), fc.constantFrom(...links)), { maxLength: 2 }
  ).map(roles => {
    const s = emptyState()
    const mnId = mns[who] as string
    const seen = new Set<number>()
    for (const [n, role, remote, accessLink] of roles) {
      if (seen.has(n)) continue
      seen.add(n)
      const prefix = `2001:db8:${who + 1}:${n}::/64`
      if (role === 'local') s.local.push({ mnId, prefix, accessLink, linkLayerId: MAC })
      else if (role === 'down') s.downlinks.push({ mnId, prefix, remote })
      else s.uplinks.push({ mnId, prefix, remote, accessLink })
    }
    return s
  })
  // A start state and steps that each change one MN (as a handover does), so that most applies
  // re-plan one MN while others share its tunnels and router devices.
  const statesArb: fc.Arbitrary<DataPlaneState[]> = fc.tuple(
    fc.tuple(...mns.map((_, who) => sliceArb(who))),
    fc.array(fc.nat(mns.length - 1).chain(who => sliceArb(who).map(slice => ({ who, slice }))), { maxLength: 6 })
  ).map(([start, steps]) => {
    const slices = [...start]
    const states = [joinSlices(slices)]
    for (const { who, slice } of steps) {
      slices[who] = slice
      states.push(joinSlices(slices))
    }
    return states
  })

  for (const kind of ['seg6', 'ip6tnl'] as const) {
    for (const [mode, extra] of [['plain access link', PLAIN], ['shared router', {}], ['DLIF', { dlif: true }]] as Array<[string, Extra]>) {
      it(`${kind}, ${mode}: any sequence of states: adds before deletes, idempotent, equal to a fresh driver's view, flush leaves nothing`, async () => {
        await fc.assert(fc.asyncProperty(statesArb, async (states) => {
          const { dp, fake } = await started(kind, SID1, new FakeIp(), extra)
          for (const s of states) {
            const before = fake.batches.length
            await dp.apply(s)
            for (const batch of fake.batches.slice(before)) {
              const firstDel = batch.findIndex(l => / del /.test(` ${l}`))
              if (firstDel >= 0) assert.ok(batch.slice(firstDel).every(l => / del /.test(` ${l}`)), batch.join('\n'))
            }
            const n = fake.log.length
            await dp.apply(s)
            assert.equal(fake.log.length, n)
            // A restarted driver reads the same kernel and finds nothing to do.
            const { dp: fresh } = await started(kind, SID1, fake, extra)
            const m = fake.batches.length
            await fresh.apply(s)
            assert.equal(fake.batches.length, m)
          }
          // What the changes programmed one after the other equals what one apply of the last state programs.
          const { dp: once, fake: clean } = await started(kind, SID1, new FakeIp(), extra)
          await once.apply(states[states.length - 1] as DataPlaneState)
          // (A shared router device stays on a link an MN has used, by design: the rest is equal.)
          const cleanOurs = clean.ours()
          const ours = fake.ours()
          ours.links = ours.links.filter(l => !l.startsWith('dmr') || cleanOurs.links.includes(l))
          assert.deepEqual(withoutTables(ours), withoutTables(cleanOurs))
          await dp.stop({ flush: true })
          assert.deepEqual(fake.ours(), { routes: [], rules: [], links: [] })
        }), { numRuns: 60 })
      })
    }
  }
})
