/**
 * The CMD under faults (issue 10): a P-MAAR that does not answer within the relay timeout, a CMD
 * restart, a corrupt session entry, and a CMD killed in hybrid mode in the middle of a run of
 * handovers. Real libp2p and LevelDB; no timing thresholds (waits are for conditions).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Level } from 'level'
import { parsePrefix, prefixContains } from '@dmm-mesh/wire'
import { CmdSessionStore } from '../src/index.js'
import { CMD_ADDRESS, createCmdDomain } from './cmd-fixture.js'
import type { CmdDomain } from './cmd-fixture.js'
import type { CmdSession } from '../src/index.js'

const byMn = (list: CmdSession[]): CmdSession[] => [...list].sort((a, b) => a.mnId.localeCompare(b.mnId))

async function eventually (what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

function assertReachable (d: CmdDomain, mnId: string, expected: Map<string, string>): void {
  const addresses = d.mesh.network.mnAddresses(mnId)
  assert.equal(addresses.length, expected.size, `one address per prefix: ${addresses.join(', ')}`)
  for (const address of addresses) {
    const anchor = [...expected].find(([p]) => prefixContains(parsePrefix(p), address))?.[1]
    const down = d.mesh.network.traceFromCn(address)
    assert.ok(down.delivered && down.hops[1] === anchor, `CN -> ${address} through ${anchor ?? '?'}: ${down.hops.join(' > ')} (${down.reason ?? ''})`)
  }
}

describe('CMD relay timeout, restart and corrupt entries', function () {
  this.timeout(120_000)
  let d: CmdDomain
  before(async () => { d = await createCmdDomain({ mode: 'relay', count: 4, relayTimeoutMs: 200 }) })
  after(async () => { await d?.stop() })

  it('a P-MAAR that does not answer within the relay timeout: its prefix pending, then a second PBA from the CMD', async () => {
    const mn = 'slow@dmm.example'
    const r1 = await d.move(mn, 1)
    // maar1 takes the relayed PBU but cannot commit it (its LevelDB write is held): no PBA yet.
    const cache = d.m(1).cache
    const commit = cache.commit.bind(cache)
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    cache.commit = async tx => { await gate; await commit(tx) }
    const mark = d.recorder.mark()
    let r2
    try {
      r2 = await d.move(mn, 2)
    } finally {
      release()
      cache.commit = commit
    }
    assert.equal(r2.kind, 'handover')
    assert.equal(r2.complete, false, 'answered at the relay timeout, maar1 pending')
    assert.deepEqual(r2.anchors.filter(a => a.pending === true).map(a => a.prefix), [r1.localPrefix])
    // The late PBA follows as an unsolicited PBA from the CMD, and the prefix joins the session.
    await eventually('maar1 confirmed at maar2', async () => (await d.m(2).maar.bindings()).find(e => e.mnId === mn)?.remoteAnchors.every(a => a.pendingUntil === undefined) === true)
    const fromCmd = d.recorder.sent(mn, mark).filter(s => s.kind === 'PBA' && s.from === CMD_ADDRESS && s.to === d.m(2).address)
    assert.ok(fromCmd.length >= 2, `the first PBA and the late one: ${fromCmd.length}`)
    const late = fromCmd.find(s => s.pba?.referrals.some(p => p.pending !== true && p.address === d.m(1).address))
    assert.deepEqual(late?.pba?.referrals.map(p => [p.address, p.prefixes]), [[d.m(1).address, [r1.localPrefix]]])
    assertReachable(d, mn, new Map([[r1.localPrefix, 'maar1'], [r2.localPrefix, 'maar2']]))
  })

  it('a P-MAAR that is down stays pending at the serving MAAR', async () => {
    const mn = 'down@dmm.example'
    const r1 = await d.move(mn, 3)
    await d.mesh.stopMaar(2)
    try {
      const r2 = await d.move(mn, 4)
      assert.equal(r2.complete, false)
      assert.deepEqual(r2.anchors.filter(a => a.pending === true).map(a => a.prefix), [r1.localPrefix])
      assert.deepEqual(d.cmd.cmd.session(mn)?.anchors.map(a => [a.ref.address, a.prefixes]).sort(), [[d.m(4).address, [r2.localPrefix]], ['2001:db8:ffff::3', [r1.localPrefix]]].sort())
    } finally {
      await d.mesh.restartMaar(2)
    }
  })

  it('a CMD restart keeps every session, and the next handover uses them', async () => {
    const mn = 'kept@dmm.example'
    const a = await d.move(mn, 1)
    const b = await d.move(mn, 3)
    await d.cmd.cmd.settled()
    const before = d.cmd.cmd.sessions()
    await d.stopCmd()
    const restarted = await d.startCmd()
    assert.deepEqual(restarted.store.problems, [])
    assert.deepEqual(byMn(restarted.cmd.sessions()), byMn(before))
    const c = await d.move(mn, 4)
    assert.equal(c.kind, 'handover')
    assert.equal(c.complete, true)
    assertReachable(d, mn, new Map([[a.localPrefix, 'maar1'], [b.localPrefix, 'maar3'], [c.localPrefix, 'maar4']]))
  })

  it('a corrupt session entry is reported by key; the other sessions are served', async () => {
    await d.cmd.cmd.settled()
    const before = d.cmd.cmd.sessions()
    await d.stopCmd()
    const db = new Level<string, string>(join(d.dir, 'cmd'), { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    await db.put('session!broken@dmm.example', '{"mnId":"broken@dmm.example","serving":7}')
    await db.put('session!alias@dmm.example', JSON.stringify(before[0]))
    await db.close()
    const restarted = await d.startCmd()
    assert.deepEqual(restarted.store.problems.map(p => p.key).sort(), ['session!alias@dmm.example', 'session!broken@dmm.example'])
    assert.match(restarted.store.problems.find(p => p.key === 'session!broken@dmm.example')?.reason ?? '', /serving/)
    assert.deepEqual(byMn(restarted.cmd.sessions()), byMn(before))
  })

  it('CmdSessionStore reads back what it wrote', async () => {
    const store = await CmdSessionStore.open(join(d.dir, 'store-roundtrip'))
    const s = { mnId: 'x@dmm.example', serving: { peerId: 'p', address: '2001:db8::1', multiaddrs: [] }, anchors: [], timestampMs: 1, sequence: 1, sessionSequence: 1, lifetime: 4, updatedAt: 1 }
    await store.put(s)
    await store.close()
    const again = await CmdSessionStore.open(join(d.dir, 'store-roundtrip'))
    assert.deepEqual(again.get('x@dmm.example'), s)
    await again.end('x@dmm.example', 2)
    await again.close()
    // An ended session is gone but its last sequence stays; a bad ended entry is a named problem.
    const db = new Level<string, string>(join(d.dir, 'store-roundtrip'), { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    await db.put('ended!y@dmm.example', '-3')
    await db.close()
    const third = await CmdSessionStore.open(join(d.dir, 'store-roundtrip'))
    assert.equal(third.get('x@dmm.example'), undefined)
    assert.equal(third.endedSequence('x@dmm.example'), 2)
    assert.equal(third.endedSequence('y@dmm.example'), undefined)
    assert.deepEqual(third.problems.map(p => p.key), ['ended!y@dmm.example'])
    assert.match(third.problems[0]?.reason ?? '', /not a non-negative integer/)
    await third.close()
  })
})

describe('hybrid mode: the CMD killed in the middle of a run of handovers', function () {
  this.timeout(120_000)
  let d: CmdDomain
  before(async () => { d = await createCmdDomain({ mode: 'relay', count: 4, signalling: 'hybrid' }) })
  after(async () => { await d?.stop() })

  it('no handover fails while the CMD is down or back, and every prefix stays reachable', async () => {
    const mn = 'runner@dmm.example'
    const path = [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]
    const prefixes = new Map<number, string>()
    for (const [step, i] of path.entries()) {
      if (step === 3) await d.stopCmd()
      if (step === 8) await d.startCmd()
      const r = await d.move(mn, i)
      assert.equal(r.complete, true, `move ${step + 1} to maar${i}: ${JSON.stringify(r.peers)}`)
      assert.equal(r.kind, step === 0 ? 'first-attach' : step < 4 ? 'handover' : 'return', `move ${step + 1}`)
      prefixes.set(i, r.localPrefix)
      assert.deepEqual(r.anchors.map(a => a.prefix).sort(), [...prefixes.values()].sort(), `move ${step + 1} to maar${i}: every prefix in the session`)
      assertReachable(d, mn, new Map([...prefixes].map(([m, p]) => [p, `maar${m}`])))
    }
    // Back in the CMD's hands at the end: it knows the serving MAAR again.
    assert.equal(d.cmd.cmd.session(mn)?.serving.address, d.m(4).address)
  })

  it('back at the MAAR the restarted CMD still names serving, after a move the CMD missed: the MAAR that served meanwhile is told, one serving MAAR', async () => {
    const mn = 'boomerang@dmm.example'
    const first = await d.move(mn, 1)
    await d.cmd.cmd.settled()
    await d.stopCmd()
    // Through the DHT: the CMD's session still says maar1 serves the MN, anchoring only its own prefix.
    const away = await d.move(mn, 2)
    assert.equal(away.kind, 'handover')
    await d.startCmd()
    const back = await d.move(mn, 1)
    await d.cmd.cmd.settled()
    assert.equal(back.kind, 'return')
    assert.deepEqual(back.peers.map(p => [p.address, p.status]), [[d.m(2).address, 'ACCEPTED']], 'maar2, which served the MN meanwhile, is signalled')
    const serving = await Promise.all(d.mesh.maars.map(async m => (await m.maar.bindings()).some(e => e.mnId === mn && e.attached) ? m.name : undefined))
    assert.deepEqual(serving.filter(n => n !== undefined), ['maar1'], 'one serving MAAR')
    assertReachable(d, mn, new Map([[first.localPrefix, 'maar1'], [away.localPrefix, 'maar2']]))
    // The CMD's session still lacks maar2; on the next move maar1, which it asks, refers it to maar2.
    const on = await d.move(mn, 3)
    await d.cmd.cmd.settled()
    assert.equal(on.complete, true, JSON.stringify(on.peers))
    assertReachable(d, mn, new Map([[first.localPrefix, 'maar1'], [away.localPrefix, 'maar2'], [on.localPrefix, 'maar3']]))
    assert.deepEqual(d.cmd.cmd.session(mn)?.anchors.map(a => a.ref.address).sort(), [1, 2, 3].map(i => d.m(i).address).sort())
  })
})
