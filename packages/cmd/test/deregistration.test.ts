/**
 * De-registration, draft-bernardos-dmm-pmip §3.5, both variants with a relay CMD and three MAARs
 * (one process, real libp2p + LevelDB). The MN moves maar1 → maar2, so maar1 is a P-MAAR:
 * - (a) 'serving': maar1 keeps no timer; only the serving MAAR de-registers, at maar1 too;
 * - (b) 'anchors': maar1's registration runs out after its lifetime and maar1 sends its own
 *   lifetime-0 PBU to the CMD, renewed (non-zero lifetime) while the MN is in the domain; once
 *   the serving MAAR has ended the session at the CMD, maar1's next one gets lifetime 0 and
 *   maar1 releases the prefix.
 * Lifetimes are 4 s (the smallest RFC 6275 allows) and the checks are driven by the test.
 */
import assert from 'node:assert/strict'
import { CMD_ADDRESS, createCmdDomain } from './cmd-fixture.js'
import type { CmdDomain } from './cmd-fixture.js'

const LIFETIME = 4

async function anchored (d: CmdDomain, i: number, mnId: string): Promise<{ expiresAt?: number, localPrefixes: string[] } | undefined> {
  return (await d.m(i).maar.bindings()).find(e => e.mnId === mnId && !e.attached)
}

/** Until maar`i`'s anchored registration of `mnId` has run out (real time: lifetimes are seconds). */
async function untilExpired (d: CmdDomain, i: number, mnId: string): Promise<void> {
  const expiresAt = (await anchored(d, i, mnId))?.expiresAt
  assert.ok(expiresAt !== undefined, `maar${i} keeps a lifetime on what it anchors for ${mnId}`)
  await new Promise(resolve => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 20))
}

describe('de-registration variant (b): P-MAARs de-register at the CMD, renewed while the MN is in the domain', function () {
  this.timeout(120_000)
  let d: CmdDomain
  before(async () => { d = await createCmdDomain({ mode: 'relay', count: 3, deregistration: 'anchors', lifetime: LIFETIME, lifetimeCheckIntervalMs: 0 }) })
  after(async () => { await d?.stop() })
  const mn = 'bob@dmm.example'

  it('a P-MAAR whose lifetime ran out sends a lifetime-0 PBU to the CMD and gets a non-zero lifetime back', async () => {
    await d.move(mn, 1)
    await d.move(mn, 2)
    await d.cmd.cmd.settled()
    const before = await anchored(d, 1, mn)
    assert.ok(before !== undefined && before.localPrefixes.length === 1, 'maar1 anchors the first prefix')
    await untilExpired(d, 1, mn)
    const mark = d.recorder.mark()
    await d.m(1).maar.checkLifetimes()
    const sent = d.recorder.sent(mn, mark)
    assert.deepEqual(sent.map(s => `${s.kind} ${s.from} > ${s.to} lifetime ${s.pbu?.lifetime ?? s.pba?.lifetime}`),
      [`PBU ${d.m(1).address} > ${CMD_ADDRESS} lifetime 0`, `PBA ${CMD_ADDRESS} > ${d.m(1).address} lifetime ${LIFETIME}`])
    const after = await anchored(d, 1, mn)
    assert.ok(after?.expiresAt !== undefined && before.expiresAt !== undefined && after.expiresAt > before.expiresAt, 'renewed: a later expiry')
    assert.deepEqual(after.localPrefixes, before.localPrefixes)
    assert.ok([...(await d.m(1).cache.allocations()).values()].includes(mn), 'maar1 still holds the prefix')
    assert.equal(d.cmd.cmd.session(mn)?.serving.address, d.m(2).address, 'the session is unchanged')
  })

  it('the serving MAAR de-registers at the CMD only; the P-MAAR\'s next de-registration gets lifetime 0 and it releases', async () => {
    const mark = d.recorder.mark()
    await d.m(2).maar.deregister(mn, 'left the domain')
    assert.deepEqual(d.recorder.sent(mn, mark).map(s => `${s.kind} ${s.from} > ${s.to}`),
      [`PBU ${d.m(2).address} > ${CMD_ADDRESS}`, `PBA ${CMD_ADDRESS} > ${d.m(2).address}`])
    assert.equal(d.cmd.cmd.session(mn), undefined, 'the CMD ended the session')
    assert.ok(await anchored(d, 1, mn) !== undefined, 'maar1 anchors until its own lifetime runs out')
    await untilExpired(d, 1, mn)
    const next = d.recorder.mark()
    await d.m(1).maar.checkLifetimes()
    assert.deepEqual(d.recorder.sent(mn, next).map(s => `${s.kind} ${s.from} > ${s.to} lifetime ${s.pbu?.lifetime ?? s.pba?.lifetime}`),
      [`PBU ${d.m(1).address} > ${CMD_ADDRESS} lifetime 0`, `PBA ${CMD_ADDRESS} > ${d.m(1).address} lifetime 0`])
    assert.equal(await anchored(d, 1, mn), undefined, 'maar1 dropped the binding')
    assert.ok(![...(await d.m(1).cache.allocations()).values()].includes(mn), 'maar1 released the prefix')
  })
})

