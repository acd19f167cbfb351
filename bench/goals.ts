/**
 * The performance goals of issue 13, each beside its measured value and ratio. The two latency
 * ratios are measured here, numerator and denominator in the same run (DHT mode, `--maars` MAARs
 * in one process on loopback); the others are read from the results the other benchmarks of the
 * same `npm run bench` wrote (throughput.json, anchor-rate.json, and scale.json from the scale
 * engine's benchmark when it has been run). Writes bench/results/goals.json.
 *
 *   npx tsc -b bench && npx node bench/dist/goals.js [--maars 10] [--moves 40] [--rounds 200]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { lpStream } from '@libp2p/utils'
import { createLocalMesh } from '@dmm-mesh/maar'
import type { LocalMaar } from '@dmm-mesh/maar'
import { DOMAIN, STRIDE, attach, maarAt, settleAll, trimSession, warmUp } from './domain.js'
import type { Domain, Load } from './domain.js'
import { FloorProbe } from './floors.js'
import { anchorMns, reRegister } from './reregister.js'
import type { Mn } from './reregister.js'
import { RESULTS_DIR, showDoublingRate, summarize, writeResults } from './stats.js'
import type { Summary } from './stats.js'

const { values } = parseArgs({ options: { maars: { type: 'string', default: '10' }, moves: { type: 'string', default: '40' }, rounds: { type: 'string', default: '200' } } })
const maarCount = Number(values.maars)
const moves = Number(values.moves)
const rounds = Number(values.rounds)
if (!Number.isInteger(maarCount) || maarCount < 3 || !Number.isInteger(moves) || moves < 1 || !Number.isInteger(rounds) || rounds < 2) {
  process.stderr.write('usage: goals.js [--maars 10 (≥3)] [--moves 40] [--rounds 200]\n')
  process.exit(2)
}

function progress (line: string): void { process.stderr.write(`${line}\n`) }

/**
 * One MN hops by a fixed stride, dwelling 50 ms at each MAAR: handover and lookup latency, and
 * per move, after the same quiet, an echo and a bare PBU/PBA (`idle`: the ratios' denominators
 * measured as the handover runs, not back to back).
 */
async function trace (d: Domain, idle: Mn, probe: FloorProbe): Promise<{ handover: Summary, lookup: Summary, phases: Record<string, Summary>, sources: Record<string, number>, idleEcho: Summary, idlePbu: Summary, idleVerify: Summary, idleCommit: Summary, signallingByAnchors: Record<string, Summary>, handoverByAnchors: Record<string, Summary> }> {
  // Beside the lookups: one echo per move, from the move's serving MAAR on a stream opened
  // before, after the same 50 ms of quiet as the lookup (the back-to-back echo runs warm).
  const echoes = await Promise.all(d.mesh.maars.map(async (m, i) => await openEcho(m, maarAt(d, i + 1))))
  for (const e of echoes) await e.once()
  const idleEcho: number[] = []
  const idlePbu: number[] = []
  const idleVerify: number[] = []
  const idleCommit: number[] = []
  const mnId = `goals@${DOMAIN}`
  let position = 0
  await attach(d, mnId, maarAt(d, 0))
  await settleAll(d)
  const handover: number[] = []; const lookup: number[] = []; const sources: Record<string, number> = {}
  // The handover's phases (doc/ARCHITECTURE.md "A handover"): lookup, PBU/PBA, programming, and
  // the rest (the intent and binding commits to LevelDB, the prefix reservation).
  const signalling: number[] = []; const program: number[] = []; const commits: number[] = []
  // PBU/PBA by the number of P-MAARs asked: the bare round trip asks one; here they share one process, core and disk.
  const byAnchors = new Map<number, number[]>()
  // The whole handover too: the bare round trip asks one anchor, a handover two or three whose
  // synced commits share this machine's one disk (in a deployment each anchor has its own).
  const handoverByAnchors = new Map<number, number[]>()
  for (let i = 0; i < moves; i++) {
    position = (position + STRIDE) % maarCount
    await new Promise(resolve => setTimeout(resolve, 50))
    const r = await attach(d, mnId, maarAt(d, position))
    await settleAll(d)
    handover.push(r.totalMs); lookup.push(r.lookupMs)
    signalling.push(r.signallingMs); program.push(r.programMs); commits.push(r.totalMs - r.lookupMs - r.signallingMs - r.programMs)
    byAnchors.set(r.peers.length, [...byAnchors.get(r.peers.length) ?? [], r.signallingMs])
    handoverByAnchors.set(r.peers.length, [...handoverByAnchors.get(r.peers.length) ?? [], r.totalMs])
    sources[r.lookupSource] = (sources[r.lookupSource] ?? 0) + 1
    await trimSession(d, mnId, maarAt(d, position), r.anchors.length)
    await new Promise(resolve => setTimeout(resolve, 50))
    idleEcho.push(await (echoes[position] as EchoStream).once())
    await new Promise(resolve => setTimeout(resolve, 50))
    idlePbu.push(await timedReRegister(idle))
    await new Promise(resolve => setTimeout(resolve, 50))
    idleVerify.push(probe.verifyOnce())
    await new Promise(resolve => setTimeout(resolve, 50))
    idleCommit.push(await probe.commitOnce())
  }
  await Promise.all(echoes.map(async e => { await e.close() }))
  const phases = { lookup: summarize(lookup), signalling: summarize(signalling), commits: summarize(commits), program: summarize(program) }
  const byCount = (m: Map<number, number[]>): Record<string, Summary> => Object.fromEntries([...m].sort(([a], [b]) => a - b).map(([n, ms]) => [String(n), summarize(ms)]))
  return { handover: summarize(handover), lookup: summarize(lookup), phases, sources, idleEcho: summarize(idleEcho), idlePbu: summarize(idlePbu), idleVerify: summarize(idleVerify), idleCommit: summarize(idleCommit), signallingByAnchors: byCount(byAnchors), handoverByAnchors: byCount(handoverByAnchors) }
}

