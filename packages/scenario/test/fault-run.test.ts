import assert from 'node:assert/strict'
import { buildTrace, localEngine, parseScenario, runScenario } from '../src/index.js'
import type { DomainEngine } from '../src/index.js'

/**
 * A MAAR down for a while, in a real run on each engine (local: libp2p over TCP, LevelDB, the
 * memory data plane; scale: the same MAARs over libp2p's memory transport, binding caches on
 * memory-level, quiet kad-dht upkeep):
 * the MN's first prefix is anchored at maar1, so while maar1 is down the reachability check must
 * report it (the CN's packets go through maar1), and the handover away from it must say that
 * maar1 did not answer. Before the fault and after maar1 is back, the checks pass.
 */
const FILE = (engine: string): string => `name: maar-down
engine: ${engine}
seed: 11
durationS: 11
maars: { count: 3, layout: line, spacingKm: 10 }
neighbours: { nearest: 2 }
contenders: [dht]
mns:
  - { group: pp, count: 1, movement: { model: ping-pong, between: [maar1, maar2], dwellS: 1.5, jitter: 0 } }
faults:
  - { kind: maar-down, maar: maar1, atS: 2.5, forS: 4 }
checks: { everyS: 1 }
`

for (const engine of ['local', 'scale']) describe(`a scenario run with a MAAR down (${engine} engine)`, function () {
  this.timeout(180_000)

  it('reports what really happened: the anchor down, its prefix unreachable while it is, all well at the end', async () => {
    const scenario = parseScenario(FILE(engine), 'maar-down.yaml')
    const trace = buildTrace(scenario)
    const report = await runScenario({ scenario })
    assert.equal(report.run.engine, engine)
    const [c] = report.contenders
    assert.ok(c !== undefined && c.error === undefined, c?.error)
    assert.equal(c.handovers.length, trace.events.filter(e => e.kind === 'attach').length)
    assert.deepEqual(c.faults.map(f => [f.kind, f.target]), [['maar-down', 'maar1'], ['maar-up', 'maar1']])
    const reachable = c.checks.filter(k => k.check === 'reachable')
    const during = reachable.filter(k => k.t >= 3000 && k.t < 6500)
    assert.ok(during.length >= 2)
    for (const k of during) {
      assert.equal(k.passed, false, `reachable at ${k.t} while maar1 is down`)
      assert.ok(k.violations.some(v => v.includes('maar1')), k.violations.join('\n'))
    }
    assert.ok(reachable.filter(k => k.t < 2500).every(k => k.passed), 'before the fault every prefix is reachable')
    const final = c.checks.filter(k => k.t === report.scenario.durationMs)
    assert.deepEqual(final.map(k => [k.check, k.passed, k.violations]), [['reachable', true, []], ['no-prefix-held-twice', true, []], ['one-serving-maar', true, []]])
    // The move off maar1 while it is down: maar1 cannot confirm, its prefix is left pending.
    const away = c.handovers.find(h => h.from === 'maar1' && h.t >= 2500 && h.t < 6500)
    if (away !== undefined) assert.equal(away.outcome, 'partial', JSON.stringify(away))
  })

  if (engine === 'local') it('records the error of a contender that cannot start, and runs the others', async () => {
    const scenario = parseScenario(FILE('local').replace('durationS: 11', 'durationS: 2').replace('contenders: [dht]', 'cmd: { x: 0, y: 5 }\ncontenders: [relay, dht]'), 'two.yaml')
    const failing: DomainEngine = {
      start: async spec => {
        if (spec.contender === 'relay') throw new Error('the CMD\'s port is taken')
        return await localEngine.start(spec)
      }
    }
    const report = await runScenario({ scenario, engine: failing })
    assert.deepEqual(report.contenders.map(c => [c.name, c.error]), [['relay', 'could not start: the CMD\'s port is taken'], ['dht', undefined]])
    assert.ok((report.contenders[1]?.handovers.length ?? 0) > 0)
  })
})
