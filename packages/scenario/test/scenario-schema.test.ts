import assert from 'node:assert/strict'
import { ConfigError, DISCOVERY_CONTENDERS, SCALE_ENGINE_ABOVE, engineOf, parseScenario } from '../src/index.js'

const GOOD = `name: tiny
seed: 7
durationS: 20
maars:
  count: 4
  spacingKm: 2
cmd:
  x: 3
  y: 0
contenders: [dht, relay, relay/b]
mns:
  - group: walker
    count: 2
    movement:
      model: random-walk
      dwellS: 2
faults:
  - kind: maar-down
    maar: maar2
    atS: 5
    forS: 3
`

function rejects (yaml: string, field: string, line: number, why: RegExp): void {
  assert.throws(() => parseScenario(yaml, 'scenarios/x.yaml'), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `ConfigError, got ${String(err)}`)
    assert.equal(err.field, field, err.message)
    assert.equal(err.line, line, err.message)
    assert.match(err.message, why)
    assert.ok(err.message.startsWith(`scenarios/x.yaml:${line}: ${field}: `), err.message)
    return true
  })
}

describe('scenario file schema', () => {
  it('parses a good file with its defaults', () => {
    const s = parseScenario(GOOD, 'scenarios/x.yaml')
    assert.equal(s.seed, 7)
    assert.deepEqual(s.contenders, ['dht', 'relay', 'relay/b'])
    assert.deepEqual(s.delay, { perHopMs: 0.1, kmPerMs: 200 })
    assert.deepEqual(s.checks.run, ['reachable', 'no-prefix-held-twice', 'one-serving-maar'])
    assert.equal(s.timeScale, 1)
  })

  it('names the line and field of a misspelt field', () => {
    rejects(GOOD.replace('    count: 2', '    cuont: 2'), 'mns[0].cuont', 13, /unknown field/)
  })

  it('refuses an unknown movement model at its line', () => {
    rejects(GOOD.replace('random-walk', 'teleport'), 'mns[0].movement.model', 15, /model must be random-walk, ping-pong, commuter or highway, got "teleport"/)
  })

  it('refuses a negative delay', () => {
    rejects(GOOD.replace('contenders:', 'delay: { perHopMs: -1 }\ncontenders:'), 'delay.perHopMs', 10, /must be a number from 0/)
  })

  it('refuses a fault naming no MAAR of the map', () => {
    rejects(GOOD.replace('maar: maar2', 'maar: maar9'), 'faults[0].maar', 19, /no MAAR named "maar9"/)
  })

  it('refuses an unknown contender and a CMD mode without a CMD', () => {
    rejects(GOOD.replace('relay/b]', 'relay/c]'), 'contenders[2]', 10, /must be one of dht, relay/)
    rejects(GOOD.replace('cmd:\n  x: 3\n  y: 0\n', ''), 'contenders[1]', 7, /relay needs a CMD/)
  })

  it('refuses a lifetime that is not a multiple of 4 and bad YAML', () => {
    rejects(GOOD.replace('seed: 7', 'lifetimeS: 10'), 'lifetimeS', 2, /multiple of 4/)
    rejects(GOOD.replace('durationS: 20', 'durationS: [20'), '(file)', 4, /not valid YAML/)
  })

  it('lists every problem, sorted by line', () => {
    try {
      parseScenario(GOOD.replace('seed: 7', 'seed: -1').replace('dwellS: 2', 'dwellS: 0'), 'x.yaml')
      assert.fail('accepted')
    } catch (err) {
      assert.ok(err instanceof ConfigError)
      assert.deepEqual(err.problems.map(p => [p.line, p.field]), [[2, 'seed'], [16, 'mns[0].movement.dwellS']])
      assert.match(err.message, /and 1 more: dmm scenario check x\.yaml lists them all/)
    }
  })

  it('refuses an unknown engine at its line', () => {
    rejects(GOOD.replace('contenders:', 'engine: fast\ncontenders:'), 'engine', 10, /must be local or scale, got "fast"/)
  })

  it('takes every discovery contender on the scale engine, the CMD modes and their variants included', () => {
    const all = GOOD.replace('contenders: [dht, relay, relay/b]', `engine: scale\ncontenders: [${DISCOVERY_CONTENDERS.join(', ')}]`)
    const s = parseScenario(all, 'x.yaml')
    assert.equal(engineOf(s), 'scale')
    assert.deepEqual(s.contenders, [...DISCOVERY_CONTENDERS])
  })

  it('picks the scale engine above SCALE_ENGINE_ABOVE MAARs unless the file names one', () => {
    const dhtOnly = GOOD.replace('contenders: [dht, relay, relay/b]', 'contenders: [dht]')
    assert.equal(engineOf(parseScenario(dhtOnly, 'x.yaml')), 'local')
    const large = dhtOnly.replace('  count: 4', `  count: ${SCALE_ENGINE_ABOVE + 1}`)
    assert.equal(engineOf(parseScenario(large, 'x.yaml')), 'scale')
    assert.equal(engineOf(parseScenario(large.replace('contenders:', 'engine: local\ncontenders:'), 'x.yaml')), 'local')
    assert.equal(engineOf(parseScenario(dhtOnly.replace('contenders:', 'engine: scale\ncontenders:'), 'x.yaml')), 'scale')
    // The CMD contenders too: the CMD runs beside the scale engine's MAARs.
    assert.equal(engineOf(parseScenario(GOOD.replace('  count: 4', `  count: ${SCALE_ENGINE_ABOVE + 1}`), 'x.yaml')), 'scale')
  })
})
