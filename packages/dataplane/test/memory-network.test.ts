import assert from 'node:assert/strict'
import fc from 'fast-check'
import { HOP_LIMIT, MemoryNetwork, emptyState } from '../src/index.js'
import type { DataPlaneState, MemoryDataPlane } from '../src/index.js'

const LL = '02:00:00:00:00:01'
const maar = (i: number): { name: string, address: string, pools: string[] } => ({ name: `maar${i}`, address: `2001:db8:ffff::${i}`, pools: [`2001:db8:${i}::/48`] })
const prefix = (i: number, n = 0): string => `2001:db8:${i}:${n === 0 ? '' : `${n.toString(16)}:`}:/64`.replace(':::', '::')

/** What a serving MAAR programs: its prefix native, the older ones up the tunnel to their anchors. */
function serving (mnId: string, local: string, anchors: Array<{ prefix: string, remote: string }>, address: string): DataPlaneState {
  return {
    local: [{ mnId, prefix: local, accessLink: 'access0', linkLayerId: LL }],
    uplinks: anchors.map(a => ({ mnId, prefix: a.prefix, remote: a.remote, accessLink: 'access0' })),
    downlinks: [],
    advertisements: [{ mnId, accessLink: 'access0', linkLayerId: LL, prefixes: [{ prefix: local, preferred: true, anchor: address }, ...anchors.map(a => ({ prefix: a.prefix, preferred: false, anchor: a.remote }))] }]
  }
}
const anchoring = (mnId: string, prefixes: string[], remote: string): DataPlaneState => ({ ...emptyState(), downlinks: prefixes.map(p => ({ mnId, prefix: p, remote })) })

async function mesh (count: number): Promise<{ net: MemoryNetwork, dp: MemoryDataPlane[] }> {
  const net = new MemoryNetwork()
  const dp = Array.from({ length: count }, (_, i) => net.createDataPlane(maar(i + 1)))
  for (const d of dp) await d.start()
  return { net, dp }
}

