import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DataPlaneStateError, FullApplyNeeded, MemoryNetwork, emptyState } from '../src/index.js'
import type { DataPlaneState } from '../src/index.js'

const M1 = { name: 'maar1', address: '2001:db8:ffff::1', pools: ['2001:db8:1::/48'] }
const M2 = { name: 'maar2', address: '2001:db8:ffff::2', pools: ['2001:db8:2::/48'] }
const LL = '02:00:00:00:00:01'

const anchorState = (remote: string): DataPlaneState => ({
  ...emptyState(),
  local: [{ mnId: 'bob', prefix: '2001:db8:1:2::/64', accessLink: 'access0', linkLayerId: LL }],
  downlinks: [{ mnId: 'alice', prefix: '2001:db8:1::/64', remote }],
  advertisements: [{ mnId: 'bob', accessLink: 'access0', linkLayerId: LL, prefixes: [{ prefix: '2001:db8:1:2::/64', preferred: true, anchor: M1.address }] }]
})

async function started (net = new MemoryNetwork(), maar = M1) {
  const dp = net.createDataPlane(maar)
  await dp.start()
  return dp
}

describe('MemoryDataPlane apply', () => {
  it('records what it added, and applying the same state again changes nothing', async () => {
    const dp = await started()
    const first = await dp.apply(anchorState(M2.address))
    assert.deepEqual(first.changes, [
      '+ local 2001:db8:1:2::/64 dev access0 mn bob lladdr 02:00:00:00:00:01',
      '+ downlink 2001:db8:1::/64 -> 2001:db8:ffff::2 mn alice',
      '+ ra bob on access0 to 02:00:00:00:00:01: 2001:db8:1:2::/64 preferred anchor 2001:db8:ffff::1'
    ])
    assert.ok(first.elapsedMs >= 0)
    assert.deepEqual((await dp.apply(anchorState(M2.address))).changes, [])
    assert.deepEqual(dp.current(), {
      local: [{ mnId: 'bob', prefix: '2001:db8:1:2::/64', accessLink: 'access0', linkLayerId: LL }],
      uplinks: [],
      downlinks: [{ mnId: 'alice', prefix: '2001:db8:1::/64', remote: M2.address }],
      advertisements: [{ mnId: 'bob', accessLink: 'access0', linkLayerId: LL, prefixes: [{ prefix: '2001:db8:1:2::/64', preferred: true, anchor: M1.address }] }]
    })
  })

  it('a partial apply (`only`) changes those MNs alone, removes one of them absent from the state, and needs a whole apply first', async () => {
    const dp = await started()
    const carol = { mnId: 'carol', prefix: '2001:db8:1:3::/64', remote: M2.address }
    await assert.rejects(dp.apply({ ...emptyState(), downlinks: [carol] }, { only: ['carol'] }), FullApplyNeeded)
    await dp.apply(anchorState(M2.address))
    // Only alice's part is given, moved to another MAAR; bob is not named and keeps his.
    const moved = await dp.apply({ ...emptyState(), downlinks: [{ mnId: 'alice', prefix: '2001:db8:1::/64', remote: '2001:db8:ffff::3' }] }, { only: ['alice'] })
    assert.deepEqual(moved.changes, ['~ downlink 2001:db8:1::/64 -> 2001:db8:ffff::3 mn alice (was: downlink 2001:db8:1::/64 -> 2001:db8:ffff::2 mn alice)'])
    assert.equal(dp.current().local[0]?.mnId, 'bob')
    // alice named but absent: her part goes; carol added; bob still untouched.
    const next = await dp.apply({ ...emptyState(), downlinks: [carol] }, { only: ['alice', 'carol'] })
    assert.equal(next.changes.length, 2, next.changes.join('; '))
    assert.deepEqual(dp.current().downlinks, [carol])
    assert.deepEqual(dp.current().local.map(l => l.mnId), ['bob'])
    // The same as a whole apply of the state the partial ones reached: nothing to change.
    assert.deepEqual((await dp.apply({ ...anchorState(M2.address), downlinks: [carol] })).changes, [])
    // A part that clashes with an MN not named is still refused (one route per prefix).
    await assert.rejects(dp.apply({ ...emptyState(), downlinks: [{ mnId: 'dave', prefix: '2001:db8:1:3::/64', remote: M2.address }] }, { only: ['dave'] }), DataPlaneStateError)
  })

  it('diffs: replacements and additions come before deletions', async () => {
    const dp = await started()
    await dp.apply(anchorState(M2.address))
    const next = anchorState('2001:db8:ffff::3')
    next.local = []
    next.advertisements = []
    next.uplinks = [{ mnId: 'carol', prefix: '2001:db8:5::/64', remote: '2001:db8:ffff::5', accessLink: 'access1' }]
    assert.deepEqual((await dp.apply(next)).changes, [
      '~ downlink 2001:db8:1::/64 -> 2001:db8:ffff::3 mn alice (was: downlink 2001:db8:1::/64 -> 2001:db8:ffff::2 mn alice)',
      '+ uplink 2001:db8:5::/64 from access1 -> 2001:db8:ffff::5 mn carol',
      '- local 2001:db8:1:2::/64 dev access0 mn bob lladdr 02:00:00:00:00:01',
      '- ra bob on access0 to 02:00:00:00:00:01: 2001:db8:1:2::/64 preferred anchor 2001:db8:ffff::1'
    ])
    // A prefix whose role changes (the MN came back: downlink -> local) is one replacement.
    const back: DataPlaneState = { ...emptyState(), local: [{ mnId: 'alice', prefix: '2001:db8:1::/64', accessLink: 'access0', linkLayerId: LL }] }
    assert.deepEqual((await dp.apply(back)).changes, [
      '~ local 2001:db8:1::/64 dev access0 mn alice lladdr 02:00:00:00:00:01 (was: downlink 2001:db8:1::/64 -> 2001:db8:ffff::3 mn alice)',
      '- uplink 2001:db8:5::/64 from access1 -> 2001:db8:ffff::5 mn carol'
    ])
  })

  it('compares canonical text: the same state written differently is no change', async () => {
    const dp = await started()
    await dp.apply(anchorState(M2.address))
    const shouted = anchorState('2001:DB8:FFFF:0:0:0:0:2')
    shouted.downlinks[0]!.prefix = '2001:0db8:0001:0000::/64'
    assert.deepEqual((await dp.apply(shouted)).changes, [])
    assert.equal(dp.current().downlinks[0]?.remote, '2001:db8:ffff::2')
  })

  it('property: apply(s) then apply(s) again is empty, and current() is what apply(s) reached from any start', async () => {
    const dp = await started()
    const prefix = fc.integer({ min: 0, max: 15 }).map(i => `2001:db8:1:${i.toString(16)}::/64`.replace(':1:0::', ':1::'))
    const remote = fc.constantFrom('2001:db8:ffff::2', '2001:db8:ffff::3')
    const stateArb = fc.uniqueArray(fc.tuple(prefix, fc.constantFrom('local', 'downlink', 'uplink'), remote), { selector: t => t[0], maxLength: 8 })
      .map(rows => {
        const s = emptyState()
        for (const [p, kind, r] of rows) {
          if (kind === 'local') s.local.push({ mnId: `mn-${p}`, prefix: p, accessLink: 'access0', linkLayerId: LL })
          else if (kind === 'downlink') s.downlinks.push({ mnId: `mn-${p}`, prefix: p, remote: r })
          else s.uplinks.push({ mnId: `mn-${p}`, prefix: p, remote: r, accessLink: 'access0' })
        }
        return s
      })
    const sorted = (s: DataPlaneState): string => JSON.stringify([s.local, s.downlinks, s.uplinks].map(l => [...l].sort((a, b) => a.prefix.localeCompare(b.prefix))))
    await fc.assert(fc.asyncProperty(stateArb, stateArb, async (from, to) => {
      await dp.apply(from)
      const r = await dp.apply(to)
      assert.equal(sorted(dp.current()), sorted(to))
      const firstDelete = r.changes.findIndex(c => c.startsWith('-'))
      assert.ok(firstDelete === -1 || r.changes.slice(firstDelete).every(c => c.startsWith('-')), 'no addition after a deletion')
      assert.deepEqual((await dp.apply(to)).changes, [])
    }))
  })

  it('refuses an invalid or conflicting state as a whole and keeps what was programmed', async () => {
    const dp = await started()
    await dp.apply(anchorState(M2.address))
    const before = dp.current()
    const bad: Array<[DataPlaneState, RegExp]> = [
      [{ ...anchorState(M2.address), downlinks: [{ mnId: 'alice', prefix: '2001:db8:1::1/64', remote: M2.address }] }, /downlinks\[0\]\.prefix.*host bits/],
      [{ ...anchorState(M2.address), downlinks: [{ mnId: 'alice', prefix: '2001:db8:1::/64', remote: 'maar2' }] }, /downlinks\[0\]\.remote/],
      [{ ...anchorState(M2.address), downlinks: [{ mnId: 'alice', prefix: '2001:db8:1:2::/64', remote: M2.address }] }, /downlinks\[0\].*2001:db8:1:2::\/64 already has "local/],
      [{ ...anchorState(M2.address), uplinks: [{ mnId: '', prefix: '2001:db8:9::/64', remote: M2.address, accessLink: 'a' }] }, /uplinks\[0\]\.mnId/],
      [{ ...emptyState(), advertisements: [{ mnId: 'x', accessLink: 'a', linkLayerId: LL, prefixes: [{ prefix: '2001:db8:1::/64', preferred: 'yes' as unknown as boolean, anchor: M1.address }] }] }, /preferred/],
      [{ ...emptyState(), advertisements: [{ mnId: 'x', accessLink: 'a', linkLayerId: LL, prefixes: [{ prefix: '2001:db8:1::/64', preferred: true, anchor: M1.address }, { prefix: '2001:db8:1::/64', preferred: false, anchor: M1.address }] }] }, /advertised twice/],
      [{ local: [] } as unknown as DataPlaneState, /uplinks: expected an array/]
    ]
    for (const [state, message] of bad) {
      await assert.rejects(dp.apply(state), (err: unknown) => err instanceof DataPlaneStateError && message.test(err.message))
      assert.deepEqual(dp.current(), before)
    }
    // The very same entry twice is not a conflict.
    const dup = anchorState(M2.address)
    dup.downlinks.push({ ...dup.downlinks[0]! })
    assert.deepEqual((await dp.apply(dup)).changes, [])
  })

  it('a prefix may pass from one MN to another within one apply (the first gave it up)', async () => {
    const dp = await started()
    await dp.apply(anchorState(M2.address))
    const handedOver: DataPlaneState = { ...emptyState(), downlinks: [{ mnId: 'carol', prefix: '2001:db8:1::/64', remote: M2.address }] }
    assert.deepEqual((await dp.apply(handedOver)).changes, [
      '~ downlink 2001:db8:1::/64 -> 2001:db8:ffff::2 mn carol (was: downlink 2001:db8:1::/64 -> 2001:db8:ffff::2 mn alice)',
      '- local 2001:db8:1:2::/64 dev access0 mn bob lladdr 02:00:00:00:00:01',
      '- ra bob on access0 to 02:00:00:00:00:01: 2001:db8:1:2::/64 preferred anchor 2001:db8:ffff::1'
    ])
    assert.deepEqual(dp.current().downlinks, handedOver.downlinks)
  })
})

describe('MemoryDataPlane lifecycle', () => {
  it('refuses apply before start and after stop', async () => {
    const net = new MemoryNetwork()
    const dp = net.createDataPlane(M1)
    await assert.rejects(dp.apply(emptyState()), /is created, not started/)
    await dp.start()
    await dp.stop()
    await assert.rejects(dp.apply(emptyState()), /is stopped/)
    await assert.rejects(dp.start(), /was stopped/)
  })

  it('a restart keeps the programmed state (packets still flow) and the new driver reconciles it', async () => {
    const net = new MemoryNetwork()
    const first = await started(net)
    await started(net, M2)
    net.attachMn('bob', M1.address)
    await first.apply(anchorState(M2.address))
    const address = net.mnAddresses('bob')[0]!
    assert.throws(() => net.createDataPlane(M1), /maar1 already has a running data plane/)
    await first.stop()
    assert.equal(net.traceFromCn(address).delivered, true, 'routes stay in place while the MAAR restarts')
    const second = net.createDataPlane(M1)
    assert.deepEqual(second.current(), first.current(), 'the new driver finds the state it left')
    await second.start()
    assert.deepEqual((await second.apply({ ...anchorState(M2.address), downlinks: [] })).changes, ['- downlink 2001:db8:1::/64 -> 2001:db8:ffff::2 mn alice'])
    await second.stop({ flush: true })
    assert.deepEqual(second.current(), emptyState())
    assert.deepEqual(net.traceFromCn(address), { delivered: false, hops: ['CN', 'maar1'], reason: `no route to ${address} at maar1` })
  })

  it('refuses MAARs that clash on the backbone', () => {
    const net = new MemoryNetwork()
    net.createDataPlane(M1)
    assert.throws(() => net.createDataPlane({ ...M2, pools: ['2001:db8:1:8000::/49'] }), /pool 2001:db8:1:8000::\/49 of maar2 overlaps 2001:db8:1::\/48 of maar1/)
    assert.throws(() => net.createDataPlane({ ...M2, name: 'maar1' }), /name maar1 is already used by 2001:db8:ffff::1/)
    assert.throws(() => net.createDataPlane({ ...M1, name: 'other' }), /belongs to maar1, not other/)
    assert.throws(() => net.createDataPlane({ ...M2, pools: ['2001:db8:2::/48', '2001:db8:2:1::/64'] }), /overlap/)
    assert.throws(() => net.createDataPlane({ ...M2, pools: ['3fff::/16'] }), /contains the CN address 3fff::1/)
    assert.throws(() => net.createDataPlane({ ...M2, pools: ['2001:db8:2::1/48'] }), /host bits/)
    assert.throws(() => net.createDataPlane({ ...M2, name: 'CN' }), /clashes with trace hop names/)
    assert.throws(() => net.createDataPlane({ ...M2, address: 'nowhere' }), /nowhere/)
    net.createDataPlane(M2)
  })
})
