/**
 * The DHT at scale (packages/scale): for each N, start N MAARs in the scale engine, attach MNs at
 * random MAARs (each publishes its record), then look each up from random other MAARs, one at a
 * time, and classify every answer: cache / direct (a member the looking MAAR knew) / walk (after a
 * walk toward the key, key-walk.ts) / fallback (kad-dht get) / absent / failed. Then, at the
 * largest N, 20 % of the MAARs leave at once and MNs attached at live MAARs are looked up again.
 *
 *   npx tsc -b bench && npx node bench/dist/scale.js [--sizes 10,100,1000] [--mns 100] [--lookups 200]
 *     [--workers 1] [--transport memory|tcp|memory+tcp] [--maintenance quiet|default] [--warmup 10] [--churn 0.2]
 *     [--no-churn] [--out scale] [--walk-timeout 5000] [--buffer-pool-size 8192] [--worker-flags '--optimize-for-size --max-semi-space-size=8']
 *     [--libp2p-logs]
 *
 * Writes bench/results/<out>.json (memoryPerMaarBytes at the largest N is read by the goals table).
 */
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { ScaleEngine, WORKER_BUFFER_POOL_SIZE, rng } from '@dmm-mesh/scale'
import type { LookupSample } from '@dmm-mesh/scale'
import { summarize, writeResults } from './stats.js'

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,100,1000' },
    mns: { type: 'string', default: '100' },
    lookups: { type: 'string', default: '200' },
    workers: { type: 'string', default: '1' },
    transport: { type: 'string' },
    maintenance: { type: 'string', default: 'quiet' },
    warmup: { type: 'string', default: '10' },
    churn: { type: 'string', default: '0.2' },
    'no-churn': { type: 'boolean', default: false },
    out: { type: 'string', default: 'scale' },
    encryption: { type: 'string' },
    alpha: { type: 'string' },
    'disjoint-paths': { type: 'string' },
    'walk-timeout': { type: 'string' },
    'max-connections': { type: 'string' },
    'settle-timeout': { type: 'string', default: '120' },
    'buffer-pool-size': { type: 'string' },
    'worker-flags': { type: 'string' },
    'libp2p-logs': { type: 'boolean', default: false }
  }
})
const sizes = (values.sizes ?? '').split(',').map(Number).filter(n => Number.isInteger(n) && n >= 2)
const mns = Number(values.mns)
const lookups = Number(values.lookups)
const workers = Number(values.workers)
const warmupS = Number(values.warmup)
const churn = Number(values.churn)
const transport = values.transport
const maintenance = values.maintenance
const encryption = values.encryption
const alpha = values.alpha === undefined ? undefined : Number(values.alpha)
const disjointPaths = values['disjoint-paths'] === undefined ? undefined : Number(values['disjoint-paths'])
const walkTimeoutMs = values['walk-timeout'] === undefined ? undefined : Number(values['walk-timeout'])
const maxConnections = values['max-connections'] === undefined ? undefined : Number(values['max-connections'])
const settleS = Number(values['settle-timeout'])
const bufferPoolSize = values['buffer-pool-size'] === undefined ? undefined : Number(values['buffer-pool-size'])
// Space-separated node flags of the workers ('' for none); the engine checks them.
const workerFlags = values['worker-flags'] === undefined ? undefined : values['worker-flags'].split(' ').filter(f => f !== '')
if (sizes.length === 0 || ![mns, lookups, workers].every(n => Number.isInteger(n) && n >= 1) || !(warmupS >= 0) || !(churn > 0 && churn < 1) ||
  (transport !== undefined && transport !== 'tcp' && transport !== 'memory' && transport !== 'memory+tcp') || (maintenance !== 'quiet' && maintenance !== 'default') ||
  (encryption !== undefined && encryption !== 'noise' && encryption !== 'plaintext') || ![alpha, disjointPaths, maxConnections, walkTimeoutMs].every(n => n === undefined || (Number.isInteger(n) && n >= 1)) || !(settleS > 0)) {
  process.stderr.write('usage: scale.js [--sizes 10,100,1000] [--mns 100] [--lookups 200] [--workers 1] [--transport memory|tcp|memory+tcp] [--maintenance quiet|default] [--warmup 10] [--churn 0.2] [--no-churn] [--out scale] [--encryption noise|plaintext] [--alpha 10] [--disjoint-paths 20] [--walk-timeout 5000] [--max-connections 2000] [--settle-timeout 120] [--buffer-pool-size 8192] [--worker-flags "--optimize-for-size ..."] [--libp2p-logs]\n')
  process.exit(2)
}

