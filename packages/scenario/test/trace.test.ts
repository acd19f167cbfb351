import assert from 'node:assert/strict'
import { ScenarioMap, buildTrace, parseScenario } from '../src/index.js'

const FILE = `name: moves
seed: 3
durationS: 120
maars: { count: 9, layout: grid, spacingKm: 1 }
neighbours: { nearest: 2 }
cmd: { x: 1, y: 1 }
contenders: [dht]
mns:
  - { group: walker, count: 5, movement: { model: random-walk, dwellS: 4 } }
  - { group: pp, count: 1, movement: { model: ping-pong, between: [maar1, maar2], dwellS: 5 } }
  - { group: car, count: 2, movement: { model: highway, cells: [maar1, maar2, maar3], speedKmh: 120, entryEveryS: 10 } }
  - { group: commuter, count: 1, movement: { model: commuter, path: [maar7, maar8, maar9], dwellS: 3, stayS: 20 } }
faults:
  - { kind: maar-down, maar: maar5, atS: 30, forS: 30 }
  - { kind: attach-burst, mns: 4, atS: 50, stayS: 10 }
`

describe('scenario trace', () => {
  const scenario = parseScenario(FILE, 'moves.yaml')

  it('is a pure function of the file and the seed', () => {
    const a = buildTrace(scenario)
    const b = buildTrace(parseScenario(FILE, 'moves.yaml'))
    assert.deepEqual(a.events, b.events)
    assert.ok(a.events.filter(e => e.kind === 'attach').length > 20)
    const other = buildTrace(scenario, 4)
    assert.notDeepEqual(other.events, a.events)
    assert.deepEqual(buildTrace(scenario, 4).events, other.events)
  })

  it('moves a random walker only between neighbours, and never onto a MAAR that is down', () => {
    const map = new ScenarioMap(scenario)
    const at = new Map<string, string>()
    for (const e of buildTrace(scenario).events) {
      if (e.kind !== 'attach') continue
      assert.ok(!(e.maar === 'maar5' && e.t >= 30_000 && e.t < 60_000), `${e.mn} attaches to maar5 while it is down, at ${e.t}`)
      const before = at.get(e.mn)
      // A move forced by a MAAR going down goes to the nearest live MAAR, not to a drawn neighbour.
      if (e.mn.startsWith('walker') && before !== undefined && e.t !== 30_000) assert.ok(map.neighbours(before).includes(e.maar), `${e.mn}: ${before} -> ${e.maar} at ${e.t}`)
      at.set(e.mn, e.maar)
    }
  })

  it('plays each model as described', () => {
    const events = buildTrace(scenario).events
    const of = (mn: string): string[] => events.filter(e => 'mn' in e && e.mn === mn).map(e => e.kind === 'attach' ? e.maar : e.kind)
    assert.deepEqual(of('pp-1@dmm.example').slice(0, 4), ['maar1', 'maar2', 'maar1', 'maar2'])
    // 1 km at 120 km/h: 30 s per cell, then out of the domain.
    assert.deepEqual(of('car-1@dmm.example'), ['maar1', 'maar2', 'maar3', 'leave'])
    assert.deepEqual(events.filter(e => 'mn' in e && e.mn === 'car-2@dmm.example').map(e => e.t), [10_000, 40_000, 70_000, 100_000])
    assert.deepEqual(of('commuter-1@dmm.example').slice(0, 5), ['maar7', 'maar8', 'maar9', 'maar8', 'maar7'])
    assert.deepEqual(of('burst2-1@dmm.example').slice(1), ['leave'])
    assert.deepEqual(events.filter(e => e.kind === 'maar-down' || e.kind === 'maar-up').map(e => [e.t, e.kind]), [[30_000, 'maar-down'], [60_000, 'maar-up']])
  })

  it('gives one-way delays from positions', () => {
    const map = new ScenarioMap(parseScenario(FILE.replace('contenders', 'delay: { perHopMs: 1, kmPerMs: 0.5 }\ncontenders'), 'd.yaml'))
    assert.equal(map.oneWayMs('maar1', 'maar1'), 0)
    assert.equal(map.oneWayMs('maar1', 'maar3'), 1 + 2 / 0.5)
    assert.equal(map.oneWayMs('maar1', 'cmd'), 1 + Math.SQRT2 / 0.5)
  })
})
