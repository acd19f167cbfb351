/**
 * dlif.ts: which router the MN sees for a prefix (RFC 8885 §3.6 DLIF, or the shared RFC 5213
 * §6.8 router), the same answer in the memory network and in the Linux driver's plan.
 */
import assert from 'node:assert/strict'
import { MemoryNetwork, PMIP_ROUTER, dlifMac, dlifRouter, emptyState, eui64LinkLocal, routerFor, routerMode } from '../src/index.js'
import type { DataPlaneState, DlifSettings, MemoryDataPlane, MnRouter } from '../src/index.js'
import { routerLink } from '../src/linux/plan.js'

const MAAR1 = '2001:db8:ffff::1'
const MAAR2 = '2001:db8:ffff::2'
const PREF1 = '2001:db8:1::/64'
const PREF2 = '2001:db8:2::/64'
const LL = '02:00:00:00:00:01'

describe('dlif.ts: the router an MN sees for a prefix', () => {
  it('with DLIF: the anchor\'s logical router, derived from the anchor alone', () => {
    const mode = routerMode({ dlif: true })
    assert.deepEqual(routerFor(mode, MAAR1), { mac: dlifMac(MAAR1), linkLocal: eui64LinkLocal(dlifMac(MAAR1)) })
    assert.deepEqual(routerFor(mode, MAAR1), dlifRouter(MAAR1))
    assert.notDeepEqual(routerFor(mode, MAAR1), routerFor(mode, MAAR2))
  })

  it('without DLIF: one shared router for every anchor, RFC 6543\'s by default, or none', () => {
    assert.deepEqual(routerMode({}), { dlif: false, router: PMIP_ROUTER })
    for (const anchor of [MAAR1, MAAR2]) assert.deepEqual(routerFor(routerMode({}), anchor), PMIP_ROUTER)
    const mine = routerMode({ accessRouter: { mac: '02:AA:00:00:00:01' } })
    assert.deepEqual(routerFor(mine, MAAR2), { mac: '02:aa:00:00:00:01', linkLocal: 'fe80::aa:ff:fe00:1' })
    assert.equal(routerFor(routerMode({ accessRouter: false }), MAAR1), undefined)
    assert.deepEqual(routerMode({ dlif: true, accessRouter: false }), { dlif: true })
  })

  it('refuses settings it cannot honour, naming the field', () => {
    assert.throws(() => routerMode({ dlif: 'yes' as unknown as boolean }), /dlif must be true or false, got "yes"/)
    assert.throws(() => routerMode({ dlif: true, accessRouter: { mac: PMIP_ROUTER.mac } }), /accessRouter: DLIF shows one router per anchor/)
    assert.throws(() => routerMode({ accessRouter: { mac: '01:00:5e:00:00:01' } }), /accessRouter\.mac: need a unicast MAC/)
    assert.throws(() => routerMode({ accessRouter: { linkLocal: '2001:db8::1' } }), /accessRouter\.linkLocal: need an address in fe80::\/64/)
  })
})

/** The MN attached at maar1 (PREF1 local), then moved to maar2 (PREF2 local, PREF1 up the tunnel). */
async function moveAcross (settings: DlifSettings): Promise<{ before: MnRouter[], after: MnRouter[], net: MemoryNetwork }> {
  const net = new MemoryNetwork()
  const dp: MemoryDataPlane[] = [
    net.createDataPlane({ name: 'maar1', address: MAAR1, pools: ['2001:db8:1::/48'], ...settings }),
    net.createDataPlane({ name: 'maar2', address: MAAR2, pools: ['2001:db8:2::/48'], ...settings })
  ]
  for (const d of dp) await d.start()
  net.attachMn('alice', MAAR1)
  await dp[0]!.apply(at1())
  const before = net.mnRouters('alice')
  net.attachMn('alice', MAAR2)
  await dp[1]!.apply(at2())
  await dp[0]!.apply({ ...emptyState(), downlinks: [{ mnId: 'alice', prefix: PREF1, remote: MAAR2 }] })
  return { before, after: net.mnRouters('alice'), net }
}

