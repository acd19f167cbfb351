/**
 * A serving MAAR's PBU reaching the CMD twice (its PBA lost or late, the transport's retry on a
 * fresh stream, RFC 5213 §6.9.4): the second copy carries the timestamp the session already
 * holds. It must be answered again like the first, not refused as older (RFC 5213 §5.5 orders
 * different registrations, not copies of one): a refusal makes the serving MAAR give up an attach
 * whose P-MAARs already tunnel to it (the downtown scenario under overload in proxy mode).
 */
import assert from 'node:assert/strict'
import { BINDING_ACK_STATUS } from '@dmm-mesh/wire'
import { buildPbu, readPba } from '@dmm-mesh/maar'
import type { CmdMode } from '../src/index.js'
import { CMD_ADDRESS, createCmdDomain } from './cmd-fixture.js'
import type { CmdDomain } from './cmd-fixture.js'

for (const mode of ['proxy', 'relay', 'locator'] as CmdMode[]) {
  describe(`CMD in ${mode} mode: a registration that arrives twice`, function () {
    this.timeout(120_000)
    let d: CmdDomain
    before(async () => { d = await createCmdDomain({ mode, count: 2 }) })
    after(async () => { await d?.stop() })

    it('is answered again with the session\'s P-MAARs, and changes nothing', async () => {
      const mn = 'tom@dmm.example'
      const a = await d.move(mn, 1)
      const mark = d.recorder.mark()
      await d.move(mn, 2)
      await d.cmd.cmd.settled()
      const sent = d.recorder.sent(mn, mark).find(s => s.kind === 'PBU' && s.from === d.m(2).address && s.to === CMD_ADDRESS)
      assert.ok(sent?.pbu !== undefined, 'maar2 registered at the CMD')
      const before = d.cmd.cmd.session(mn)
      const from = d.cmd.cmd.transport.knownPeer(d.m(2).maar.peerId)
      assert.ok(from !== undefined)

      const again = readPba(await d.cmd.cmd.handlePbu(buildPbu(sent.pbu), from))
      assert.equal(again.status, BINDING_ACK_STATUS.ACCEPTED, `the copy is accepted (status ${again.status}, ${again.reason ?? ''})`)
      assert.deepEqual(again.referrals.map(r => [r.address, r.prefixes, r.pending ?? false]), [[d.m(1).address, [a.localPrefix], mode !== 'proxy']])
      assert.equal(again.sessionSequence, before?.sessionSequence)
      assert.deepEqual(d.cmd.cmd.session(mn), before, 'the session is unchanged')
    })
  })
}