const ECHO_PROTOCOL = '/dmm-bench/echo/1.0.0'

/** An open libp2p stream from `a` to `b` that echoes length-prefixed messages. */
interface EchoStream { once: () => Promise<number>, close: () => Promise<void> }

async function openEcho (a: LocalMaar, b: LocalMaar): Promise<EchoStream> {
  const lp = lpStream(await a.node.dialProtocol(b.node.peerId, ECHO_PROTOCOL))
  const request = new Uint8Array(200)
  return {
    once: async () => {
      const t = performance.now()
      await lp.write(request)
      await lp.read()
      return performance.now() - t
    },
    close: async () => { await lp.unwrap().close() }
  }
}

/** Every MAAR answers the echo protocol. */
async function handleEcho (d: Domain): Promise<void> {
  await Promise.all(d.mesh.maars.map(async m => {
    await m.node.handle(ECHO_PROTOCOL, async stream => {
      const lp = lpStream(stream)
      try {
        while (true) await lp.write(await lp.read())
      } catch { stream.abort(new Error('echo ended')) }
    })
  }))
}

/** One request and its answer on an open libp2p stream between two MAARs' nodes (an echo), back to back: the floor of any lookup. */
async function requestResponse (a: LocalMaar, b: LocalMaar): Promise<Summary> {
  const echo = await openEcho(a, b)
  const rtt: number[] = []
  for (let i = 0; i < rounds; i++) {
    const t = await echo.once()
    if (i > 0) rtt.push(t)
  }
  await echo.close()
  return summarize(rtt)
}

/** An MN anchored at the first MAAR and served by the second, for bare PBU/PBA round trips. */
async function bareMn (d: Domain): Promise<Mn> {
  const [anchor, serving] = d.mesh.maars as [LocalMaar, LocalMaar]
  const [mn] = await anchorMns(d.mesh, anchor, [serving], 1)
  if (mn === undefined) throw new Error('no MN anchored')
  return mn
}

/** One PBU and its PBA on the open PMIP stream, accepted (LevelDB commit included), in ms. */
async function timedReRegister (mn: Mn): Promise<number> {
  const t = performance.now()
  if (!(await reRegister(mn))) throw new Error('PBU refused')
  return performance.now() - t
}

/** PBU/PBA round trips back to back. */
async function pbuRoundTrip (mn: Mn): Promise<Summary> {
  const rtt: number[] = []
  for (let i = 0; i < rounds; i++) {
    const t = await timedReRegister(mn)
    if (i > 0) rtt.push(t)
  }
  return summarize(rtt)
}

async function readResults (name: string): Promise<{ date: string, figures: unknown } | undefined> {
  try {
    return JSON.parse(await readFile(join(RESULTS_DIR, `${name}.json`), 'utf8')) as { date: string, figures: unknown }
  } catch {
    return undefined
  }
}

/**
 * The memory per MAAR the scale benchmark found at the largest N, in MB: a number under a key
 * naming memory per MAAR (in bytes when the key says so), `memoryPerMaar…` (whole process RSS ÷
 * N) before any other figure of the same N.
 */
