/**
 * A restarted MAAR re-establishes the truth for every binding (issue 9 finding 2): it takes no MN
 * as present until it attaches again, re-points prefixes whose MN moved on while it was down,
 * releases those of sessions that ended, and never keeps a reservation that became nothing.
 * Real libp2p and LevelDB in one process; retransmission is slowed to an hour so that what is
 * seen here is the repair's doing, not a retransmitted PBU's.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { BindingCache } from '@dmm-mesh/binding-cache'
import type { HandoverReport } from '../src/index.js'
import { useMesh } from './mesh-fixture.js'

const LL = '02:00:00:00:00:03'
const HOUR = 3_600_000

describe('MAAR restart repair', function () {
  this.timeout(120_000)
  let now = Date.now()
  const lines: string[] = []
  const fx = useMesh('repair', {
    count: 3,
    lifetime: 8,
    lifetimeCheckIntervalMs: 0,
    clock: () => now,
    log: (_l, line) => { lines.push(line) },
    maarInit: { retransmission: { initialMs: HOUR, maxMs: HOUR } }
  }, LL)
  const { m, binding } = fx

  /** The injected clock moves on a little with each attach, as time does. */
  async function move (mnId: string, i: number): Promise<HandoverReport> {
    now += 10
    return await fx.move(mnId, i)
  }

  it('an anchor that was down while the MN moved on re-points its prefix to the new serving MAAR', async () => {
    const mn = 'rita@dmm.example'
    const first = await move(mn, 1)
    await move(mn, 2)
    await fx.mesh.stopMaar(0)
    const third = await move(mn, 3)
    assert.equal(third.complete, false, 'maar1 did not answer: a partial handover')
    assert.deepEqual(third.anchors.filter(a => a.pending === true).map(a => a.prefix), [first.localPrefix])
    await fx.mesh.restartMaar(0)
    const outcomes = await m(1).maar.repaired()
    assert.deepEqual(outcomes.find(o => o.mnId === mn)?.action, 're-pointed', JSON.stringify(outcomes))
    assert.equal((await binding(1, mn))?.servingMaar?.address, m(3).address)
    // The kernel-level proof in the memory network: the CN reaches the old address through maar1, into maar3.
    const address = fx.mesh.network.mnAddresses(mn).find(a => a.startsWith(first.localPrefix.split('::')[0] ?? 'x'))
    assert.ok(address !== undefined, 'the MN still holds its first address')
    const down = fx.mesh.network.traceFromCn(address)
    assert.ok(down.delivered, down.hops.join(' > ') + (down.reason ?? ''))
    assert.deepEqual([down.hops[1], down.hops.at(-2)], ['maar1', 'maar3'], down.hops.join(' > '))
  })

  it('a serving MAAR that was down while its MN moved away becomes that MN\'s anchor', async () => {
    const mn = 'sam@dmm.example'
    const first = await move(mn, 1)
    await fx.mesh.stopMaar(0)
    const second = await move(mn, 2)
    assert.equal(second.complete, false)
    await fx.mesh.restartMaar(0)
    const outcomes = await m(1).maar.repaired()
    assert.equal(outcomes.find(o => o.mnId === mn)?.action, 're-pointed', JSON.stringify(outcomes))
    const bce = await binding(1, mn)
    assert.equal(bce?.attached, false, 'maar1 no longer believes it serves the MN')
    assert.equal(bce?.servingMaar?.address, m(2).address)
    assert.deepEqual(bce?.localPrefixes, [first.localPrefix])
    // A later attach at maar1 is a real return, signalled, not a silent refresh.
    const back = await move(mn, 1)
    assert.equal(back.kind, 'return')
    assert.equal((await binding(2, mn))?.servingMaar?.address, m(1).address)
    await m(1).maar.deregister(mn)
  })

  it('releases the prefix of a session withdrawn while it was down', async () => {
    const mn = 'tom@dmm.example'
    const first = await move(mn, 1)
    await move(mn, 2)
    await fx.mesh.stopMaar(0)
    await m(2).maar.deregister(mn)
    await m(2).maar.settled()
    await fx.mesh.restartMaar(0)
    const outcomes = await m(1).maar.repaired()
    assert.equal(outcomes.find(o => o.mnId === mn)?.action, 'released', JSON.stringify(outcomes))
    assert.equal(await binding(1, mn), undefined)
    assert.equal((await m(1).cache.allocations()).has(first.localPrefix), false, 'the prefix is free again')
  })

  it('releases a reservation that never became a registration (no leaked prefix)', async () => {
    await fx.mesh.stopMaar(0)
    const cache = await BindingCache.open(join(fx.dir, 'maar1'))
    const prefix = '2001:db8:1:ff::/64'
    await cache.commit({
      put: [{ mnId: 'uma@dmm.example', localPrefixes: [prefix], attached: false, remoteAnchors: [], lastUpdate: { sequence: 0, timestampMs: 0 }, sessionSequence: 0, createdAt: now, updatedAt: now }],
      allocate: [{ prefix, mnId: 'uma@dmm.example' }]
    })
    await cache.close()
    await fx.mesh.restartMaar(0)
    const outcomes = await m(1).maar.repaired()
    assert.equal(outcomes.find(o => o.mnId === 'uma@dmm.example')?.action, 'released')
    assert.equal((await m(1).cache.allocations()).has(prefix), false)
  })

  it('takes no MN as present after a restart until it attaches again: its registration runs out', async () => {
    const mn = 'vic@dmm.example'
    await move(mn, 2)
    await fx.mesh.restartMaar(1)
    await m(2).maar.repaired()
    now += 9_000 // past the 8 s lifetime
    await m(2).maar.checkLifetimes()
    assert.equal(await binding(2, mn), undefined, 'de-registered: nobody said the MN is still there')
    assert.ok(lines.some(l => l.includes('de-registered') && l.includes(mn) && l.includes('lifetime expired')))
  })

  it('an MN that attaches again after the restart is registered again and refreshed from then on', async () => {
    const mn = 'wes@dmm.example'
    await move(mn, 2)
    await fx.mesh.restartMaar(1)
    await m(2).maar.repaired()
    const again = await move(mn, 2)
    assert.notEqual(again.kind, 'refresh', 'the first attach after a restart is signalled again')
    now += 6_000
    await m(2).maar.checkLifetimes()
    assert.equal((await binding(2, mn))?.expiresAt, now + 8_000, 'present again: refreshed')
    await m(2).maar.deregister(mn)
  })
})
