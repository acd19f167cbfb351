/**
 * Locator mode (draft-bernardos-dmm-pmip §3.3): the P-MAAR answers the serving MAAR itself, and
 * its PBA can come in before the CMD's (a loaded CMD, a short path from the P-MAAR). Here the
 * CMD's PBA to maar2 is handed over only once maar1's own PBA has reached maar2. That PBA must
 * be matched to the registration it answers: the handover then settles with no PBU
 * retransmitted to maar1 (RFC 5213 §6.9.4 is for PBAs that did not come, not for ones dropped).
 */
import assert from 'node:assert/strict'
import { decorateTransport } from '@dmm-mesh/maar'
import type { SignallingTransport } from '@dmm-mesh/maar'
import { CMD_ADDRESS, createCmdDomain, eventually } from './cmd-fixture.js'
import type { CmdDomain } from './cmd-fixture.js'

/** maar2's transport: while armed, the CMD's PBA is handed over after the next unsolicited PBA. */
class CmdAnswerAfterDirectPba {
  private armed = false
  private arrived?: () => void
  private direct?: Promise<void>

  arm (): void {
    this.armed = true
    this.direct = new Promise(resolve => { this.arrived = resolve })
  }

  shape = (inner: SignallingTransport): SignallingTransport => decorateTransport(inner, {
    start: async (handler, onPba) => {
      await inner.start(handler, onPba === undefined ? undefined : async (pba, from) => {
        this.arrived?.()
        await onPba(pba, from)
      })
    },
    exchange: async (peer, pbu, opts) => {
      const answer = await inner.exchange(peer, pbu, opts)
      if (this.armed && answer.from.cert.role === 'cmd') {
        this.armed = false
        await this.direct
      }
      return answer
    }
  })
}

describe('CMD in locator mode: the P-MAAR\'s own PBA before the CMD\'s', function () {
  this.timeout(120_000)
  const late = new CmdAnswerAfterDirectPba()
  let d: CmdDomain
  before(async () => { d = await createCmdDomain({ mode: 'locator', count: 2, shapeMaarTransport: name => name === 'maar2' ? late.shape : undefined }) })
  after(async () => { await d?.stop() })

  it('is matched to the registration: the handover settles without a retransmission', async () => {
    const mn = 'sam@dmm.example'
    const a = await d.move(mn, 1)
    const mark = d.recorder.mark()
    late.arm()
    const b = await d.move(mn, 2)
    assert.equal(b.kind, 'handover')
    await eventually('maar2 knows maar1\'s answer', async () => {
      const e = (await d.m(2).maar.bindings()).find(x => x.mnId === mn)
      return e?.remoteAnchors.length === 1 && e.remoteAnchors.every(r => r.pendingUntil === undefined)
    })
    await d.cmd.cmd.settled()
    const e = (await d.m(2).maar.bindings()).find(x => x.mnId === mn)
    assert.deepEqual(e?.remoteAnchors.map(r => [r.prefix, r.address]), [[a.localPrefix, d.m(1).address]])
    const sent = d.recorder.sent(mn, mark)
    assert.deepEqual(sent.filter(s => s.from === d.m(1).address).map(s => `${s.kind} > ${s.to}`).sort(), [`PBA > ${CMD_ADDRESS}`, `PBA > ${d.m(2).address}`])
    assert.deepEqual(sent.filter(s => s.from === d.m(2).address).map(s => `${s.kind} > ${s.to}`), [`PBU > ${CMD_ADDRESS}`], 'maar2 sends one PBU, to the CMD, and none again to maar1')
  })
})
