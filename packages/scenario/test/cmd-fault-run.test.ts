import assert from 'node:assert/strict'
import { buildTrace, parseScenario, runScenario } from '../src/index.js'

/**
 * The CMD down for 4 s, in a real run on each engine (local: the CMD and MAARs over TCP, LevelDB;
 * scale: the same CMD and MAARs over libp2p's memory transport, quiet kad-dht upkeep), as
 * fault-run.test.ts does for a MAAR. A relay domain has no other way to its P-MAARs
 * (draft-bernardos-dmm-pmip §3.2): every handover while the CMD is down fails saying the CMD did
 * not answer, and the MN's first prefix, anchored at maar1, is unreachable while it is at maar2
 * unregistered. A hybrid domain falls back to the DHT: no move fails. Once the CMD is back (its
 * sessions read back from LevelDB), every handover is accepted and the checks pass at the end.
 */
/** A ping-pong MN between maar1 and maar2 with the CMD down for a while; the rest as each test says. */
interface CmdDownFile { name: string, count: number, contenders: string, dwellS: number, downAtS: number }
const cmdDownFile = (engine: string, f: CmdDownFile): string => `name: ${f.name}
engine: ${engine}
seed: 11
durationS: 11
maars: { count: ${f.count}, layout: line, spacingKm: 10 }
neighbours: { nearest: 2 }
cmd: { x: 15, y: 5 }
contenders: [${f.contenders}]
mns:
  - { group: pp, count: 1, movement: { model: ping-pong, between: [maar1, maar2], dwellS: ${f.dwellS}, jitter: 0 } }
faults:
  - { kind: cmd-down, atS: ${f.downAtS}, forS: 4 }
checks: { everyS: 1 }
`
const FILE = (engine: string): string => cmdDownFile(engine, { name: 'cmd-down', count: 4, contenders: 'relay, hybrid', dwellS: 1.5, downAtS: 2.2 })

const DOWN_MS = [2200, 6200] as const

for (const engine of ['local', 'scale']) describe(`a scenario run with the CMD down (${engine} engine)`, function () {
  this.timeout(240_000)

  it('relay: handovers fail while the CMD is down and are accepted once it is back; hybrid: none fails; all well at the end', async () => {
    const scenario = parseScenario(FILE(engine), 'cmd-down.yaml')
    const trace = buildTrace(scenario)
    const report = await runScenario({ scenario })
    assert.equal(report.run.engine, engine)
    assert.deepEqual(report.contenders.map(c => [c.name, c.error]), [['relay', undefined], ['hybrid', undefined]])
    for (const c of report.contenders) {
      assert.equal(c.handovers.length, trace.events.filter(e => e.kind === 'attach').length, c.name)
      assert.deepEqual(c.faults.map(f => [f.kind, f.target]), [['cmd-down', 'cmd'], ['cmd-up', 'cmd']], c.name)
      const final = c.checks.filter(k => k.t === report.scenario.durationMs)
      assert.deepEqual(final.map(k => [k.check, k.passed, k.violations]), [['reachable', true, []], ['no-prefix-held-twice', true, []], ['one-serving-maar', true, []]], c.name)
    }
    const [relay, hybrid] = report.contenders
    assert.ok(relay !== undefined && hybrid !== undefined)
    const during = relay.handovers.filter(h => h.kind !== 'first-attach' && h.t >= DOWN_MS[0] && h.t < DOWN_MS[1])
    assert.ok(during.length >= 2, `${during.length} moves while the CMD is down`)
    for (const h of during) {
      assert.equal(h.outcome, 'failed', JSON.stringify(h))
      assert.match(h.reason ?? '', /CMD \S+ did not answer/)
    }
    const lost = relay.checks.filter(k => k.check === 'reachable' && !k.passed && k.t >= DOWN_MS[0] && k.t <= DOWN_MS[1])
    assert.ok(lost.some(k => k.violations.some(v => v.includes('maar1'))), 'the prefix anchored at maar1 is unreachable while the MN is at maar2 unregistered')
    // The runner plays later events once the CMD has restarted.
    const after = relay.handovers.filter(h => h.t >= DOWN_MS[1] + 500)
    assert.ok(after.length >= 2)
    assert.deepEqual(after.filter(h => h.outcome !== 'accepted'), [])
    assert.deepEqual(hybrid.handovers.filter(h => h.outcome !== 'accepted'), [])
    // Hybrid MAARs keep the mesh consistent throughout, around the restart too.
    assert.deepEqual(hybrid.checks.filter(k => !k.passed).map(k => [k.t, k.check, k.violations]), [])
  })
})

/**
 * Hybrid MAARs around a CMD restart: the MN attaches at maar1 through the CMD, moves to maar2
 * through the DHT while the CMD is down, and comes back to maar1 once it is up. The CMD's session
 * (read back from LevelDB) still names maar1 serving and no other anchor, so its answer names no
 * P-MAAR; maar1's own binding names maar2, which served the MN meanwhile and must be told it left.
 * The check holds at every periodic check, not only at the end.
 */
const RETURN_FILE = (engine: string): string => cmdDownFile(engine, { name: 'cmd-restart-return', count: 3, contenders: 'hybrid', dwellS: 3, downAtS: 1 })

for (const engine of ['local', 'scale']) describe(`hybrid: back at the MAAR a restarted CMD names serving (${engine} engine)`, function () {
  this.timeout(240_000)

  it('every periodic check passes: the MAAR that served while the CMD was down is told the MN left', async () => {
    const report = await runScenario({ scenario: parseScenario(RETURN_FILE(engine), 'cmd-restart-return.yaml') })
    const [hybrid] = report.contenders
    assert.ok(hybrid !== undefined)
    assert.equal(hybrid.error, undefined)
    assert.deepEqual(hybrid.faults.map(f => f.kind), ['cmd-down', 'cmd-up'])
    const moves = hybrid.handovers.map(h => [h.to, h.outcome])
    assert.ok(moves.length >= 3, JSON.stringify(moves))
    assert.deepEqual(hybrid.handovers.filter(h => h.outcome !== 'accepted'), [])
    // A move back to maar1 after the CMD came back (6 s): the case the checks are about.
    assert.ok(hybrid.handovers.some(h => h.to === 'maar1' && h.t > 5000), JSON.stringify(moves))
    const periodic = hybrid.checks.filter(k => k.t < report.scenario.durationMs)
    assert.ok(periodic.length >= 3 * 9, `${periodic.length} periodic check results`)
    assert.deepEqual(periodic.filter(k => !k.passed).map(k => [k.t, k.check, k.violations]), [])
  })
})