describe('de-registration variant (a), the default: only the serving MAAR de-registers', function () {
  this.timeout(120_000)
  let d: CmdDomain
  before(async () => { d = await createCmdDomain({ mode: 'relay', count: 3, lifetime: LIFETIME, lifetimeCheckIntervalMs: 0 }) })
  after(async () => { await d?.stop() })
  const mn = 'carol@dmm.example'

  it('a P-MAAR keeps no timer and sends nothing; the serving MAAR de-registers at it and at the CMD', async () => {
    await d.move(mn, 1)
    await d.move(mn, 2)
    await d.cmd.cmd.settled()
    const e = await anchored(d, 1, mn)
    assert.ok(e !== undefined && e.expiresAt === undefined, 'maar1 anchors with its timer stopped')
    await new Promise(resolve => setTimeout(resolve, LIFETIME * 1000 + 20))
    const mark = d.recorder.mark()
    await d.m(1).maar.checkLifetimes()
    assert.deepEqual(d.recorder.sent(mn, mark), [], 'maar1 sent nothing')
    assert.ok(await anchored(d, 1, mn) !== undefined, 'maar1 still anchors')
    const dereg = d.recorder.mark()
    await d.m(2).maar.deregister(mn, 'left the domain')
    assert.deepEqual(d.recorder.sent(mn, dereg).filter(s => s.kind === 'PBU').map(s => `${s.from} > ${s.to}`).sort(),
      [`${d.m(2).address} > ${CMD_ADDRESS}`, `${d.m(2).address} > ${d.m(1).address}`].sort())
    assert.equal(await anchored(d, 1, mn), undefined, 'maar1 released at once')
  })

  it('a session started after a de-registration goes above the withdrawn record: its records are published and found, also after a CMD restart', async () => {
    const withdrawn = await d.m(1).maar.lookupSession(mn)
    assert.equal(withdrawn?.serving, null, 'the DHT holds the withdrawal')
    for (const [round, i] of [1, 2, 3].entries()) {
      if (round === 2) { await d.stopCmd(); await d.startCmd() }
      const report = await d.move(mn, i)
      assert.ok(report.sessionSequence > (withdrawn?.sequence ?? 0), `sequence ${report.sessionSequence} above the withdrawn ${withdrawn?.sequence ?? 0}`)
      const found = await d.m(i === 1 ? 2 : 1).maar.lookupSession(mn)
      assert.equal(found?.serving?.address, d.m(i).address, `the record names maar${i} as serving`)
      assert.equal(found?.sequence, report.sessionSequence)
      await d.m(i).maar.deregister(mn, 'left again')
      await d.m(i).maar.settled()
      const again = await d.m(1).maar.lookupSession(mn)
      assert.equal(again?.serving, null, 'withdrawn again')
      assert.ok((again?.sequence ?? 0) > report.sessionSequence)
    }
  })
})
