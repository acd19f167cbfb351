import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { buildTrace, parseScenario, runScenario, scaleEngine } from '../src/index.js'
import type { DomainEngine } from '../src/index.js'

/**
 * A scenario end to end on the scale engine (packages/scale maar-mesh.ts): complete MAARs (PBU/PBA,
 * binding caches, kad-dht lookups and publications, the memory data plane) over libp2p's memory
 * transport with their binding caches on memory-level. The trace's moves must all be accepted,
 * handovers must signal their previous anchors, and every check must pass.
 */
const FILE = `name: scale-small
engine: scale
seed: 5
durationS: 14
maars: { count: 24, layout: grid, spacingKm: 1 }
neighbours: { withinKm: 1.5 }
contenders: [dht]
mns:
  - { group: walker, count: 6, movement: { model: random-walk, dwellS: 3, jitter: 0.3 } }
checks: { everyS: 5 }
`

/** Every file under `dir`, recursively. */
async function filesUnder (dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter(e => e.isFile()).map(e => join(e.parentPath, e.name))
}

describe('a scenario on the scale engine', function () {
  this.timeout(240_000)
  let workDir: string
  beforeEach(async () => { workDir = await mkdtemp(join(tmpdir(), 'scale-run-')) })
  afterEach(async () => { await rm(workDir, { recursive: true, force: true }) })

  it('runs 24 complete MAARs over the memory transport, in-memory binding caches, every move accepted and every check passing', async () => {
    const scenario = parseScenario(FILE, 'scale-small.yaml')
    const trace = buildTrace(scenario)
    const seen: { addrs: string[], files: string[] } = { addrs: [], files: [] }
    // The runner's own engine, watched: where the MAARs listen, and what they wrote to disk.
    const watched: DomainEngine = {
      start: async spec => {
        const domain = await scaleEngine.start(spec)
        seen.addrs = spec.maars.flatMap(name => domain.maar(name)?.multiaddrs() ?? [])
        return domain
      }
    }
    const report = await runScenario({ scenario, engine: watched, workDir })
    seen.files = await filesUnder(workDir)
    const [c] = report.contenders
    assert.ok(c !== undefined && c.error === undefined, c?.error)
    assert.equal(seen.addrs.length, 24)
    assert.ok(seen.addrs.every(a => a.startsWith('/memory/')), seen.addrs.join(' '))
    assert.deepEqual(seen.files, [], 'no LevelDB on disk')
    assert.equal(c.handovers.length, trace.events.filter(e => e.kind === 'attach').length)
    assert.deepEqual(c.handovers.filter(h => h.outcome !== 'accepted'), [])
    const moves = c.handovers.filter(h => h.kind === 'handover')
    assert.ok(moves.length >= 6, `${moves.length} handovers`)
    // A handover signals the previous anchors: PBU and PBA octets, lookups and publications counted.
    for (const h of moves) assert.ok(h.octets > 0 && (h.recordMessages ?? 0) > 0, JSON.stringify(h))
    assert.ok(c.checks.length >= 9)
    assert.deepEqual(c.checks.filter(k => !k.passed), [])
  })

  it('runs the CMD contenders (relay, proxy, hybrid, locator/b) on 16 MAARs: every move accepted (locator too: the serving MAAR waits for the P-MAARs\' own PBAs) through the CMD, its load counted, every check passing', async () => {
    const file = FILE.replace('count: 24', 'count: 16').replace('contenders: [dht]', 'cmd: { x: 1.5, y: 1.5 }\ncontenders: [relay, proxy, hybrid, locator/b]')
    const scenario = parseScenario(file, 'scale-cmd.yaml')
    const trace = buildTrace(scenario)
    // The runner's own engine, watched: what each domain had on disk just before it stopped.
    const onDisk: string[][] = []
    const watched: DomainEngine = {
      start: async spec => {
        const domain = await scaleEngine.start(spec)
        return { ...domain, stop: async () => { onDisk.push((await filesUnder(workDir)).map(f => relative(workDir, f))); await domain.stop() } }
      }
    }
    const report = await runScenario({ scenario, engine: watched, workDir })
    assert.deepEqual(report.contenders.map(c => [c.name, c.error]), [['relay', undefined], ['proxy', undefined], ['hybrid', undefined], ['locator/b', undefined]])
    for (const c of report.contenders) {
      assert.equal(c.handovers.length, trace.events.filter(e => e.kind === 'attach').length, c.name)
      assert.deepEqual(c.handovers.filter(h => h.outcome !== 'accepted'), [], c.name)
      const moves = c.handovers.filter(h => h.kind === 'handover')
      assert.ok(moves.length >= 6, `${c.name}: ${moves.length} handovers`)
      for (const h of moves) assert.ok(h.messages > 0 && h.octets > 0, `${c.name}: ${JSON.stringify(h)}`)
      // The CMD is a node of the load figures, and it carried the handovers' PBUs and PBAs.
      const cmdLoad = c.load.series.find(s => s.node === 'cmd')?.counts.reduce((a, b) => a + b, 0) ?? 0
      assert.ok(cmdLoad >= 2 * moves.length, `${c.name}: the CMD sent or received ${cmdLoad} messages for ${moves.length} handovers`)
      assert.ok(c.checks.length >= 9, c.name)
      assert.deepEqual(c.checks.filter(k => !k.passed), [], c.name)
    }
    // On disk, only the CMD's session store (LevelDB, as on the local engine); the MAARs' binding caches are in memory.
    assert.equal(onDisk.length, 4)
    for (const files of onDisk) {
      assert.ok(files.some(f => f.endsWith('CURRENT')), files.join(' '))
      assert.deepEqual(files.filter(f => !/^[a-z]+-[^/]+\/cmd\//.test(f)), [])
    }
  })

  it('refuses only a federation policy, naming it, and runs nothing', async () => {
    const scenario = parseScenario(FILE.replace('durationS: 14', 'durationS: 1'), 'scale-small.yaml')
    const report = await runScenario({ scenario, contenders: ['tunnel'], workDir })
    assert.deepEqual(report.contenders.map(c => [c.name, c.error, c.handovers.length]), [
      ['tunnel', 'could not start: tunnel: federation scenarios run on the local engine (set engine: local)', 0]
    ])
    await assert.rejects(scaleEngine.start({ contender: 'tunnel', federation: { domains: [], agreements: [] } } as never), /federation scenarios run on the local engine/)
  })
})
