/**
 * PBU/PBA processed per second by one anchor (issue 13), everything it does for a PBU included:
 * the PBU read from an open PMIP stream of a certified peer (its certificate checked at the
 * stream's hello, doc/ARCHITECTURE.md "Trust"), the RFC 5213 §5.3 checks (timestamp, prefixes,
 * sender), the LevelDB commit (synced) and the data plane applied, the PBA written back. Beside
 * it, the floor: one PBU/PBA round trip at a time on an open stream.
 *
 * This process hosts the anchor MAAR alone (real libp2p on loopback, LevelDB, memory data plane);
 * `--mns` MNs attach at it. The serving side runs in a child process (anchor-load.ts): `--clients`
 * serving MAARs of the same domain, to which the MNs hand over (their first PBU), then that
 * re-register them (PBUs with fresh RFC 5213 §5.5 timestamps), `window` PBUs in flight per serving
 * MAAR for `--seconds`, for each window of `--windows`; only PBAs with status 0 (accepted) count.
 * The anchor's CPU per PBU is this process's (process.cpuUsage), its event-loop utilisation says
 * whether the anchor or the serving side was the bound.
 *
 *   npx tsc -b bench && npx node bench/dist/anchor-rate.js [--clients 3] [--mns 1000] [--windows 1,16,64,256] [--seconds 4]
 *   (BENCH_LOG=1: the anchor logs to stderr; DMM_DEBUG=1 adds its debug lines)
 */
import { fork } from 'node:child_process'
import { Session } from 'node:inspector/promises'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { generateKey } from '@dmm-mesh/discovery'
import { createLocalMesh, stderrSink } from '@dmm-mesh/maar'
import type { LocalMaar, LocalMesh } from '@dmm-mesh/maar'
import type { AnchorLoadMessage, AnchorLoadPlan } from './anchor-load.js'
import type { Summary } from './stats.js'
import { writeResults } from './stats.js'

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '3' },
    mns: { type: 'string', default: '1000' },
    windows: { type: 'string', default: '1,16,64,256' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '300' },
    /** A V8 CPU profile of the anchor's process during the windows only (set-up left out). */
    profile: { type: 'string' }
  }
})
const clients = Number(values.clients)
const mnCount = Number(values.mns)
const windows = values.windows.split(',').map(Number)
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
if (![clients, mnCount, rounds, ...windows].every(n => Number.isInteger(n) && n >= 1) || !(seconds > 0) || mnCount < clients) {
  process.stderr.write('usage: anchor-rate.js [--clients 3] [--mns 1000 (≥ clients)] [--windows 1,16,64,256] [--seconds 4] [--rounds 300]\n')
  process.exit(2)
}

function progress (line: string): void { process.stderr.write(`${line}\n`) }
const round3 = (v: number): number => Math.round(v * 1000) / 1000

interface WindowFigures { window: number, pbuPbaPerSecond: number, accepted: number, refused: number, anchorCpuMsPerPbu: number, anchorEventLoopUtilization: number, servingCpuMsPerPbu: number }

/** `count` MNs attached at the anchor (RFC 8885 §3.1: it delegates and anchors their prefixes). */
async function attachAtAnchor (mesh: LocalMesh, anchor: LocalMaar, count: number): Promise<Array<{ mnId: string, prefix: string }>> {
  const mns: Array<{ mnId: string, prefix: string }> = []
  for (let j = 0; j < count; j++) {
    const mnId = `anchor-rate-${j}@dmm.example`
    mesh.network.attachMn(mnId, anchor.address)
    const first = await anchor.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
    mns.push({ mnId, prefix: first.localPrefix })
  }
  await anchor.maar.settled()
  return mns
}

/** Profiles this process between start() and stop() (`--profile`), for bench/cpu-top.ts. */
function windowProfiler (file: string | undefined): { start: () => Promise<void>, stop: () => Promise<void> } {
  if (file === undefined) return { start: async () => {}, stop: async () => {} }
  const session = new Session()
  session.connect()
  return {
    start: async () => { await session.post('Profiler.enable'); await session.post('Profiler.start') },
    stop: async () => {
      const { profile } = await session.post('Profiler.stop')
      await writeFile(file, JSON.stringify(profile))
      progress(`anchor's CPU profile of the windows written to ${file}`)
    }
  }
}
const profiler = windowProfiler(values.profile)