function memoryPerMaar (figures: unknown): { mb: number, at: string, n: number } | undefined {
  let best: { mb: number, at: string, n: number, whole: boolean } | undefined
  const walk = (v: unknown, path: string, n: number): void => {
    if (typeof v !== 'object' || v === null) return
    const o = v as Record<string, unknown>
    const size = typeof o.maars === 'number' ? o.maars : typeof o.n === 'number' ? o.n : n
    for (const [k, x] of Object.entries(o)) {
      if (typeof x === 'number' && /per.?maar/i.test(k) && /(mib|mb|memory|rss|heap)/i.test(k)) {
        const whole = /^memoryPerMaar/i.test(k)
        if (best === undefined || size > best.n || (size === best.n && whole && !best.whole)) {
          best = { mb: Math.round((/bytes$/i.test(k) ? x / 1e6 : x) * 100) / 100, at: `${path}${k} (N=${size})`, n: size, whole }
        }
      } else walk(x, `${path}${k}.`, size)
    }
  }
  walk(figures, '', 0)
  return best === undefined ? undefined : { mb: best.mb, at: best.at, n: best.n }
}

/** The least the goal's value can be under this design on this machine (floors.ts). */
interface Floor { ms?: number, ratio: number, ratioAfterQuiet?: number, made: string }
interface Goal { goal: string, target: string, measured: string, value: number | null, met: boolean | null, source: string, floor?: Floor, phases?: Record<string, Summary>, signallingByAnchors?: Record<string, Summary>, handoverByAnchors?: Record<string, Summary> }

