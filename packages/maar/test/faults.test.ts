/**
 * Faults on a real mesh (libp2p, LevelDB, memory data plane): anchors down during a handover and
 * PBU retransmission (RFC 5213 §6.9.4), timestamps ahead of the clock (§5.5), a repeated PBU of
 * the accepted registration, lookups that cannot prove absence, MN-ID and sequence bounds, and
 * crashes between the registration intent and the final commit.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { MAX_SESSION_SEQUENCE, meshServices, sessionKey } from '@dmm-mesh/discovery'
import { BINDING_ACK_STATUS, parsePrefix, prefixContains } from '@dmm-mesh/wire'
import type { BindingUpdate } from '@dmm-mesh/wire'
import { peerIdFromString } from '@libp2p/peer-id'
import { AttachDeferredError, AttachError, PMIP_PROTOCOL, buildPbu, maarPlan, readPba } from '../src/index.js'
import type { HandoverReport, LocalMaar } from '../src/index.js'
import { breakDirectoryService, breakProtocols, eventually, rewriteCache, silenceProtocols } from './fault-helpers.js'
import { useMesh } from './mesh-fixture.js'

const LL = '02:00:00:00:00:09'
const HOUR = 3600_000

describe('MAAR faults (3 MAARs, real libp2p + LevelDB)', function () {
  this.timeout(180_000)
  /** Added to the real clock: lifetimes run out without waiting. */
  let skew = 0
  const clock = (): number => Date.now() + skew
  const lines: string[] = []
  const fx = useMesh('faults', {
    count: 3,
    lifetimeCheckIntervalMs: 0,
    clock,
    log: (_level, line) => { lines.push(line) },
    maarInit: { retransmission: { initialMs: 50, maxMs: 400 } }
  }, LL)
  const { m, binding } = fx

  const allocatedTo = async (i: number, mnId: string): Promise<string[]> =>
    [...(await m(i).cache.allocations()).entries()].filter(([, owner]) => owner === mnId).map(([prefix]) => prefix)

  const move = fx.move

  /** The CN reaches the MN's address in `prefix` entering at `anchor`. */
  function assertReachableVia (mnId: string, prefix: string, anchor: string): void {
    const address = fx.mesh.network.mnAddresses(mnId).find(a => prefixContains(parsePrefix(prefix), a))
    assert.ok(address, `the MN holds an address in ${prefix}: ${fx.mesh.network.mnAddresses(mnId).join(', ')}`)
    const down = fx.mesh.network.traceFromCn(address)
    assert.ok(down.delivered, `CN -> ${address}: ${down.hops.join(' > ')} (${down.reason ?? ''})`)
    assert.equal(down.hops[1], anchor, `enters at ${anchor}: ${down.hops.join(' > ')}`)
  }

  /** The PBU `serving` sent to its anchors for the MN's current registration. */
  function pbuOf (serving: LocalMaar, e: BindingCacheEntry, anchoredPrefixes: string[]): ReturnType<typeof buildPbu> {
    return buildPbu({
      mnId: e.mnId,
      sequence: e.lastUpdate.sequence,
      lifetime: 3600,
      timestampMs: e.lastUpdate.timestampMs,
      anchoredPrefixes,
      ...(e.localPrefixes[0] !== undefined ? { localPrefix: e.localPrefixes[0] } : {}),
      servingAddress: serving.address,
      accessTechnology: 3
    })
  }

  it('an anchor down during a handover stays in the session as pending, and once it restarts the retransmitted PBU reaches it', async () => {
    const mn = 'down@dmm.example'
    const r1 = await move(mn, 1)
    await fx.mesh.stopMaar(0)
    const r2 = await move(mn, 2)
    assert.equal(r2.kind, 'handover')
    assert.equal(r2.complete, false, 'a partial handover is not reported as a success')
    assert.deepEqual(r2.anchors.find(a => a.prefix === r1.localPrefix), { prefix: r1.localPrefix, anchor: maarPlan(1).address, native: false, pending: true })
    const pending = (await binding(2, mn))?.remoteAnchors.find(a => a.prefix === r1.localPrefix)
    assert.ok(pending?.pendingUntil !== undefined, `maar2 keeps ${r1.localPrefix} pending: ${JSON.stringify(pending)}`)

    await fx.mesh.restartMaar(0)
    await eventually('maar2 to confirm maar1 as anchor', async () => {
      const a = (await binding(2, mn))?.remoteAnchors.find(x => x.prefix === r1.localPrefix)
      return a !== undefined && a.pendingUntil === undefined
    })
    const anchor = await binding(1, mn)
    assert.equal(anchor?.attached, false)
    assert.equal(anchor?.servingMaar?.address, m(2).address, 'the anchor tunnels to the new serving MAAR')
    assertReachableVia(mn, r1.localPrefix, 'maar1')
    assertReachableVia(mn, r2.localPrefix, 'maar2')
    await m(2).maar.settled()
    const record = await m(3).maar.lookupSession(mn)
    assert.equal(record?.serving?.peerId, m(2).maar.peerId)
    assert.deepEqual(record?.anchors.map(a => [a.prefix, a.address]).sort(), [[r1.localPrefix, m(1).address], [r2.localPrefix, m(2).address]].sort())
    await m(2).maar.deregister(mn)
  })

  it('a pending anchor whose lifetime runs out leaves the session: the prefix is dropped from the BCE and the record', async () => {
    const mn = 'lapsed@dmm.example'
    const r1 = await move(mn, 1)
    await fx.mesh.stopMaar(0)
    const r2 = await move(mn, 2)
    assert.equal(r2.complete, false)
    skew += 2 * HOUR // past the anchor's 3600 s lifetime in the record
    await eventually('maar2 to drop the lapsed anchor', async () => {
      const e = await binding(2, mn)
      return e !== undefined && !e.remoteAnchors.some(a => a.prefix === r1.localPrefix)
    })
    const e = await binding(2, mn)
    assert.equal(e?.attached, true, 'the session itself goes on at maar2')
    assert.deepEqual(e?.remoteAnchors, [])
    await m(2).maar.settled()
    const record = await m(3).maar.lookupSession(mn)
    assert.deepEqual(record?.anchors.map(a => a.prefix), [r2.localPrefix], 'the republished record no longer lists the lapsed prefix')
    assert.ok(lines.some(l => l.includes('pending anchor left the session') && l.includes(r1.localPrefix)))
    await m(2).maar.deregister(mn)
  })

  it('a PBU stamped ten years ahead is refused with 156 and does not lock the MN out of a later handover', async () => {
    const mn = 'future@dmm.example'
    const r1 = await move(mn, 1)
    await move(mn, 2)
    const before = await binding(1, mn)
    const { ack } = await m(3).maar.transport.exchange({ peerId: m(1).maar.peerId, multiaddrs: m(1).maar.multiaddrs() }, buildPbu({
      mnId: mn, sequence: 77, lifetime: 3600, timestampMs: clock() + 10 * 365 * 24 * HOUR, anchoredPrefixes: [], servingAddress: m(3).address
    }))
    assert.equal(ack.status, BINDING_ACK_STATUS.TIMESTAMP_MISMATCH)
    assert.deepEqual(await binding(1, mn), before, 'the anchor did not move')
    assert.ok(lines.some(l => l.includes('rejected PBU') && l.includes('ahead of this MAAR')), 'the refusal says why')

    const r3 = await move(mn, 3)
    assert.ok(r3.complete)
    assert.ok(r3.peers.every(p => p.status === 'ACCEPTED'), JSON.stringify(r3.peers))
    assert.equal((await binding(1, mn))?.servingMaar?.address, m(3).address, 'the anchor is re-pointed to the new serving MAAR')
    assertReachableVia(mn, r1.localPrefix, 'maar1')
    await m(3).maar.deregister(mn)
  })

  it('a retransmission of the accepted PBU (its PBA lost) is accepted again and changes nothing', async () => {
    const mn = 'again@dmm.example'
    const r1 = await move(mn, 1)
    await move(mn, 2)
    const serving = await binding(2, mn)
    assert.ok(serving)
    const before = await binding(1, mn)
    for (let i = 0; i < 2; i++) {
      const { ack } = await m(2).maar.transport.exchange({ peerId: m(1).maar.peerId, multiaddrs: m(1).maar.multiaddrs() }, pbuOf(m(2), serving, [r1.localPrefix]))
      assert.equal(ack.status, BINDING_ACK_STATUS.ACCEPTED, `attempt ${i + 1}`)
      assert.deepEqual(readPba(ack).anchoredPrefixes, [r1.localPrefix])
      assert.deepEqual(await binding(1, mn), before, `attempt ${i + 1} changed nothing`)
    }
    assertReachableVia(mn, r1.localPrefix, 'maar1')
    await m(2).maar.deregister(mn)
  })

  it('a MAAR restarted on its data still holds the session records it held: its lookup answers while the other members cannot', async function () {
    const mn = 'kept-records@dmm.example'
    const r1 = await move(mn, 1)
    await m(1).directory.settled()
    // maar3 holds the record (every member of a 3-MAAR domain is among the key's closest).
    await eventually('maar3 to hold the record', () => meshServices(m(3).node).sessions.get(sessionKey(mn)) !== undefined)
    await fx.mesh.restartMaar(2)
    assert.equal(meshServices(m(3).node).sessions.get(sessionKey(mn))?.record.serving?.address, m(1).address, 'restored from its records folder')
    const repairs = [await breakDirectoryService(m(1).node), await breakDirectoryService(m(2).node)]
    let report: HandoverReport
    try {
      fx.mesh.network.attachMn(mn, m(3).address)
      report = await m(3).maar.attach({ mnId: mn, accessLink: 'access0', linkLayerId: LL })
    } finally {
      for (const repair of repairs) await repair()
    }
    assert.equal(report.kind, 'handover', 'the MN keeps its session')
    assert.deepEqual(report.peers.map(p => [p.address, p.status]), [[m(1).address, 'ACCEPTED']])
    await m(3).maar.settled()
    assertReachableVia(mn, r1.localPrefix, 'maar1')
    await m(3).maar.deregister(mn)
  })

  it('a lookup that cannot prove the MN has no session defers the attach, reserves nothing, and works as a handover once members answer', async function () {
    const mn = 'unproven@dmm.example'
    const r1 = await move(mn, 1)
    // maar3 restarts with an empty record store (a new disk); it must ask maar1 and maar2 (required = 2).
    await fx.mesh.restartMaar(2, { forgetRecords: true })
    const membership = meshServices(m(3).node).membership
    await eventually('maar3 to know both members', () => membership.isMember(m(1).maar.peerId) && membership.isMember(m(2).maar.peerId))
    // Both members stay up but cannot answer record GETs or kad-dht queries.
    const repairs = [await breakDirectoryService(m(1).node), await breakDirectoryService(m(2).node)]
    const allocationsBefore = await m(3).cache.allocations()
    try {
      fx.mesh.network.attachMn(mn, m(3).address)
      await assert.rejects(m(3).maar.attach({ mnId: mn, accessLink: 'access0', linkLayerId: LL }), (err: unknown) => {
        assert.ok(err instanceof AttachDeferredError, String(err))
        assert.match(err.message, /cannot tell whether/)
        return true
      })
      assert.equal(await binding(3, mn), undefined, 'no binding for a deferred attach')
      assert.deepEqual(await m(3).cache.allocations(), allocationsBefore, 'no prefix reserved')
      assert.equal((await binding(1, mn))?.attached, true, 'maar1 still serves the MN')
    } finally {
      for (const repair of repairs) await repair()
    }
    let report: HandoverReport | undefined
    await eventually('the attach to go through once members answer', async () => {
      try {
        report = await m(3).maar.attach({ mnId: mn, accessLink: 'access0', linkLayerId: LL })
        return true
      } catch (err) {
        if (err instanceof AttachDeferredError) return false
        throw err
      }
    })
    assert.equal(report?.kind, 'handover', 'the MN keeps its session, it is not taken for a new one')
    assert.deepEqual(report?.peers.map(p => [p.address, p.status]), [[m(1).address, 'ACCEPTED']])
    assert.equal((await binding(1, mn))?.servingMaar?.address, m(3).address)
    await m(3).maar.settled()
    assertReachableVia(mn, r1.localPrefix, 'maar1')
    await m(3).maar.deregister(mn)
  })

  it('an MN-ID over 254 UTF-8 octets is refused naming octets; one of exactly 254 attaches and its record is found', async () => {
    await assert.rejects(m(1).maar.attach({ mnId: '€'.repeat(200), accessLink: 'access0', linkLayerId: LL }), (err: unknown) => {
      assert.ok(err instanceof AttachError, String(err))
      assert.match(err.message, /octets/)
      return true
    })
    const mn = '€'.repeat(84) + 'ab'
    assert.equal(Buffer.byteLength(mn, 'utf8'), 254)
    const r = await move(mn, 1)
    assert.equal(r.kind, 'first-attach')
    const record = await m(2).maar.lookupSession(mn)
    assert.equal(record?.mnId, mn)
    assert.equal(record?.serving?.peerId, m(1).maar.peerId)
    await m(1).maar.deregister(mn)
  })

  it('a session at the highest sequence makes the next attach fail with AttachError and leaves no prefix allocated', async () => {
    const mn = 'maxed@dmm.example'
    const self = m(1).maar.self()
    await m(1).directory.publish({
      mnId: mn, sequence: MAX_SESSION_SEQUENCE, issuedAt: clock(), serving: self, anchors: [{ ...self, prefix: '2001:db8:1:fff0::/64', lifetime: 3600 }]
    }, [])
    const allocationsBefore = await m(2).cache.allocations()
    fx.mesh.network.attachMn(mn, m(2).address)
    await assert.rejects(m(2).maar.attach({ mnId: mn, accessLink: 'access0', linkLayerId: LL }), (err: unknown) => {
      assert.ok(err instanceof AttachError, String(err))
      assert.match(err.message, /sequence/)
      return true
    })
    assert.equal(await binding(2, mn), undefined)
    assert.deepEqual(await allocatedTo(2, mn), [])
    assert.deepEqual(await m(2).cache.allocations(), allocationsBefore)
  })

  it('a de-registration the anchor did not get is retransmitted until the anchor frees the prefix', async () => {
    const mn = 'dereg@dmm.example'
    const r1 = await move(mn, 1)
    await move(mn, 2)
    // maar1 stays up but refuses PMIP streams; the open one from maar2 is cut.
    const repair = await breakProtocols(m(1).node, p => p === PMIP_PROTOCOL)
    await m(2).node.hangUp(peerIdFromString(m(1).maar.peerId))
    const outcomes = await m(2).maar.deregister(mn)
    assert.deepEqual(outcomes.map(o => o.status), ['UNREACHABLE'])
    assert.equal(await binding(2, mn), undefined, 'the serving MAAR ended the session')
    assert.deepEqual(await allocatedTo(1, mn), [r1.localPrefix], 'maar1 still holds the prefix')
    await repair()
    await eventually('maar1 to free the prefix on the retransmitted lifetime-0 PBU', async () => (await binding(1, mn)) === undefined)
    assert.deepEqual(await allocatedTo(1, mn), [])
  })

  it('a de-registration retried while another anchor is still being waited for keeps being retried until both anchors free their prefixes', async () => {
    const mn = 'dereg-two@dmm.example'
    const r1 = await move(mn, 1)
    const r3 = await move(mn, 3)
    await move(mn, 2)
    // maar1 refuses PMIP streams at once; maar3 takes them and never answers, so the
    // de-registration is still running (its PBU to maar3 unanswered) when maar1's first retry
    // comes, before maar2 has committed the end of the session.
    const repair1 = await breakProtocols(m(1).node, p => p === PMIP_PROTOCOL)
    const repair3 = await silenceProtocols(m(3).node, p => p === PMIP_PROTOCOL)
    const outcomes = await m(2).maar.deregister(mn)
    assert.deepEqual(outcomes.map(o => [o.address, o.status]).sort(), [[m(1).address, 'UNREACHABLE'], [m(3).address, 'UNREACHABLE']].sort())
    assert.equal(await binding(2, mn), undefined, 'the serving MAAR ended the session')
    assert.deepEqual(await allocatedTo(1, mn), [r1.localPrefix], 'maar1 still holds the prefix')
    assert.deepEqual(await allocatedTo(3, mn), [r3.localPrefix], 'maar3 still holds the prefix')
    await repair1()
    await repair3()
    await eventually('maar1 to free the prefix on the retransmitted lifetime-0 PBU', async () => (await binding(1, mn)) === undefined)
    await eventually('maar3 to free the prefix on the retransmitted lifetime-0 PBU', async () => (await binding(3, mn)) === undefined)
    assert.deepEqual(await allocatedTo(1, mn), [])
    assert.deepEqual(await allocatedTo(3, mn), [])
  })

  it('a PMIP stream whose peer never sends its hello is closed when the exchange gives up, not left open on the connection', async () => {
    const maar3 = { peerId: m(3).maar.peerId, multiaddrs: m(3).maar.multiaddrs() }
    const repair = await silenceProtocols(m(3).node, p => p === PMIP_PROTOCOL)
    try {
      await assert.rejects(m(2).maar.transport.exchange(maar3, buildPbu({ mnId: 'hung@dmm.example', sequence: 1, lifetime: 3600, timestampMs: clock(), anchoredPrefixes: [], servingAddress: m(2).address })))
      const open = m(2).node.getConnections(peerIdFromString(maar3.peerId)).flatMap(c => c.streams).filter(s => s.protocol === PMIP_PROTOCOL)
      assert.deepEqual(open.map(s => `${s.id} ${s.status}`), [], 'no PMIP stream left open to maar3')
    } finally {
      await repair()
    }
  })

  it('two PBUs that find their kept PMIP stream dead both go out on one new stream, and no second stream is left open', async () => {
    const maar3 = { peerId: m(3).maar.peerId, multiaddrs: m(3).maar.multiaddrs() }
    const pbu = (n: number): BindingUpdate => buildPbu({ mnId: `kept${n}@dmm.example`, sequence: n, lifetime: 3600, timestampMs: clock(), anchoredPrefixes: [], servingAddress: m(2).address })
    const pmipStreams = (): string[] => m(2).node.getConnections(peerIdFromString(maar3.peerId)).flatMap(c => c.streams).filter(s => s.protocol === PMIP_PROTOCOL && s.status === 'open').map(s => s.id)
    await m(2).maar.transport.exchange(maar3, pbu(1))
    assert.equal(pmipStreams().length, 1, 'one kept PMIP stream to maar3')
    // maar3 resets it; both PBUs then fail on it, and each opens a fresh one: the second must
    // not drop from the kept ones the stream the first has just opened.
    for (const s of m(3).node.getConnections(peerIdFromString(m(2).maar.peerId)).flatMap(c => c.streams)) if (s.protocol === PMIP_PROTOCOL) s.abort(new Error('reset by the test'))
    await eventually('maar2 to see its kept stream reset', async () => pmipStreams().length === 0)
    await Promise.all([m(2).maar.transport.exchange(maar3, pbu(2)), m(2).maar.transport.exchange(maar3, pbu(3))])
    assert.equal(pmipStreams().length, 1, 'still one kept PMIP stream to maar3')
  })

  describe('crash windows', () => {
    it('intent committed, final commit never made: after restart the MN is not present, its pending anchor gets the PBU, and the lifetime ends the session without a leak', async () => {
      const mn = 'intent@dmm.example'
      const r1 = await move(mn, 1)
      const m1 = m(1)
      const m2dir = m(2).dataDir
      const p2 = '2001:db8:2:f00::/64'
      await fx.mesh.stopMaar(1)
      // What serving-side.ts commits before any PBU: attached, every P-MAAR prefix pending.
      const now = clock()
      await rewriteCache(m2dir, () => ({
        put: [{
          mnId: mn,
          localPrefixes: [p2],
          attached: true,
          access: { link: 'access0', linkLayerId: LL, accessTechnology: 3 },
          remoteAnchors: [{ prefix: r1.localPrefix, peerId: m1.maar.peerId, address: m1.address, multiaddrs: m1.maar.multiaddrs(), pendingUntil: now + HOUR }],
          lastUpdate: { sequence: 2, timestampMs: now },
          sessionSequence: 2,
          expiresAt: now + HOUR,
          createdAt: now,
          updatedAt: now
        }],
        allocate: [{ prefix: p2, mnId: mn }]
      }))
      await fx.mesh.restartMaar(1)
      await eventually('maar1 to anchor for the restarted maar2', async () => (await binding(1, mn))?.servingMaar?.address === m(2).address)
      await eventually('maar2 to confirm maar1', async () => (await binding(2, mn))?.remoteAnchors.every(a => a.pendingUntil === undefined) === true)
      // Not present: the registration is not refreshed, so its lifetime ends it.
      skew += 2 * HOUR
      await m(2).maar.checkLifetimes()
      assert.equal(await binding(2, mn), undefined, 'maar2 de-registered the MN')
      assert.deepEqual(await allocatedTo(2, mn), [], 'maar2 released its prefix')
      assert.equal(await binding(1, mn), undefined, 'maar1 freed the prefix on the lifetime-0 PBU')
      assert.deepEqual(await allocatedTo(1, mn), [])
    })

    it('PBA accepted by the anchor, serving MAAR\'s final commit lost: the restarted MAAR still serves the MN and converges', async () => {
      const mn = 'lostcommit@dmm.example'
      const r1 = await move(mn, 1)
      const r2 = await move(mn, 2)
      assert.ok(r2.complete)
      const m2dir = m(2).dataDir
      await fx.mesh.stopMaar(1)
      // Roll maar2's entry back to the intent it committed before its PBU.
      await rewriteCache(m2dir, entries => {
        const e = entries.find(x => x.mnId === mn)
        assert.ok(e)
        return { put: [{ ...e, remoteAnchors: e.remoteAnchors.map(a => ({ ...a, pendingUntil: clock() + HOUR })) }] }
      })
      assert.equal((await binding(1, mn))?.servingMaar?.address, maarPlan(2).address, 'the anchor points at maar2')
      await fx.mesh.restartMaar(1)
      const restored = await binding(2, mn)
      assert.equal(restored?.attached, true, 'the MN still has a serving MAAR')
      await eventually('maar2 to confirm maar1 again', async () => (await binding(2, mn))?.remoteAnchors.some(a => a.prefix === r1.localPrefix && a.pendingUntil === undefined) === true)
      assert.equal((await binding(1, mn))?.servingMaar?.address, m(2).address)
      assertReachableVia(mn, r1.localPrefix, 'maar1')
      // The MN's link comes up again at maar2: a new registration, everything confirmed.
      const again = await move(mn, 2)
      assert.ok(again.complete, JSON.stringify(again.anchors))
      assert.deepEqual(again.peers.map(p => [p.address, p.status]), [[m(1).address, 'ACCEPTED']])
      assertReachableVia(mn, r1.localPrefix, 'maar1')
      assertReachableVia(mn, r2.localPrefix, 'maar2')
      await m(2).maar.deregister(mn)
    })
  })
})

