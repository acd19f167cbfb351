/**
 * DHT against CMD as deployed: every node its own process with the same small CPU quota (a Linux
 * cgroup, cpu-quota.ts), as if each MAAR and the CMD ran on its own equal machine, scaled down so
 * that the whole domain fits in this machine's cores without nodes sharing one. Handovers are
 * offered at a rising rate (open loop, through each MAAR's management API, as `dmm` users drive
 * them); for each rate: handovers/s completed, latency p50 / p99 (the MAAR's own attach-to-
 * programmed time), and CPU per handover of every node (/proc). The rate at which p99 reaches
 * twice the lowest rate's p99 is the domain's capacity; issue 13 asks DHT ÷ CMD ≥ 5.
 *
 * The CMD handles every handover of the domain while in DHT mode the work spreads over the MAARs,
 * so the ratio grows with the number of MAARs; `--maars` sets it.
 *
 *   npx tsc -b bench && npx node bench/dist/capacity.js [--maars 10] [--quota 0.1] [--modes dht,relay,proxy]
 *       [--rates 10,20,40,80,160] [--seconds 10] [--min-handovers 200] [--mns 4×maars]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { CpuQuotaGroup, cpuQuotaSupport, processCpuSeconds } from './cpu-quota.js'
import { api, makeIdentities, startCmdDaemon, startMaarDaemon, stopDaemons } from './daemon-domain.js'
import type { Daemon } from './daemon-domain.js'
import { rateAtDoubledP99, showDoublingRate, summarize, writeResults } from './stats.js'
import type { Summary } from './stats.js'

const MODES = ['dht', 'relay', 'locator', 'proxy'] as const
type Mode = typeof MODES[number]

const { values } = parseArgs({
  options: {
    maars: { type: 'string', default: '10' },
    quota: { type: 'string', default: '0.1' },
    modes: { type: 'string', default: 'dht,relay,proxy' },
    rates: { type: 'string', default: '10,20,40,80,160' },
    seconds: { type: 'string', default: '10' },
    'min-handovers': { type: 'string', default: '200' },
    mns: { type: 'string', default: '' }
  }
})
function usage (why: string): never {
  process.stderr.write(`capacity.js: ${why}\nusage: capacity.js [--maars 10 (2..200)] [--quota 0.1 (cores per node)] [--modes dht,relay,proxy] [--rates 5,10,20,...] [--seconds 10] [--min-handovers 200] [--mns 4×maars]\n`)
  process.exit(2)
}
const maarCount = Number(values.maars)
const quota = Number(values.quota)
const seconds = Number(values.seconds)
const minHandovers = Number(values['min-handovers'])
const modes = values.modes.split(',') as Mode[]
const rates = values.rates.split(',').map(Number)
const mnCount = values.mns === '' ? 4 * maarCount : Number(values.mns)
if (!Number.isInteger(maarCount) || maarCount < 2 || maarCount > 200) usage(`--maars must be an integer 2..200, got ${values.maars}`)
if (!(quota > 0 && quota <= 1)) usage(`--quota must be a share of one core in (0, 1], got ${values.quota}`)
if (!(seconds > 0)) usage(`--seconds must be above 0, got ${values.seconds}`)
if (!Number.isInteger(minHandovers) || minHandovers < 1) usage(`--min-handovers must be a positive integer, got ${values['min-handovers']}`)
if (modes.some(m => !MODES.includes(m))) usage(`--modes takes ${MODES.join(', ')}, got ${values.modes}`)
if (rates.some(r => !(r > 0))) usage(`--rates must be rates above 0, got ${values.rates}`)
if (!Number.isInteger(mnCount) || mnCount < 1) usage(`--mns must be a positive integer, got ${values.mns}`)
const unsupported = await cpuQuotaSupport()
if (unsupported !== undefined) {
  process.stderr.write(`capacity.js: needs a CPU quota per node and cannot set one here: ${unsupported}\n`)
  process.exit(2)
}

function progress (line: string): void { process.stderr.write(`${line}\n`) }

interface Node { daemon: Daemon, group: CpuQuotaGroup }
interface Mn { mnId: string, path: [number, number], at: number, busy: boolean }

interface RatePoint {
  offered: number
  /** Handovers completed per second of the offering window. */
  rate: number
  handovers: number
  failed: number
  /** Offers skipped because every MN was still in a handover (the domain fell behind). */
  skipped: number
  latencyMs: Summary
  /** CPU ms per completed handover, by node. */
  cpuPerHandoverMs: Record<string, number>
  busiest: { node: string, cpuMs: number }
}