const dir = await mkdtemp(join(tmpdir(), 'dmm-bench-goals-'))
const goals: Goal[] = []
/** One Ed25519 check and one signature, back to back, ms: the CPU floor of a handover. */
let crypto: { verify: number, sign: number } | undefined
try {
  progress(`goals: ${maarCount} MAARs (DHT mode) ...`)
  const mesh = await createLocalMesh({ count: maarCount, dataDir: dir })
  const d: Domain = { mode: 'dht', mesh, dir }
  try {
    await warmUp(d)
    await handleEcho(d)
    const bare = await bareMn(d)
    const probe = await FloorProbe.open(dir)
    const { handover, lookup, phases, sources, idleEcho, idlePbu, idleVerify, idleCommit, signallingByAnchors, handoverByAnchors } = await trace(d, bare, probe)
    progress(`  handover ${handover.median} ms, lookup ${lookup.median} ms (answered by ${JSON.stringify(sources)})`)
    progress(`  handover phases p50: ${Object.entries(phases).map(([name, s]) => `${name} ${s.median} ms`).join(', ')}`)
    progress(`  PBU/PBA p50 by P-MAARs asked: ${Object.entries(signallingByAnchors).map(([n, s]) => `${n}: ${s.median} ms (${s.n} moves)`).join(', ')}`)
    progress(`  handover p50 by P-MAARs asked: ${Object.entries(handoverByAnchors).map(([n, s]) => `${n}: ${s.median} ms (${s.n} moves)`).join(', ')}`)
    const pbu = await pbuRoundTrip(bare)
    const echo = await requestResponse(maarAt(d, 2), maarAt(d, 1))
    const handoverRatio = handover.median / pbu.median
    const lookupRatio = lookup.median / echo.median
    progress(`  PBU/PBA p50 ${pbu.median} ms back to back, ${idlePbu.median} ms one at a time after 50 ms of quiet like each handover (handover ÷ that ${round(handover.median / idlePbu.median)})`)
    progress(`  echo p50 ${echo.median} ms back to back, ${idleEcho.median} ms one at a time after 50 ms of quiet like each lookup (lookup ÷ that ${round(lookup.median / idleEcho.median)})`)
    const verify = summarize(Array.from({ length: rounds }, () => probe.verifyOnce()))
    const signature = summarize(Array.from({ length: rounds }, () => probe.signOnce()))
    const commit: number[] = []
    for (let i = 0; i < rounds; i++) commit.push(await probe.commitOnce())
    const commitSummary = summarize(commit)
    await probe.close()
    crypto = { verify: verify.median, sign: signature.median }
    progress(`  steps no handover skips: Ed25519 check p50 ${verify.median} ms back to back, ${idleVerify.median} ms after quiet; synced commit of the intent ${commitSummary.median} ms, ${idleCommit.median} ms after quiet`)
    // The least a lookup is under this design: one member's answer and the check of its record.
    const lookupFloor = floor(echo.median + verify.median, idleEcho.median + idleVerify.median, echo.median, idleEcho.median,
      'one GET answered (the echo) + the record\'s Ed25519 check')
    // The least a handover is: that lookup, the intent made durable, one PBU/PBA.
    const handoverFloor = floor(echo.median + verify.median + commitSummary.median + pbu.median, idleEcho.median + idleVerify.median + idleCommit.median + idlePbu.median, pbu.median, idlePbu.median,
      'one GET answered + the record\'s check + the synced intent commit + one PBU/PBA')
    const same = `this run, ${maarCount} MAARs, ${moves} moves (lookups answered by ${JSON.stringify(sources)}), ${rounds} round trips`
    goals.push({ goal: 'handover p50 ÷ bare PBU/PBA round trip on an open stream', target: '≤ 3', measured: `${handover.median.toFixed(2)} ms ÷ ${pbu.median.toFixed(2)} ms (PBU/PBA after 50 ms of quiet, as each handover: ${idlePbu.median.toFixed(2)} ms, ratio ${round(handover.median / idlePbu.median)})`, value: round(handoverRatio), met: handoverRatio <= 3, source: same, floor: handoverFloor, phases, signallingByAnchors, handoverByAnchors })
    goals.push({ goal: 'lookup p50 ÷ one request/response on an open stream', target: '≤ 2', measured: `${lookup.median.toFixed(2)} ms ÷ ${echo.median.toFixed(2)} ms (echo after 50 ms of quiet, as each lookup: ${idleEcho.median.toFixed(2)} ms, ratio ${round(lookup.median / idleEcho.median)})`, value: round(lookupRatio), met: lookupRatio <= 2, source: same, floor: lookupFloor })
  } finally {
    await mesh.stop().catch(() => {})
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}

function round (v: number): number { return Math.round(v * 100) / 100 }

/** A floor in ms and as the goal's ratio, back to back and after the same quiet as the numerator. */
function floor (ms: number, msAfterQuiet: number, denominator: number, denominatorAfterQuiet: number, made: string): Floor {
  return { ms: round(ms), ratio: round(ms / denominator), ratioAfterQuiet: round(msAfterQuiet / denominatorAfterQuiet), made }
}

const throughput = await readResults('throughput')
const modes = (throughput?.figures ?? []) as Array<{ mode: string, maars: number, load: Load[], p99DoublesAt?: { rate: number, reached: boolean } }>
const dht = modes.find(m => m.mode === 'dht')
const cpu = dht?.load.reduce<Load | undefined>((best, l) => l.handovers > 0 && (best === undefined || l.cpuMsPerHandover < best.cpuMsPerHandover) ? l : best, undefined)
goals.push(cpu === undefined
  ? { goal: 'CPU per handover (whole process, all MAARs)', target: '≤ 0.5 ms', measured: 'run the throughput bench', value: null, met: null, source: 'throughput.json' }
  : { goal: 'CPU per handover (whole process, all MAARs)', target: '≤ 0.5 ms', measured: `${cpu.cpuMsPerHandover} ms (DHT, ${dht?.maars ?? '?'} MAARs, K=${cpu.inflight})`, value: cpu.cpuMsPerHandover, met: cpu.cpuMsPerHandover <= 0.5, source: `throughput.json ${throughput?.date ?? ''}`, ...(crypto === undefined ? {} : { floor: cpuFloor(crypto) }) })

/**
 * The signatures no handover skips: the new record signed once, and checked by each of the
 * three members it is PUT to (they answer lookups with it) and by the next serving MAAR's lookup.
 */
function cpuFloor (c: { verify: number, sign: number }): Floor {
  const checks = 3 + 1
  return { ratio: round(c.sign + checks * c.verify), made: `1 Ed25519 signature (${c.sign} ms) + ${checks} checks (${c.verify} ms each), nothing else counted` }
}

const anchorRate = await readResults('anchor-rate')
const rate = (anchorRate?.figures as { pbuPbaPerSecond?: number, clients?: number, window?: number, anchorCpuMsPerPbu?: number, anchorCapacityPerCpuSecond?: number } | undefined)
// Beside the rate on this machine's shared cores: what the anchor's own CPU per PBU/PBA allows on one core of its own.
const perCore = rate?.anchorCapacityPerCpuSecond === undefined ? '' : `; anchor CPU ${rate.anchorCpuMsPerPbu ?? '?'} ms per PBU/PBA = ${rate.anchorCapacityPerCpuSecond}/s per core of its own`
goals.push(rate?.pbuPbaPerSecond === undefined
  ? { goal: 'PBU/PBA per second by one anchor (certificates, LevelDB commit included)', target: '≥ 20,000', measured: 'run the anchor-rate bench', value: null, met: null, source: 'anchor-rate.json' }
  : { goal: 'PBU/PBA per second by one anchor (certificates, LevelDB commit included)', target: '≥ 20,000', measured: `${rate.pbuPbaPerSecond}/s (${rate.clients ?? '?'} serving MAARs × ${rate.window ?? '?'} in flight${perCore})`, value: rate.pbuPbaPerSecond, met: rate.pbuPbaPerSecond >= 20_000, source: `anchor-rate.json ${anchorRate?.date ?? ''}` })

const scale = await readResults('scale')
const memory = scale === undefined ? undefined : memoryPerMaar(scale.figures)
goals.push(memory === undefined
  ? { goal: 'memory per MAAR in the scale engine at 1,000 MAARs', target: '≤ 5 MB', measured: scale === undefined ? 'run the scale bench' : 'scale.json names no memory per MAAR', value: null, met: null, source: 'scale.json' }
  // Met or not only when measured at 1,000 MAARs or more.
  : { goal: 'memory per MAAR in the scale engine at 1,000 MAARs', target: '≤ 5 MB', measured: `${memory.mb} MB at ${memory.n} MAARs${memory.n < 1000 ? ' (not yet at 1,000)' : ''} (${memory.at})`, value: memory.mb, met: memory.n >= 1000 ? memory.mb <= 5 : null, source: `scale.json ${scale?.date ?? ''}` })

goals.push(await dhtOverCmd())

/**
 * The capacity benchmark's ratio when it has been run (every node its own process with an equal
 * CPU quota, as deployed), else the throughput benchmark's (every node in one process, sharing
 * its cores: the CMD's central position costs nothing there).
 */
async function dhtOverCmd (): Promise<Goal> {
  const goal = 'handover rate at which p99 doubles, DHT ÷ CMD'
  const capacity = await readResults('capacity')
  const c = capacity?.figures as { maars: number, quotaCores: number, modes: Array<{ mode: string, p99DoublesAt?: { rate: number, reached: boolean } }>, dhtOverCmd?: number, bestCmd?: string } | undefined
  if (c?.dhtOverCmd !== undefined) {
    const each = c.modes.map(m => `${m.mode} ${showDoublingRate(m.p99DoublesAt)}`).join(', ')
    return { goal, target: '≥ 5', measured: `${each} (${c.maars} MAARs, each node its own process at ${c.quotaCores} of a core)`, value: c.dhtOverCmd, met: c.dhtOverCmd >= 5, source: `capacity.json ${capacity?.date ?? ''}` }
  }
  const cmd = modes.filter(m => m.mode !== 'dht' && m.p99DoublesAt !== undefined)
  const bestCmd = cmd.reduce<typeof cmd[number] | undefined>((best, m) => best === undefined || (m.p99DoublesAt?.rate ?? 0) > (best.p99DoublesAt?.rate ?? 0) ? m : best, undefined)
  if (dht?.p99DoublesAt === undefined || bestCmd?.p99DoublesAt === undefined) return { goal, target: '≥ 5', measured: 'run the capacity bench (or throughput: DHT and a CMD mode)', value: null, met: null, source: 'capacity.json / throughput.json' }
  return {
    goal,
    target: '≥ 5',
    measured: `DHT ${showDoublingRate(dht.p99DoublesAt)} ÷ ${bestCmd.mode} ${showDoublingRate(bestCmd.p99DoublesAt)} (${cmd.map(m => `${m.mode} ${showDoublingRate(m.p99DoublesAt)}`).join(', ')}; one process, shared cores)`,
    value: round(dht.p99DoublesAt.rate / bestCmd.p99DoublesAt.rate),
    met: dht.p99DoublesAt.rate / bestCmd.p99DoublesAt.rate >= 5,
    source: `throughput.json ${throughput?.date ?? ''}`
  }
}

const row = (cells: string[]): string => `| ${cells.join(' | ')} |\n`
process.stdout.write('\nPerformance goals (issue 13):\n\n')
process.stdout.write(row(['goal', 'target', 'measured', 'ratio / value', 'met', 'floor of this design here']))
process.stdout.write(row(['---', '---', '---', '---', '---', '---']))
for (const g of goals) process.stdout.write(row([g.goal, g.target, g.measured, g.value === null ? '-' : String(g.value), g.met === null ? '-' : g.met ? 'yes' : 'no', showFloor(g.floor)]))
const file = await writeResults('goals', goals)

function showFloor (f: Floor | undefined): string {
  if (f === undefined) return '-'
  const quiet = f.ratioAfterQuiet === undefined ? '' : ` (after quiet ${f.ratioAfterQuiet})`
  return `${f.ratio}${quiet}: ${f.made}${f.ms === undefined ? '' : `, ${f.ms} ms`}`
}
process.stdout.write(`\nresults written to ${file}\n`)
process.exit(0)