function progress (line: string): void { process.stderr.write(`${line}\n`) }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

const PATHS = ['cache', 'direct', 'walk', 'fallback', 'absent', 'failed'] as const

/** Latency, hops and path shares of a set of lookups, and how many named the right MAAR. */
function describe (samples: Array<LookupSample & { expected: string }>): Record<string, unknown> {
  const share: Record<string, number> = {}
  for (const p of PATHS) share[p] = Math.round(1000 * samples.filter(s => s.path === p).length / Math.max(1, samples.length)) / 1000
  const answered = samples.filter(s => s.signer !== undefined)
  return {
    lookups: samples.length,
    latencyMs: summarize(samples.map(s => s.elapsedMs)),
    // The kad-dht fallback does not say its depth (hops 0): left out.
    hops: summarize(answered.filter(s => s.hops > 0).map(s => s.hops)),
    share,
    correct: samples.filter(s => s.signer === s.expected).length,
    walk: describeWalks(samples),
    errors: [...new Set(samples.map(s => s.error).filter(e => e !== undefined))].slice(0, 3)
  }
}

/**
 * The lookups' walks toward the key (key-walk.ts): how they ended (complete / cut short at their
 * bound / failed), their rounds, queries and time, and for each path the walks that led to it
 * (why a lookup fell back: e.g. fallback after a cut-short walk).
 */
function describeWalks (samples: LookupSample[]): Record<string, unknown> {
  const walks = samples.flatMap(s => s.walk === undefined ? [] : [s.walk])
  const ended: Record<string, number> = {}
  for (const w of walks) ended[w.ended] = (ended[w.ended] ?? 0) + 1
  const byPath: Record<string, Record<string, number>> = {}
  for (const s of samples) {
    const how = s.walk?.ended ?? 'no walk'
    const counts = (byPath[s.path] ??= {})
    counts[how] = (counts[how] ?? 0) + 1
  }
  return {
    count: walks.length,
    ended,
    rounds: summarize(walks.map(w => w.rounds)),
    queries: summarize(walks.map(w => w.queries)),
    answered: summarize(walks.map(w => w.answered)),
    closest: summarize(walks.map(w => w.closest)),
    elapsedMs: summarize(walks.map(w => w.elapsedMs)),
    byPath
  }
}

async function lookupRound (engine: ScaleEngine, attachedAt: Map<string, number>, count: number, random: () => number): Promise<Array<LookupSample & { expected: string }>> {
  const live = engine.running()
  const names = [...attachedAt.keys()].filter(mn => live.includes(attachedAt.get(mn) ?? -1))
  const samples: Array<LookupSample & { expected: string }> = []
  for (let k = 0; k < count && names.length > 0; k++) {
    const mn = names[Math.floor(random() * names.length)] as string
    const at = attachedAt.get(mn) as number
    let from = live[Math.floor(random() * live.length)] as number
    if (from === at) from = live[(live.indexOf(from) + 1) % live.length] as number
    const sample = await engine.lookup(mn, from)
    samples.push({ ...sample, expected: engine.identities[at]?.peerId ?? '' })
    if ((k + 1) % 20 === 0) progress(`${k + 1}/${count} looked up`)
  }
  return samples
}

/** Whether every background kad-dht put ended within `seconds` (they go on either way). */
async function settledWithin (engine: ScaleEngine, seconds: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<false>(resolve => { timer = setTimeout(() => { resolve(false) }, seconds * 1000) })
  try {
    return await Promise.race([engine.settled().then(() => true), bound])
  } finally {
    clearTimeout(timer)
  }
}

