/**
 * `dmm scenario run` as a separate OS process on a small scenario: report.json holds every
 * contender, each with as many handovers as the trace has attaches (the same for every contender),
 * messages counted, and the checks passed; `dmm scenario check` names the line of a bad field.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildTrace, parseScenario } from '@dmm-mesh/scenario'
import type { ScenarioReport } from '@dmm-mesh/scenario'
import { dmm } from './daemons.js'

const FILE = `name: cli-run
seed: 21
durationS: 8
maars: { count: 4, layout: line, spacingKm: 100 }
cmd: { x: 150, y: 0 }
contenders: [dht, proxy, legacy]
mns:
  - { group: walker, count: 3, movement: { model: random-walk, dwellS: 2 } }
flows:
  - { group: walker, startS: 1, endS: 7, everyMs: 200 }
checks: { everyS: 4 }
`

describe('dmm scenario as a process', function () {
  this.timeout(240_000)
  let dir: string

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'dmm-scenario-cli-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('runs every contender on the same trace and writes report.json and report.html', async () => {
    const file = join(dir, 'cli-run.yaml')
    await writeFile(file, FILE)
    const out = join(dir, 'out')
    const run = await dmm(['scenario', 'run', file, '--discovery', 'dht,proxy', '--out', out], 200_000)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stderr, /dmm scenario: dht \(1\/2\) running/)
    assert.match(run.stdout, /written: .*report\.json, .*report\.html/)
    const html = await readFile(join(out, 'report.html'), 'utf8')
    assert.match(html, /<title>cli-run — dmm scenario report<\/title>/)
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as ScenarioReport
    assert.equal(report.version, 1)
    assert.deepEqual(report.contenders.map(c => c.name), ['dht', 'proxy'])
    const attaches = buildTrace(parseScenario(FILE, file)).events.filter(e => e.kind === 'attach')
    for (const c of report.contenders) {
      assert.equal(c.error, undefined)
      assert.deepEqual(c.handovers.map(h => [h.mn, h.to]), attaches.map(e => e.kind === 'attach' ? [e.mn, e.maar] : []), `${c.name} replays the trace`)
      assert.equal(c.summary.handovers, attaches.length)
      assert.equal(c.summary.failed, 0, JSON.stringify(c.handovers.filter(h => h.outcome === 'failed')))
      assert.ok(c.summary.messagesPerHandover > 0 && c.summary.octetsPerHandover > 0)
      assert.ok(c.checks.length > 0 && c.checks.every(k => k.passed), JSON.stringify(c.checks.filter(k => !k.passed)))
      assert.ok(c.load.series.some(s => s.counts.some(n => n > 0)))
      assert.ok((c.flows?.[0]?.sent ?? 0) > 0)
    }
    // Through the CMD, its messages are in the load; the DHT mode has no CMD.
    assert.ok(report.contenders[1]?.load.series.some(s => s.node === 'cmd' && s.counts.some(n => n > 0)))
    assert.ok(!(report.contenders[0]?.load.series.some(s => s.node === 'cmd') ?? true))
  })

  it('check names the line and field of a bad file (exit 2), run refuses it too', async () => {
    const file = join(dir, 'bad.yaml')
    await writeFile(file, FILE.replace('random-walk', 'moonwalk'))
    const check = await dmm(['scenario', 'check', file])
    assert.equal(check.code, 2)
    assert.equal(check.stderr.trim(), `${file}:8: mns[0].movement.model: model must be random-walk, ping-pong, commuter or highway, got "moonwalk"`)
    const run = await dmm(['scenario', 'run', file, '--out', join(dir, 'never')])
    assert.equal(run.code, 2)
    const usage = await dmm(['scenario', 'run', join(dir, 'cli-run.yaml'), '--discovery', 'dht,carrier-pigeon'])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /"carrier-pigeon" is not a contender/)
  })

  it('refuses an engine that cannot run a file, or an unknown engine, before starting anything (exit 2)', async () => {
    const file = join(dir, 'engine-run.yaml')
    await writeFile(file, FILE)
    // The scale engine runs the CMD contenders too, but not a federation's domains.
    const federation = join(dir, 'federation.yaml')
    await writeFile(federation, FILE.replace('cmd: { x: 150, y: 0 }\ncontenders: [dht, proxy, legacy]', 'domains:\n  - { name: a, maars: [maar1, maar2] }\n  - { name: b, maars: [maar3, maar4] }\nagreements: [{ from: a, to: b }]\ncontenders: [tunnel]'))
    const onScale = await dmm(['scenario', 'run', federation, '--engine', 'scale', '--out', join(dir, 'never')])
    assert.equal(onScale.code, 2)
    assert.equal(onScale.stderr.trim(), `dmm: --engine: ${federation} has domains: federation scenarios run on the local engine`)
    const unknown = await dmm(['scenario', 'run', file, '--engine', 'warp'])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /engine.*"warp".*"local", "scale"/)
    const inFile = join(dir, 'engine.yaml')
    await writeFile(inFile, FILE.replace('seed: 21', 'seed: 21\nengine: warp'))
    const check = await dmm(['scenario', 'check', inFile])
    assert.equal(check.code, 2)
    assert.equal(check.stderr.trim(), `${inFile}:3: engine: must be local or scale, got "warp"`)
  })
})