interface ModeResult {
  mode: Mode
  /** Share of a core each node used with no handover offered (kad-dht upkeep, timers, GC), by node. */
  idleCores?: Record<string, number>
  points: RatePoint[]
  p99DoublesAt?: { rate: number, reached: boolean }
  /**
   * The rate at which the busiest node's CPU would be all its quota, from its CPU per handover at
   * the highest rate completed: where the domain must saturate, whatever the latency did.
   */
  saturatesAt?: { rate: number, node: string }
  error?: string
}

const IDLE_MS = 5000

/** What each node uses while nothing is offered, as a share of one core. */
async function idleCores (nodes: Node[]): Promise<Record<string, number>> {
  const cpu = async (): Promise<number[]> => await Promise.all(nodes.map(async n => await processCpuSeconds(n.daemon.child.pid as number)))
  const before = await cpu()
  await sleep(IDLE_MS)
  const after = await cpu()
  return Object.fromEntries(nodes.map((n, i) => [n.daemon.name, Math.round(((after[i] ?? 0) - (before[i] ?? 0)) / (IDLE_MS / 1000) * 1000) / 1000]))
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Nodes running now, stopped (and their groups removed) on Ctrl-C as at the end of a mode. */
const running = new Set<Node>()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping ${running.size} nodes`)
    void stopNodes([...running]).finally(() => process.exit(130))
  })
}

/** The domain of one mode: the CMD (in a CMD mode) and the MAARs, each in its own cgroup. */
async function startNodes (dir: string, operatorPublicKey: string, mode: Mode): Promise<Node[]> {
  const nodes: Node[] = []
  const place = async (daemon: Daemon): Promise<Node> => {
    const group = await CpuQuotaGroup.create(`dmm-capacity-${process.pid}-${daemon.name}`)
    await group.add(daemon.child.pid as number)
    await group.prioritise()
    const node = { daemon, group }
    nodes.push(node)
    running.add(node)
    return node
  }
  try {
    const cmd = mode === 'dht' ? undefined : await place(await startCmdDaemon(dir, operatorPublicKey, mode, mode))
    const discovery = cmd === undefined ? undefined : `discovery: { mode: ${mode}, cmd: ${JSON.stringify(cmd.daemon.multiaddr)} }`
    const maars: Node[] = []
    for (let i = 1; i <= maarCount; i++) {
      // Each dials up to three MAARs started before it; kad-dht's walks find the rest.
      const bootstrap = maars.slice(-3).map(m => m.daemon.multiaddr)
      maars.push(await place(await startMaarDaemon(dir, operatorPublicKey, i, bootstrap, mode, discovery)))
    }
    return nodes
  } catch (err) {
    await stopNodes(nodes)
    throw err
  }
}

async function stopNodes (nodes: Node[]): Promise<void> {
  await stopDaemons(nodes.map(n => n.daemon))
  await Promise.all(nodes.map(async n => { await n.group.remove(); running.delete(n) }))
}

/** One handover of `mn` to the other MAAR of its path: detach at the old one, attach at the new one. */
async function move (maars: Daemon[], mn: Mn): Promise<number> {
  const from = maars[mn.at] as Daemon
  const to = mn.path[0] === mn.at ? mn.path[1] : mn.path[0]
  await api(from, 'POST', '/detach', { mnId: mn.mnId })
  const report = await api<{ totalMs: number, complete: boolean }>(maars[to] as Daemon, 'POST', '/attach', { mnId: mn.mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
  mn.at = to
  if (!report.body.complete) throw new Error(`${mn.mnId} at ${maars[to]?.name ?? to}: partial handover`)
  return report.body.totalMs
}

/**
 * Offers handovers at `offered`/s for `seconds` (longer if that would offer fewer than
 * --min-handovers: a p99 needs samples), each to the next MN not in a handover.
 */
async function offer (nodes: Node[], maars: Daemon[], mns: Mn[], offered: number, forSeconds?: number): Promise<RatePoint> {
  const before = await Promise.all(nodes.map(async n => await processCpuSeconds(n.daemon.child.pid as number)))
  const latencies: number[] = []
  let failed = 0; let skipped = 0; let next = 0
  const running: Array<Promise<void>> = []
  const total = forSeconds !== undefined ? Math.round(offered * forSeconds) : Math.max(minHandovers, Math.round(offered * seconds))
  const t0 = performance.now()
  for (let k = 0; k < total; k++) {
    const due = t0 + (k * 1000) / offered
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    let mn: Mn | undefined
    for (let tries = 0; tries < mns.length && mn === undefined; tries++) {
      const candidate = mns[next++ % mns.length] as Mn
      if (!candidate.busy) mn = candidate
    }
    if (mn === undefined) { skipped++; continue }
    const one = mn
    one.busy = true
    running.push(move(maars, one).then(ms => { latencies.push(ms) }, err => {
      failed++
      if (failed <= 3) progress(`  handover failed: ${err instanceof Error ? err.message : String(err)}`)
    }).finally(() => { one.busy = false }))
  }
  await Promise.all(running)
  const elapsed = (performance.now() - t0) / 1000
  const after = await Promise.all(nodes.map(async n => await processCpuSeconds(n.daemon.child.pid as number)))
  const done = latencies.length
  const cpuPerHandoverMs: Record<string, number> = {}
  nodes.forEach((n, i) => { cpuPerHandoverMs[n.daemon.name] = done === 0 ? NaN : Math.round(((after[i] ?? 0) - (before[i] ?? 0)) * 1000 / done * 100) / 100 })
  const [node, cpuMs] = Object.entries(cpuPerHandoverMs).reduce((a, b) => b[1] > a[1] ? b : a)
  return { offered, rate: Math.round(done / elapsed * 10) / 10, handovers: done, failed, skipped, latencyMs: summarize(latencies), cpuPerHandoverMs, busiest: { node, cpuMs } }
}

async function runMode (dir: string, operatorPublicKey: string, mode: Mode): Promise<ModeResult> {
  progress(`${mode}: starting the CMD and ${maarCount} MAARs, each its own process`)
  const nodes = await startNodes(dir, operatorPublicKey, mode)
  try {
    const maars = nodes.filter(n => n.daemon.name.startsWith('maar')).map(n => n.daemon)
    // MN m ping-pongs between MAAR m mod N and the next one: at most two anchors per session,
    // and every MAAR serves and anchors its share.
    const mns: Mn[] = Array.from({ length: mnCount }, (_, m) => ({ mnId: `mn${m}@dmm.example`, path: [m % maarCount, (m + 1) % maarCount] as [number, number], at: m % maarCount, busy: false }))
    for (const mn of mns) await api(maars[mn.at] as Daemon, 'POST', '/attach', { mnId: mn.mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
    // Unlimited warm-up: every MN moves twice, so that streams are open and records published. A
    // move that fails here is retried by the measured rounds; only say so.
    let warmUpFailures = 0
    for (let round = 0; round < 2; round++) await Promise.all(mns.map(async mn => { await move(maars, mn).catch(() => { warmUpFailures++ }) }))
    if (warmUpFailures > 0) progress(`${mode}: ${warmUpFailures} warm-up moves failed`)
    await sleep(2000)
    await Promise.all(nodes.map(async n => { await n.group.limit(quota) }))
    const idle = await idleCores(nodes)
    // Under the quota, a few seconds at the lowest rate first: the first throttled seconds (JIT,
    // buffers growing) are not the domain's steady state.
    await offer(nodes, maars, mns, rates[0] as number, 3)
    progress(`${mode}: idle, each node uses ${Object.entries(idle).map(([n, c]) => `${n} ${c}`).join(', ')} of a core`)
    const points: RatePoint[] = []
    for (const offered of rates) {
      const p = await offer(nodes, maars, mns, offered)
      points.push(p)
      progress(`${mode}: offered ${offered}/s → ${p.rate}/s, p50 ${p.latencyMs.median} ms, p99 ${p.latencyMs.p99} ms, ${p.failed} failed, ${p.skipped} skipped; busiest ${p.busiest.node} ${p.busiest.cpuMs} ms CPU per handover`)
      // Past twice the base p99 and falling behind: higher rates only queue more.
      const base = points[0]?.latencyMs.p99 ?? Infinity
      if (p.latencyMs.p99 >= 4 * base && p.rate < 0.8 * offered) break
      await sleep(1000)
    }
    const doubled = rateAtDoubledP99(points.filter(p => p.handovers > 0).map(p => ({ rate: p.rate, p99: p.latencyMs.p99 })))
    const top = points.filter(p => p.handovers > 0).reduce<RatePoint | undefined>((a, p) => a === undefined || p.rate > a.rate ? p : a, undefined)
    const saturatesAt = top === undefined ? undefined : { rate: Math.round(quota * 1000 / top.busiest.cpuMs), node: top.busiest.node }
    return { mode, idleCores: idle, points, ...(doubled !== undefined ? { p99DoublesAt: doubled } : {}), ...(saturatesAt !== undefined ? { saturatesAt } : {}) }
  } finally {
    await stopNodes(nodes)
  }
}

const dir = await mkdtemp(join(tmpdir(), 'dmm-capacity-'))
const results: ModeResult[] = []
try {
  progress(`making keys and certificates for ${maarCount} MAARs and the CMD (dmm keygen, dmm cert)`)
  const operatorPublicKey = makeIdentities(dir, maarCount)
  for (const mode of modes) {
    results.push(await runMode(dir, operatorPublicKey, mode).catch((err: unknown) => {
      progress(`${mode}: ${err instanceof Error ? err.message : String(err)}`)
      return { mode, points: [], error: err instanceof Error ? err.message : String(err) }
    }))
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}

process.stdout.write(`\nEach node its own process limited to ${quota} of a core; ${maarCount} MAARs, ${mnCount} MNs, ${seconds} s per offered rate.\n\n`)
process.stdout.write(`| mode | ${rates.map(r => `${r}/s offered`).join(' | ')} | p99 doubles at | busiest node saturates at |\n|---|${rates.map(() => '---').join('|')}|---|---|\n`)
for (const r of results) {
  const cells = rates.map(o => {
    const p = r.points.find(x => x.offered === o)
    return p === undefined ? '-' : `${p.rate}/s, ${p.latencyMs.median} / ${p.latencyMs.p99} ms, busiest ${p.busiest.node} ${p.busiest.cpuMs} ms`
  })
  const saturates = r.saturatesAt === undefined ? '-' : `${r.saturatesAt.rate}/s (${r.saturatesAt.node})`
  process.stdout.write(`| ${r.mode} | ${cells.join(' | ')} | ${r.error ?? showDoublingRate(r.p99DoublesAt)} | ${saturates} |\n`)
}
const dht = results.find(r => r.mode === 'dht')?.p99DoublesAt
const cmds = results.filter(r => r.mode !== 'dht' && r.p99DoublesAt !== undefined)
const best = cmds.reduce<ModeResult | undefined>((b, r) => b === undefined || (r.p99DoublesAt?.rate ?? 0) > (b.p99DoublesAt?.rate ?? 0) ? r : b, undefined)
const ratio = dht !== undefined && best?.p99DoublesAt !== undefined ? Math.round(dht.rate / best.p99DoublesAt.rate * 100) / 100 : undefined
if (ratio !== undefined) process.stdout.write(`\nDHT ÷ best CMD mode (${best?.mode ?? ''}): ${ratio}\n`)
const file = await writeResults('capacity', { maars: maarCount, quotaCores: quota, mns: mnCount, secondsPerRate: seconds, modes: results, dhtOverCmd: ratio, bestCmd: best?.mode })
process.stdout.write(`results written to ${file}\n`)
process.exit(0)