describe('MemoryNetwork forwarding', () => {
  it('first attach: the MN forms an EUI-64 address and is reached natively both ways', async () => {
    const { net, dp } = await mesh(3)
    net.attachMn('alice', maar(1).address)
    assert.deepEqual(net.mnAddresses('alice'), [], 'no advertisement yet, no address')
    const before = net.traceFromCn('2001:db8:1::ff:fe00:1')
    assert.deepEqual(before, { delivered: false, hops: ['CN', 'maar1'], reason: 'no route to 2001:db8:1::ff:fe00:1 at maar1' })
    await dp[0]!.apply(serving('alice', prefix(1), [], maar(1).address))
    assert.deepEqual(net.mnAddressInfo('alice'), [{ address: '2001:db8:1::ff:fe00:1', prefix: '2001:db8:1::/64', preferred: true, anchor: '2001:db8:ffff::1' }])
    assert.deepEqual(net.traceFromCn('2001:db8:1::ff:fe00:1'), { delivered: true, hops: ['CN', 'maar1', 'mn:alice'] })
    assert.deepEqual(net.traceFromMn('alice', '2001:db8:1::ff:fe00:1'), { delivered: true, hops: ['mn:alice', 'maar1', 'CN'] })
    const stranger = net.traceFromCn('2001:db8:1::99')
    assert.equal(stranger.delivered, false)
    assert.match(stranger.reason ?? '', /no neighbour holds 2001:db8:1::99 on maar1 access0/)
  })

  it('handover: CN -> anchor -> tunnel -> serving MAAR -> MN, and the uplink back through the anchor', async () => {
    const { net, dp } = await mesh(3)
    net.attachMn('alice', maar(1).address)
    await dp[0]!.apply(serving('alice', prefix(1), [], maar(1).address))
    const old = net.mnAddresses('alice')[0]!
    // alice moves to maar3: it serves her new prefix natively and tunnels the old one to maar1.
    net.attachMn('alice', maar(3).address)
    await dp[2]!.apply(serving('alice', prefix(3), [{ prefix: prefix(1), remote: maar(1).address }], maar(3).address))
    await dp[0]!.apply(anchoring('alice', [prefix(1)], maar(3).address))
    assert.deepEqual(net.mnAddressInfo('alice').map(a => [a.address, a.preferred, a.anchor]), [
      ['2001:db8:3::ff:fe00:1', true, '2001:db8:ffff::3'],
      [old, false, '2001:db8:ffff::1']
    ], 'the new prefix preferred, the old one deprecated but still held')
    assert.deepEqual(net.traceFromCn(old), { delivered: true, hops: ['CN', 'maar1', 'tunnel->maar3', 'maar3', 'mn:alice'] })
    assert.deepEqual(net.traceFromMn('alice', old), { delivered: true, hops: ['mn:alice', 'maar3', 'tunnel->maar1', 'maar1', 'CN'] })
    assert.deepEqual(net.traceFromCn('2001:db8:3::ff:fe00:1'), { delivered: true, hops: ['CN', 'maar3', 'mn:alice'] })
    assert.deepEqual(net.traceFromMn('alice', '2001:db8:3::ff:fe00:1'), { delivered: true, hops: ['mn:alice', 'maar3', 'CN'] })
    assert.equal(net.mnLocation('alice'), 'maar3')
  })

  it('the MN moved but no tunnel exists yet: the packet is lost at the anchor, and the uplink source is not routable', async () => {
    const { net, dp } = await mesh(3)
    net.attachMn('alice', maar(1).address)
    await dp[0]!.apply(serving('alice', prefix(1), [], maar(1).address))
    const old = net.mnAddresses('alice')[0]!
    net.attachMn('alice', maar(2).address)
    assert.deepEqual(net.mnAddresses('alice'), [old], 'the MN keeps its address until a new advertisement')
    assert.deepEqual(net.traceFromCn(old), { delivered: false, hops: ['CN', 'maar1'], reason: 'mn:alice is not on the access link of maar1' })
    assert.deepEqual(net.traceFromMn('alice', old), { delivered: false, hops: ['mn:alice', 'maar2'], reason: `source not routable: ${old} is in no local or uplink prefix of maar2` })
    // The anchor withdrew its local route but set up no tunnel: unreachable at the anchor, not bounced.
    await dp[0]!.apply(emptyState())
    assert.deepEqual(net.traceFromCn(old), { delivered: false, hops: ['CN', 'maar1'], reason: `no route to ${old} at maar1` })
    net.attachMn('alice', undefined)
    assert.equal(net.traceFromMn('alice', old).reason, 'mn:alice is not attached to any MAAR')
  })

  it('a tunnel loop between two anchors ends at the hop limit with reason loop', async () => {
    const { net, dp } = await mesh(2)
    await dp[0]!.apply(anchoring('alice', [prefix(1)], maar(2).address))
    await dp[1]!.apply(anchoring('alice', [prefix(1)], maar(1).address))
    const t = net.traceFromCn('2001:db8:1::1')
    assert.equal(t.delivered, false)
    assert.equal(t.reason, 'loop')
    assert.equal(t.hops.filter(h => /^maar\d$/.test(h)).length, HOP_LIMIT, 'one MAAR per hop-limit decrement')
    assert.deepEqual(t.hops.slice(0, 6), ['CN', 'maar1', 'tunnel->maar2', 'maar2', 'tunnel->maar1', 'maar1'])
  })

  it('the tunnel end that serves no MN with the prefix refuses it instead of sending it back through the backbone (no loop)', async () => {
    const { net, dp } = await mesh(2)
    await dp[0]!.apply(anchoring('alice', [prefix(1)], maar(2).address))
    assert.deepEqual(net.traceFromCn('2001:db8:1::1'), { delivered: false, hops: ['CN', 'maar1', 'tunnel->maar2', 'maar2'], reason: 'no route to 2001:db8:1::1 at maar2' })
  })

  it('out of the tunnel, the anchor forwards the uplink only from a prefix it tunnels to a serving MAAR', async () => {
    const { net, dp } = await mesh(2)
    net.attachMn('alice', maar(2).address)
    await dp[1]!.apply(serving('alice', prefix(2), [{ prefix: prefix(1), remote: maar(1).address }], maar(2).address))
    const old = net.mnAddressInfo('alice').find(a => a.prefix === prefix(1))!.address
    assert.deepEqual(net.traceFromMn('alice', old), { delivered: false, hops: ['mn:alice', 'maar2', 'tunnel->maar1', 'maar1'], reason: `no route from ${old} at maar1: it tunnels that prefix to no serving MAAR` })
    await dp[0]!.apply(anchoring('alice', [prefix(1)], maar(2).address))
    assert.deepEqual(net.traceFromMn('alice', old), { delivered: true, hops: ['mn:alice', 'maar2', 'tunnel->maar1', 'maar1', 'CN'] })
  })

  it('reports unknown tunnel ends, unrouted destinations and malformed addresses', async () => {
    const { net, dp } = await mesh(1)
    await dp[0]!.apply(anchoring('alice', [prefix(1)], '2001:db8:ffff::99'))
    assert.deepEqual(net.traceFromCn('2001:db8:1::1'), { delivered: false, hops: ['CN', 'maar1', 'tunnel->2001:db8:ffff::99'], reason: 'tunnel remote 2001:db8:ffff::99 is no MAAR on the backbone' })
    assert.deepEqual(net.traceFromCn('2001:db9::1'), { delivered: false, hops: ['CN'], reason: 'no route on the backbone to 2001:db9::1' })
    assert.equal(net.traceFromCn('not-an-address').reason, 'invalid destination address "not-an-address"')
    assert.equal(net.traceFromMn('alice', '2001:db8:1::zz').reason, 'invalid source address "2001:db8:1::zz"')
    assert.throws(() => { net.attachMn('alice', '2001:db8:ffff::42') }, /no MAAR with address 2001:db8:ffff::42/)
    assert.throws(() => { net.attachMn('', undefined) }, /non-empty/)
  })

  it('derives a stable hashed interface id when the link-layer id is not a MAC', async () => {
    const { net, dp } = await mesh(1)
    net.attachMn('bob', maar(1).address)
    const state = serving('bob', prefix(1, 2), [], maar(1).address)
    state.advertisements[0]!.linkLayerId = 'imsi-001010000000001'
    await dp[0]!.apply(state)
    const [a] = net.mnAddresses('bob')
    assert.ok(a !== undefined && a.startsWith('2001:db8:1:2:') && a !== '2001:db8:1:2::ff:fe00:1', String(a))
    const again = new MemoryNetwork()
    const d = again.createDataPlane(maar(1))
    await d.start()
    again.attachMn('bob', maar(1).address)
    await d.apply(state)
    assert.deepEqual(again.mnAddresses('bob'), [a])
    assert.deepEqual(net.traceFromCn(a), { delivered: true, hops: ['CN', 'maar1', 'mn:bob'] })
  })

  it('property: along any path of moves, every prefix reaches the MN through its anchor, both ways', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 8 }), async path => {
      const { net, dp } = await mesh(4)
      const mn = 'carol'
      const anchors = new Map<number, string>() // MAAR index -> prefix anchored there
      for (const i of path) {
        if (!anchors.has(i)) anchors.set(i, prefix(i, 7))
        net.attachMn(mn, maar(i).address)
        for (const [j, p] of anchors) {
          await dp[j - 1]!.apply(j === i
            ? serving(mn, p, [...anchors].filter(([k]) => k !== i).map(([k, q]) => ({ prefix: q, remote: maar(k).address })), maar(i).address)
            : anchoring(mn, [p], maar(i).address))
        }
        assert.equal(net.mnAddresses(mn).length, anchors.size)
        for (const info of net.mnAddressInfo(mn)) {
          const anchor = [...anchors].find(([, p]) => p === info.prefix)?.[0]
          assert.ok(anchor !== undefined)
          const down = net.traceFromCn(info.address)
          const up = net.traceFromMn(mn, info.address)
          assert.ok(down.delivered && up.delivered, `${down.hops.join(' > ')} / ${up.hops.join(' > ')}`)
          assert.equal(down.hops[1], `maar${anchor}`)
          assert.equal(up.hops.at(-2), `maar${anchor}`)
          assert.equal(down.hops.includes('tunnel->maar' + String(i)), anchor !== i)
          assert.equal(info.preferred, anchor === i)
        }
      }
    }), { numRuns: 50 })
  })
})
