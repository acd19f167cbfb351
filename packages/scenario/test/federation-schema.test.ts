/**
 * Federation scenario files (scenario-schema.ts `domains`, `agreements`, `agreement-revoked`):
 * a good one parses, each bad domain, agreement or revocation is refused at its line and field.
 */
import assert from 'node:assert/strict'
import { ConfigError, ScenarioMap, buildTrace, parseScenario } from '../src/index.js'

const GOOD = `name: two-operators
seed: 3
durationS: 20
maars:
  - { name: a1, x: 0, y: 0 }
  - { name: a2, x: 10, y: 0 }
  - { name: b1, x: 20, y: 0 }
domains:
  - { name: a, maars: [a1, a2], discovery: dht }
  - { name: b, maars: [b1] }
agreements:
  - { from: a, to: b }
  - { from: b, to: a, boundedS: 60 }
contenders: [tunnel, drop]
mns:
  - { group: shuttle, count: 1, movement: { model: ping-pong, between: [a2, b1], dwellS: 2 } }
faults:
  - { kind: agreement-revoked, from: a, to: b, atS: 10 }
`

function rejects (yaml: string, field: string, line: number, why: RegExp): void {
  assert.throws(() => parseScenario(yaml, 'scenarios/f.yaml'), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `ConfigError, got ${String(err)}`)
    const p = err.problems.find(p => p.field === field)
    assert.ok(p !== undefined, `no problem at ${field}: ${err.message}`)
    assert.equal(p.line, line, err.message)
    assert.match(p.reason, why)
    return true
  })
}

describe('federation scenario schema', () => {
  it('parses domains, agreements (boundedS defaults to 30) and the revocation, which the trace carries', () => {
    const s = parseScenario(GOOD, 'scenarios/f.yaml')
    assert.deepEqual(s.domains, [{ name: 'a', maars: ['a1', 'a2'], discovery: 'dht' }, { name: 'b', maars: ['b1'], discovery: 'dht' }])
    assert.deepEqual(s.agreements, [{ from: 'a', to: 'b', boundedS: 30 }, { from: 'b', to: 'a', boundedS: 60 }])
    assert.deepEqual(buildTrace(s).events.filter(e => e.kind === 'agreement-revoked'), [{ t: 10_000, kind: 'agreement-revoked', from: 'a', to: 'b' }])
  })

  it('refuses a domain naming no MAAR, a MAAR in two domains, and a MAAR in none', () => {
    rejects(GOOD.replace('maars: [a1, a2]', 'maars: [a1, a9]'), 'domains[0].maars[1]', 9, /no MAAR named "a9"/)
    rejects(GOOD.replace('maars: [b1]', 'maars: [b1, a2]'), 'domains[1].maars[1]', 10, /a2 is already in domain a/)
    rejects(GOOD.replace('maars: [a1, a2]', 'maars: [a1]'), 'domains', 8, /every MAAR must be in a domain; not in one: a2/)
  })

  it('refuses a bad domain name, a domain named twice and an unknown discovery', () => {
    rejects(GOOD.replace('name: b,', 'name: B2,'), 'domains[1].name', 10, /1 to 20 lower-case letters/)
    rejects(GOOD.replace('name: b,', 'name: a,'), 'domains[1].name', 10, /domain a is named twice/)
    rejects(GOOD.replace('discovery: dht', 'discovery: carrier-pigeon'), 'domains[0].discovery', 9, /dht/)
  })

  it('refuses an agreement with an unknown domain, with itself, twice, or without domains', () => {
    rejects(GOOD.replace('{ from: a, to: b }', '{ from: a, to: c }'), 'agreements[0].to', 12, /no domain named "c" \(domains: a, b\)/)
    rejects(GOOD.replace('{ from: a, to: b }', '{ from: a, to: a }'), 'agreements[0].to', 12, /different domains/)
    rejects(GOOD.replace('{ from: b, to: a, boundedS: 60 }', '{ from: a, to: b }'), 'agreements[1]', 13, /a accepts b twice/)
    rejects(GOOD.replace('{ from: a, to: b }', '{ from: a, to: b, policy: tunnel }'), 'agreements[0].policy', 12, /unknown field/)
    const single = GOOD.replace(/domains:\n(  - .*\n){2}/, '').replace('contenders: [tunnel, drop]', 'contenders: [dht]').replace(/faults:\n.*\n/, '')
    rejects(single, 'agreements[0]', 9, /agreements need domains/)
  })

  it('refuses a revocation of an agreement not made', () => {
    rejects(GOOD.replace('{ kind: agreement-revoked, from: a, to: b', '{ kind: agreement-revoked, from: b, to: c'), 'faults[0]', 18, /no agreement from b to c to revoke/)
  })

  it('wants policies as contenders with domains, and discovery modes without', () => {
    rejects(GOOD.replace('contenders: [tunnel, drop]', 'contenders: [tunnel, dht]'), 'contenders[1]', 14, /with domains, a contender is a cross-border policy \(tunnel, drop, bounded\), got "dht"/)
    const single = GOOD.replace(/domains:\n(  - .*\n){2}/, '').replace(/agreements:\n(  - .*\n){2}/, '').replace(/faults:\n.*\n/, '')
    rejects(single, 'contenders[0]', 8, /tunnel is a cross-border policy: it needs domains/)
  })
})

describe('federation scenario schema: CMD domains', () => {
  const CMD = GOOD.replace('{ name: a, maars: [a1, a2], discovery: dht }', '{ name: a, maars: [a1, a2], discovery: relay, cmd: { x: 5, y: 30 } }')

  it('places a CMD domain\'s CMD on the map (cmd-<domain>)', () => {
    const map = new ScenarioMap(parseScenario(CMD, 'scenarios/f.yaml'))
    assert.deepEqual(map.domainCmds, [{ name: 'cmd-a', x: 5, y: 30 }])
    assert.ok(map.oneWayMs('a1', 'cmd-a') > map.oneWayMs('a1', 'a2'))
  })

  it('refuses a federation on the scale engine, at engine (its CMD contenders run there, its domains do not)', () => {
    rejects(GOOD.replace('durationS: 20', 'durationS: 20\nengine: scale'), 'engine', 4, /federation scenarios run on the local engine: set engine: local/)
  })

  it('refuses a CMD outside the domains (its cmd-down would have nothing to stop)', () => {
    rejects(GOOD.replace('domains:', 'cmd: { x: 1, y: 1 }\ndomains:'), 'cmd', 8, /each CMD belongs to a domain/)
  })

  it('refuses a CMD domain without a CMD, and a CMD in a DHT domain', () => {
    rejects(CMD.replace(', cmd: { x: 5, y: 30 }', ''), 'domains[0].discovery', 9, /a relay domain runs a CMD: add cmd: \{ x, y \} to domain a/)
    rejects(GOOD.replace('{ name: b, maars: [b1] }', '{ name: b, maars: [b1], cmd: { x: 1, y: 1 } }'), 'domains[1].cmd', 10, /domain b discovers through its DHT/)
  })
})