/** Connections and re-publications so far, for the progress lines of a long run. */
async function linkState (engine: ScaleEngine): Promise<string> {
  const c = await engine.counters()
  const links = summarize(c.connections)
  return `connections per MAAR median ${links.median} max ${links.max}, connection ends opened ${c.opened}, records put again ${c.republished}`
}

async function memoryFigures (engine: ScaleEngine): Promise<Record<string, number>> {
  const slices = await engine.memory()
  const maars = slices.reduce((n, s) => n + s.maars, 0)
  const rss = slices.reduce((n, s) => n + s.rss, 0)
  const added = slices.reduce((n, s) => n + s.rss - s.baselineRss, 0)
  const heap = slices.reduce((n, s) => n + s.heapUsed, 0)
  // V8's committed heap beyond heapUsed is free space in its pages; external is Buffers' memory.
  const heapTotal = slices.reduce((n, s) => n + s.heapTotal, 0)
  const external = slices.reduce((n, s) => n + s.external, 0)
  const per = (bytes: number): number => Math.round(bytes / maars)
  // Memory follows the connections (README "Scale"), whose count varies from run to run: counted at the same moment.
  const connectionEnds = (await engine.counters()).connections.reduce((n, c) => n + c, 0)
  return { maars, rssBytes: rss, memoryPerMaarBytes: per(rss), addedRssPerMaarBytes: per(added), heapPerMaarBytes: per(heap), heapTotalPerMaarBytes: per(heapTotal), externalPerMaarBytes: per(external), connectionEnds, heapPerConnectionEndBytes: Math.round(heap / Math.max(1, connectionEnds)) }
}