function at1 (): DataPlaneState {
  return {
    ...emptyState(),
    local: [{ mnId: 'alice', prefix: PREF1, accessLink: 'acc0', linkLayerId: LL }],
    advertisements: [{ mnId: 'alice', accessLink: 'acc0', linkLayerId: LL, prefixes: [{ prefix: PREF1, preferred: true, anchor: MAAR1 }] }]
  }
}

function at2 (): DataPlaneState {
  return {
    ...emptyState(),
    local: [{ mnId: 'alice', prefix: PREF2, accessLink: 'acc0', linkLayerId: LL }],
    uplinks: [{ mnId: 'alice', prefix: PREF1, remote: MAAR1, accessLink: 'acc0' }],
    advertisements: [{ mnId: 'alice', accessLink: 'acc0', linkLayerId: LL, prefixes: [{ prefix: PREF2, preferred: true, anchor: MAAR2 }, { prefix: PREF1, preferred: false, anchor: MAAR1 }] }]
  }
}

const linkLocals = (routers: MnRouter[]): Record<string, string> => Object.fromEntries(routers.map(r => [r.prefix, r.linkLocal]))

describe('MemoryNetwork: the router an MN sees across a move', () => {
  it('with DLIF the MN keeps its anchor\'s router for the old prefix and sees the new anchor\'s for the new one', async () => {
    const { before, after } = await moveAcross({ dlif: true })
    assert.deepEqual(before, [{ prefix: PREF1, anchor: MAAR1, ...dlifRouter(MAAR1) }])
    assert.deepEqual(after, [{ prefix: PREF2, anchor: MAAR2, ...dlifRouter(MAAR2) }, { prefix: PREF1, anchor: MAAR1, ...dlifRouter(MAAR1) }])
  })

  it('without DLIF every MAAR is the one shared router (RFC 5213 §6.8)', async () => {
    const { before, after } = await moveAcross({})
    assert.deepEqual(before.map(r => r.mac), [PMIP_ROUTER.mac])
    assert.deepEqual(linkLocals(after), { [PREF1]: PMIP_ROUTER.linkLocal, [PREF2]: PMIP_ROUTER.linkLocal })
  })

  it('with the access link\'s own router the MN sees a different router after the move', async () => {
    const { before, after } = await moveAcross({ accessRouter: false })
    assert.notEqual(before[0]!.linkLocal, after[0]!.linkLocal)
    assert.equal(after[0]!.linkLocal, after[1]!.linkLocal, 'one serving MAAR, one router')
  })

  it('a MAAR restarted with another mode shows its MNs the new router on its first apply', async () => {
    const net = new MemoryNetwork()
    const maar = { name: 'maar1', address: MAAR1, pools: ['2001:db8:1::/48'] }
    const first = net.createDataPlane(maar)
    await first.start()
    net.attachMn('alice', MAAR1)
    await first.apply(at1())
    assert.equal(net.mnRouters('alice')[0]!.linkLocal, PMIP_ROUTER.linkLocal)
    await first.stop()
    const again = net.createDataPlane({ ...maar, dlif: true })
    await again.start()
    assert.deepEqual((await again.apply(at1())).changes, [], 'the same routes and advertisements')
    assert.equal(net.mnRouters('alice')[0]!.linkLocal, dlifRouter(MAAR1).linkLocal)
  })

  it('refuses settings it cannot honour before it creates the MAAR', () => {
    const net = new MemoryNetwork()
    assert.throws(() => net.createDataPlane({ name: 'maar1', address: MAAR1, pools: ['2001:db8:1::/48'], dlif: true, accessRouter: { mac: PMIP_ROUTER.mac } }), /accessRouter: DLIF/)
    assert.doesNotThrow(() => net.createDataPlane({ name: 'maar1', address: MAAR1, pools: ['2001:db8:1::/48'] }))
  })

  it('the MN learns each prefix from the MAC the Linux driver advertises it from', async () => {
    for (const settings of [{ dlif: true }, {}] as DlifSettings[]) {
      const { after } = await moveAcross(settings)
      const mode = routerMode(settings)
      for (const r of after) assert.equal(routerLink(mode, 'acc0', r.anchor)?.mac, r.mac, `${JSON.stringify(settings)} ${r.prefix}`)
    }
  })
})