describe('MAAR faults over real time (4 s lifetime)', function () {
  this.timeout(180_000)
  const rt = useMesh('faults-rt', { count: 3, lifetime: 4, lifetimeCheckIntervalMs: 0, maarInit: { retransmission: { initialMs: 50, maxMs: 400 } } }, LL)
  const { m } = rt

  it('a serving MAAR that comes back after its MN moved on does not withdraw the session the new serving MAAR published', async () => {
    const mn = 'movedon@dmm.example'
    rt.mesh.network.attachMn(mn, m(2).address)
    const r2 = await m(2).maar.attach({ mnId: mn, accessLink: 'access0', linkLayerId: LL })
    await m(2).maar.settled()
    await rt.mesh.stopMaar(1)
    rt.mesh.network.attachMn(mn, m(3).address)
    const r3 = await m(3).maar.attach({ mnId: mn, accessLink: 'access0', linkLayerId: LL })
    assert.equal(r3.complete, false)
    // maar2 stays away past its anchor lifetime: maar3 drops its prefix and republishes.
    await eventually('maar3 to drop the lapsed anchor', async () =>
      (await m(3).maar.bindings()).find(e => e.mnId === mn)?.remoteAnchors.length === 0)
    await m(3).maar.settled()
    await rt.mesh.restartMaar(1)
    // maar2's own registration of the MN ran out meanwhile: it de-registers it.
    await m(2).maar.checkLifetimes()
    assert.equal((await m(2).maar.bindings()).find(e => e.mnId === mn), undefined)
    assert.deepEqual([...(await m(2).cache.allocations()).values()].filter(o => o === mn), [], `maar2 released ${r2.localPrefix}`)
    await m(2).maar.settled()
    const record = await m(1).maar.lookupSession(mn)
    assert.equal(record?.serving?.peerId, m(3).maar.peerId, `the session at maar3 is still the one found: ${JSON.stringify(record)}`)
    assert.deepEqual(record?.anchors.map(a => a.prefix), [r3.localPrefix])
    await m(3).maar.deregister(mn)
  })
})