async function runSize (count: number, withChurn: boolean): Promise<Record<string, unknown>> {
  const random = rng(count * 7919)
  const cpu0 = process.cpuUsage()
  const engine = await ScaleEngine.start({
    count,
    workers,
    ...(transport !== undefined ? { transport: transport as 'tcp' | 'memory' | 'memory+tcp' } : {}),
    maintenance: maintenance as 'quiet' | 'default',
    ...(encryption !== undefined ? { encryption: encryption as 'noise' | 'plaintext' } : {}),
    ...(alpha !== undefined ? { alpha } : {}),
    ...(disjointPaths !== undefined ? { disjointPaths } : {}),
    ...(walkTimeoutMs !== undefined ? { walkTimeoutMs } : {}),
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    ...(bufferPoolSize !== undefined ? { bufferPoolSize } : {}),
    ...(workerFlags !== undefined ? { workerFlags } : {}),
    libp2pLogs: values['libp2p-logs'],
    log: progress
  })
  const startCpu = process.cpuUsage(cpu0)
  progress(`N=${count}: started in ${Math.round(engine.startupMs)} ms (${engine.workers} process(es)); warming up ${warmupS} s`)
  try {
    const idle0 = process.cpuUsage()
    const openedAtStart = (await engine.counters()).opened
    await sleep(warmupS * 1000)
    const idle = process.cpuUsage(idle0)
    const memory = await memoryFigures(engine)
    progress(`N=${count}: memory after the warm-up ${JSON.stringify(memory)}`)
    const attachedAt = new Map<string, number>()
    const attachErrors: string[] = []
    const openedBefore = (await engine.counters()).opened
    // Connection ends opened while nothing was asked (late self walks, kad-dht's contact pings), per second.
    const openedPerIdleSecond = warmupS > 0 ? Math.round((openedBefore - openedAtStart) / warmupS * 10) / 10 : undefined
    const t0 = performance.now()
    for (let m = 0; m < mns; m++) {
      const mn = `mn${m}@scale.example`
      const at = Math.floor(random() * count)
      // A publish whose direct PUTs all failed still has its kad-dht put running: counted, kept.
      await engine.attach(mn, at).catch((err: Error) => { attachErrors.push(err.message.slice(0, 160)) })
      attachedAt.set(mn, at)
      if ((m + 1) % 10 === 0) progress(`N=${count}: ${m + 1}/${mns} attached (${Math.round((performance.now() - t0) / (m + 1))} ms each); ${await linkState(engine)}`)
    }
    const publishMs = (performance.now() - t0) / mns
    progress(`N=${count}: waiting for the background kad-dht puts`)
    const putsSettled = await settledWithin(engine, settleS)
    if (!putsSettled) progress(`N=${count}: background puts still running after ${settleS} s (${await linkState(engine)}); looking up anyway`)
    const before = await engine.counters()
    // Connection ends opened by the publications (direct PUTs and their kad-dht puts), per record.
    const openedPerPublication = Math.round((before.opened - openedBefore) / mns * 10) / 10
    const samples = await lookupRound(engine, attachedAt, lookups, random)
    const after = await engine.counters()
    const figures: Record<string, unknown> = {
      maars: count,
      workers: engine.workers,
      startupMs: Math.round(engine.startupMs),
      startupCpuMsPerMaar: engine.workers === 1 ? Math.round((startCpu.user + startCpu.system) / 1000 / count * 10) / 10 : undefined,
      memory,
      // kad-dht upkeep and connection set-up while nothing is asked (this process only).
      warmupCpuShareOfCore: engine.workers === 1 && warmupS > 0 ? Math.round((idle.user + idle.system) / 1000 / (warmupS * 1000) * 100) / 100 : undefined,
      routingTable: summarize(after.tableSizes),
      connectionsPerMaar: summarize(after.connections),
      publishMsPerRecord: Math.round(publishMs * 10) / 10,
      connectionEndsOpenedPerPublication: openedPerPublication,
      connectionEndsOpenedPerIdleSecond: openedPerIdleSecond,
      backgroundPutsSettled: putsSettled,
      attachErrors: { count: attachErrors.length, first: attachErrors.slice(0, 2) },
      lookup: { ...describe(samples), walks: after.walks - before.walks },
      directoryLog: after.logged
    }
    progress(`N=${count}: ${JSON.stringify(figures.lookup)}`)
    progress(`N=${count}: memory ${JSON.stringify(memory)}, table ${JSON.stringify(figures.routingTable)}`)
    if (withChurn) {
      const live = engine.running()
      const leaving = live.filter(() => random() < churn)
      const tc = performance.now()
      await engine.kill(leaving)
      progress(`N=${count}: ${leaving.length} MAARs left at once`)
      const immediately = await lookupRound(engine, attachedAt, Math.min(lookups, 50), random)
      // The publishers notice the departures (1 s grace) and put their records again.
      await sleep(3000)
      const republishSettled = await settledWithin(engine, settleS)
      const republished = (await engine.counters()).republished - after.republished
      const later = await lookupRound(engine, attachedAt, lookups, random)
      figures.churn = {
        left: leaving.length,
        republished,
        republishSettled,
        settleMs: Math.round(performance.now() - tc),
        immediately: describe(immediately),
        afterRepublish: describe(later)
      }
      progress(`N=${count} churn: ${JSON.stringify(figures.churn)}`)
    }
    return figures
  } finally {
    await engine.stop()
  }
}

const results: Array<Record<string, unknown>> = []
/** Written after every size, so that a long run that is stopped keeps what it measured. */
async function save (): Promise<string> {
  const largest = results[results.length - 1]
  return await writeResults(values.out ?? 'scale', {
    settings: { mns, lookups, workers, transport: transport ?? (workers === 1 ? 'memory' : 'memory+tcp'), maintenance, warmupS, churn, encryption: encryption ?? 'plaintext', maxConnections: maxConnections ?? 2000, settleTimeoutS: settleS, alpha: alpha ?? 'default', disjointPaths: disjointPaths ?? 'default', walkTimeoutMs: walkTimeoutMs ?? 'default', bufferPoolSize: bufferPoolSize ?? WORKER_BUFFER_POOL_SIZE, workerFlags: workerFlags ?? [], libp2pLogs: values['libp2p-logs'] },
    memoryPerMaarBytes: (largest?.memory as { memoryPerMaarBytes?: number } | undefined)?.memoryPerMaarBytes,
    memoryPerMaarAtMaars: largest?.maars,
    sizes: results
  })
}
for (const [i, count] of sizes.entries()) {
  results.push(await runSize(count, !values['no-churn'] && i === sizes.length - 1))
  progress(`wrote ${await save()}`)
}
