/**
 * Relay mode (draft-bernardos-dmm-pmip §3.2): a P-MAAR's refusal that reaches the CMD after it
 * answered the serving MAAR (its relay timeout) goes on in an unsolicited PBA from the CMD,
 * naming that P-MAAR with its status and reason (RFC 5094 vendor option, sub-type 6, in its
 * Previous MAAR group). The serving MAAR must take it as if that P-MAAR had refused its own PBU:
 * the prefix leaves the session instead of staying pending until its lifetime runs out, and the
 * log says why (the reason a first PBA's refusal shows in the attach's report).
 *
 * Real MAARs, CMD, libp2p and LevelDB. maar1 refuses for a real reason: it restarts from a disk
 * that lacks the MN's binding (restored from an older copy), so it is NOT_LMA_FOR_THIS_MOBILE_NODE.
 * Its answer is made late by holding the CMD's forward to it until the serving MAAR was answered;
 * the serving MAAR's own retransmissions to maar1 (RFC 5213 §6.9.4) are held too, so that only
 * the CMD's late PBA can tell it of the refusal.
 */
import assert from 'node:assert/strict'
import { BindingCache } from '@dmm-mesh/binding-cache'
import { decorateTransport, noMetrics } from '@dmm-mesh/maar'
import type { MaarMetrics, SignallingTransport } from '@dmm-mesh/maar'
import { BINDING_ACK_STATUS } from '@dmm-mesh/wire'
import { CMD_ADDRESS, createCmdDomain, eventually } from './cmd-fixture.js'
import type { CmdDomain } from './cmd-fixture.js'

/** A transport whose PBUs to one peer wait, while held, until released (a slow path to that peer). */
class HeldExchanges {
  private peerId?: string
  private gate = Promise.resolve()
  private open = (): void => {}
  held = 0

  hold (peerId: string): void {
    this.peerId = peerId
    this.gate = new Promise(resolve => { this.open = resolve })
  }

  release (): void {
    this.peerId = undefined
    this.open()
  }

  shape = (inner: SignallingTransport): SignallingTransport => decorateTransport(inner, {
    exchange: async (peer, pbu, opts) => {
      if (peer.peerId === this.peerId) {
        this.held++
        await this.gate
      }
      return await inner.exchange(peer, pbu, opts)
    }
  })
}

describe('CMD in relay mode: a P-MAAR\'s refusal after the relay timeout', function () {
  this.timeout(120_000)
  const forward = new HeldExchanges()
  const retransmission = new HeldExchanges()
  const lines: string[] = []
  /** PBAs maar3 counted as received, by status (dmm_pbas_total in the daemon). */
  const received = new Map<string, number>()
  const maar3Metrics: MaarMetrics = { ...noMetrics, pba: (direction, status) => { if (direction === 'received') received.set(status, (received.get(status) ?? 0) + 1) } }
  let d: CmdDomain
  before(async () => {
    d = await createCmdDomain({
      mode: 'relay',
      count: 3,
      relayTimeoutMs: 200,
      log: line => { lines.push(line) },
      shapeCmdTransport: forward.shape,
      shapeMaarTransport: name => name === 'maar3' ? retransmission.shape : undefined,
      maarMetrics: name => name === 'maar3' ? maar3Metrics : undefined
    })
  })
  after(async () => {
    forward.release()
    retransmission.release()
    await d?.stop()
  })

  it('reaches the serving MAAR in the CMD\'s unsolicited PBA: the prefix leaves the session, the log names the reason', async () => {
    const mn = 'late-refusal@dmm.example'
    const a = await d.move(mn, 1)
    const b = await d.move(mn, 2)
    assert.equal(b.complete, true, JSON.stringify(b.peers))
    await d.cmd.cmd.settled()
    // maar1 comes back from a disk without the MN's binding: it anchors nothing of the MN now.
    const dir = d.m(1).dataDir
    await d.mesh.stopMaar(0)
    const cache = await BindingCache.open(dir)
    try {
      await cache.commit({ delete: [mn], release: [a.localPrefix] })
    } finally {
      await cache.close()
    }
    const maar1 = await d.mesh.restartMaar(0)
    forward.hold(maar1.maar.peerId)
    retransmission.hold(maar1.maar.peerId)
    const mark = d.recorder.mark()
    const c = await d.move(mn, 3)
    const receivedByAttach = Object.fromEntries(received)
    // Answered at the relay timeout: maar2 accepted, maar1 (held) pending.
    assert.equal(c.kind, 'handover')
    assert.equal(c.complete, false, JSON.stringify(c.anchors))
    assert.deepEqual(c.anchors.filter(x => x.pending === true).map(x => x.prefix), [a.localPrefix])
    assert.deepEqual(c.peers.map(p => [p.address, p.status]).sort(), [[d.m(1).address, 'PENDING'], [d.m(2).address, 'ACCEPTED']])
    assert.equal(forward.held, 1, 'the CMD\'s forward to maar1 was held')

    forward.release()
    await eventually('maar3 drops maar1\'s prefix', async () => {
      const e = (await d.m(3).maar.bindings()).find(x => x.mnId === mn)
      return e !== undefined && !e.remoteAnchors.some(r => r.prefix === a.localPrefix)
    })
    await d.cmd.cmd.settled()

    // The CMD told maar3 in an unsolicited PBA naming maar1 with its refusal and reason.
    const late = d.recorder.sent(mn, mark).filter(s => s.kind === 'PBA' && s.from === CMD_ADDRESS && s.to === d.m(3).address).slice(1)
    assert.deepEqual(late.map(s => s.pba?.referrals.map(p => [p.address, p.prefixes, p.refusal])), [
      [[d.m(1).address, [], { status: BINDING_ACK_STATUS.NOT_LMA_FOR_THIS_MOBILE_NODE, reason: 'no binding for this MN here' }]]
    ])
    // maar3 counted it as a PBA received, beside the CMD's first answer.
    assert.deepEqual(Object.fromEntries(received), { ...receivedByAttach, ACCEPTED: (receivedByAttach.ACCEPTED ?? 0) + 1 })
    // Only that PBA told maar3: maar1's own answer to a retransmission (held) never came.
    assert.deepEqual(d.recorder.sent(mn, mark).filter(s => s.kind === 'PBA' && s.from === d.m(1).address && s.to === d.m(3).address), [])

    // What maar3 keeps: its own prefix and maar2's, nothing pending; maar1 left the CMD's session.
    const e = (await d.m(3).maar.bindings()).find(x => x.mnId === mn)
    assert.deepEqual(e?.remoteAnchors.map(r => [r.prefix, r.address, r.pendingUntil]), [[b.localPrefix, d.m(2).address, undefined]])
    assert.deepEqual(d.cmd.cmd.session(mn)?.anchors.map(x => x.ref.address).sort(), [d.m(2).address, d.m(3).address].sort())
    // maar3's log reports the late refusal: who, the status, the prefix dropped, the reason.
    const left = lines.filter(l => l.includes('[maar3') && l.includes('pending anchor left the session') && l.includes(`mn=${mn}`))
    assert.equal(left.length, 1, left.join('\n'))
    assert.match(left[0] ?? '', /outcome=refused status=NOT_LMA_FOR_THIS_MOBILE_NODE/)
    assert.ok(left[0]?.includes(`dropped=${a.localPrefix}`), left[0])
    assert.ok(left[0]?.includes('reason="no binding for this MN here"'), left[0])
  })
})