/** Runs the serving side's plan; measures this process (the anchor) around each of its windows. */
async function drive (plan: AnchorLoadPlan): Promise<{ floor: Summary, windows: WindowFigures[] }> {
  const child = fork(fileURLToPath(new URL('./anchor-load.js', import.meta.url)), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const figures: WindowFigures[] = []
  let floor: Summary | undefined
  let mark = { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() }
  return await new Promise((resolve, reject) => {
    child.on('message', (raw: unknown) => {
      const m = raw as AnchorLoadMessage
      if (m.type === 'failed') reject(new Error(`serving side: ${m.error}`))
      else if (m.type === 'ready') {
        floor = m.floor
        progress(`floor measured; rate at ${windows.join(', ')} in flight per serving MAAR, ${seconds} s each ...`)
      } else if (m.type === 'begin') {
        void (figures.length === 0 ? profiler.start() : Promise.resolve()).then(() => {
          mark = { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() }
          child.send('go')
        })
      } else {
        const cpu = process.cpuUsage(mark.cpu)
        const elu = performance.eventLoopUtilization(mark.elu)
        const per = (ms: number): number => round3(ms / Math.max(1, m.accepted))
        figures.push({
          window: m.window,
          pbuPbaPerSecond: Math.round(m.accepted / m.wallSeconds),
          accepted: m.accepted,
          refused: m.refused,
          anchorCpuMsPerPbu: per((cpu.user + cpu.system) / 1000),
          anchorEventLoopUtilization: round3(elu.utilization),
          servingCpuMsPerPbu: per(m.servingCpuMs)
        })
        progress(`  window ${m.window}: ${figures.at(-1)?.pbuPbaPerSecond ?? 0}/s`)
      }
    })
    child.on('exit', code => {
      if (floor !== undefined && figures.length === plan.windows.length) resolve({ floor, windows: figures })
      else reject(new Error(`serving side exited (${String(code)}) after ${figures.length} of ${plan.windows.length} windows`))
    })
    child.send(plan)
  })
}

const dir = await mkdtemp(join(tmpdir(), 'dmm-bench-anchor-'))
let mesh: LocalMesh | undefined
try {
  progress(`starting the anchor; ${mnCount} MNs attach at it ...`)
  const operatorKey = await generateKey()
  mesh = await createLocalMesh({ count: 1, dataDir: dir, operatorKey, ...(process.env.BENCH_LOG !== undefined ? { log: stderrSink } : {}) })
  const anchor = mesh.maars[0] as LocalMaar
  const mns = await attachAtAnchor(mesh, anchor, mnCount)
  progress(`serving side: ${clients} MAARs in a child process; each MN hands over to one ...`)
  const { floor, windows: byWindow } = await drive({
    operatorKey: Buffer.from(privateKeyToProtobuf(operatorKey)).toString('base64'),
    anchor: { peerId: anchor.maar.peerId, multiaddrs: anchor.maar.multiaddrs() },
    mns,
    clients,
    windows,
    seconds,
    rounds
  })
  await profiler.stop()
  const best = byWindow.reduce((a, b) => b.pbuPbaPerSecond > a.pbuPbaPerSecond ? b : a)
  // Top level: the best window's figures (bench/goals.ts reads pbuPbaPerSecond, clients, window).
  const figures = { clients, mns: mnCount, seconds, pbuPbaRoundTripOpenStreamMs: floor, ...best, anchorCapacityPerCpuSecond: Math.round(1000 / best.anchorCpuMsPerPbu), byWindow }
  process.stdout.write(`\nbare PBU/PBA round trip on an open stream: median ${floor.median} ms, p95 ${floor.p95} ms (n=${floor.n})\n`)
  process.stdout.write(`one anchor (its own process), ${mnCount} MNs, ${clients} serving MAARs (another process):\n`)
  for (const w of byWindow) {
    process.stdout.write(`  ${String(w.window).padStart(3)} in flight each: ${w.pbuPbaPerSecond} PBU/PBA/s accepted (${w.refused} refused); anchor CPU ${w.anchorCpuMsPerPbu} ms per PBU, anchor event loop ${Math.round(w.anchorEventLoopUtilization * 100)} % busy; serving side CPU ${w.servingCpuMsPerPbu} ms per PBU\n`)
  }
  process.stdout.write(`best: ${best.pbuPbaPerSecond}/s at ${best.window} in flight; the anchor's CPU alone would allow ${figures.anchorCapacityPerCpuSecond} PBU/PBA per CPU-second\n`)
  const file = await writeResults('anchor-rate', figures)
  process.stdout.write(`results written to ${file}\n`)
} finally {
  await mesh?.stop().catch(() => {})
  await rm(dir, { recursive: true, force: true })
}
process.exit(0)
