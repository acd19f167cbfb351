/**
 * Complete MAARs on the scale engine's settings, for scenario runs too large for the deployed
 * settings (README "Scenarios", doc/ARCHITECTURE.md "Scenarios"). Each MAAR is what startMaar
 * builds for `dmm maar` (createLocalMesh is the same code): libp2p node, membership gate, kad-dht,
 * session directory, binding cache, PBU/PBA signalling (RFC 5213, RFC 8885), the in-memory data
 * plane. What differs from createLocalMesh's defaults is only how it is hosted:
 *
 * - libp2p's memory transport (noise, yamux and every protocol above unchanged; the bytes skip
 *   the kernel), so all MAARs live in this one process;
 * - the scale engine's quiet upkeep (options.ts QUIET_MAINTENANCE, no routing-table refresh, no
 *   connection monitor) and 60 s for a membership proof;
 * - the scale engine's memory savings, as its worker processes have them (README "Scale"): libp2p
 *   logs to silentLogger, and this process's Buffer pool slab is WORKER_BUFFER_POOL_SIZE while
 *   the mesh runs (put back at its stop);
 * - the binding cache on memory-level, an in-memory abstract-level store, instead of LevelDB on
 *   disk (no fsync per commit; kept across a MAAR's restart as the folder would be);
 * - each MAAR dials `links` earlier MAARs picked with the engine's fixed pseudo-random sequence
 *   (the self walk finds the rest), instead of all of them;
 * - it resolves once every MAAR's first kad-dht self walk has run (kad-dht holds every query of a
 *   node until then; QUIET_MAINTENANCE starts it 5 s after the node) and the connections those
 *   walks open have stopped growing: at 100 MAARs that takes ~15 s after the last start, during
 *   which the process is busy with handshakes (half a core, against 0.05 once settled), so a run
 *   that began earlier would time its first handovers against start-up, not against a domain that
 *   has been up for a while.
 *
 * The discovery-only ScaleEngine (engine.ts, for bench/scale.ts) is left as it is.
 */
import { MemoryLevel } from 'memory-level'
import { createLocalMesh } from '@dmm-mesh/maar'
import type { LocalMaar, LocalMesh, LocalMeshOptions, MaarHosting, MeshNodeTuning } from '@dmm-mesh/maar'
import type { Libp2p } from '@libp2p/interface'
import { rng } from './engine.js'
import { QUIET_MAINTENANCE } from './options.js'
import type { ScaleOptions } from './options.js'
import { bufferPoolSizeOf, useBufferPool } from './buffer-pool.js'
import { scaleLogger } from './silent-logger.js'

/** Bound on the warm-up (first self walks, connections settling): a guard against a hang, not a speed figure. */
const WARM_UP_GUARD_MS = 180_000

/** Bound on one MAAR's stop at the end: libp2p's stop can wait forever on a memory-transport peer stopping at the same moment (slice.ts). */
const STOP_BOUND_MS = 10_000

/** Connections are taken as settled when their count stayed the same this many times in a row, a second apart. */
const STEADY_CHECKS = 3

/** Resolves at the node's next kad-dht self walk (libp2p re-dispatches kad-dht's `kad-dht:query:self` on the node). */
function nextSelfWalk (node: Libp2p): Promise<void> {
  return new Promise(resolve => { node.addEventListener('kad-dht:query:self' as never, () => { resolve() }, { once: true }) })
}

export interface ScaleMeshOptions extends Omit<LocalMeshOptions, 'host' | 'dialPeers' | 'fullMesh' | 'started'>, Pick<ScaleOptions, 'libp2pLogs'> {
  /** Earlier MAARs each new one dials (default 4, as ScaleEngine). */
  links?: number
  /** 'quiet' (default) or 'default' (kad-dht's and libp2p's own upkeep), as ScaleOptions. */
  maintenance?: 'quiet' | 'default'
  /** How long a new peer has to prove domain membership (default 60 s, as ScaleOptions). */
  proofTimeoutMs?: number
  /**
   * Buffer.poolSize of this process while the mesh runs (default WORKER_BUFFER_POOL_SIZE, as the
   * engine's workers; 0: no pooling). Process-wide: the MAARs run here, in the caller's process.
   */
  bufferPoolSize?: number
}

/** The scale engine's libp2p settings for a MAAR hosted among hundreds in one process. */
export function scaleNodeTuning (opts: Pick<ScaleMeshOptions, 'maintenance' | 'proofTimeoutMs' | 'libp2pLogs'>): MeshNodeTuning {
  return {
    transport: 'memory',
    proofTimeoutMs: opts.proofTimeoutMs ?? 60_000,
    ...scaleLogger(opts.libp2pLogs),
    ...(opts.maintenance !== 'default' ? { dhtMaintenance: QUIET_MAINTENANCE, dhtTableRefresh: false, connectionMonitor: false } : {})
  }
}

/** Starts `count` complete MAARs in this process on the scale engine's settings. */
export async function startScaleMesh (opts: ScaleMeshOptions): Promise<LocalMesh> {
  const { links = 4, maintenance, proofTimeoutMs, libp2pLogs, bufferPoolSize, ...local } = opts
  const node = scaleNodeTuning({ maintenance, proofTimeoutMs, libp2pLogs })
  // Before any MAAR allocates.
  const restorePool = useBufferPool(bufferPoolSizeOf(bufferPoolSize))
  const caches = new Map<string, MemoryLevel<string, string>>()
  // One memory address space per process: names carry the pid, as in slice.ts.
  const tag = `${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`
  const host = (plan: { name: string }): MaarHosting => {
    let level = caches.get(plan.name)
    if (level === undefined) {
      level = new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' })
      caches.set(plan.name, level)
    }
    // A lookup GET bounded at 2 s per member, as the discovery-only slice: a shared core dials slowly.
    return { listen: `/memory/${plan.name}-${tag}`, node, cacheLevel: level, recordsInMemory: true, directory: { requestTimeoutMs: 2000 } }
  }
  const random = rng(opts.count)
  const dialPeers = (_index: number, running: LocalMaar[]): LocalMaar[] => {
    const chosen = new Set<LocalMaar>()
    for (let k = 0; k < Math.min(links, running.length); k++) chosen.add(running[Math.floor(random() * running.length)] as LocalMaar)
    return [...chosen]
  }
  const walked: Array<Promise<void>> = []
  const mesh = await createLocalMesh({ ...local, host, dialPeers, started: m => { walked.push(nextSelfWalk(m.node)) } }).catch(err => {
    restorePool()
    throw err
  })
  const deadline = Date.now() + WARM_UP_GUARD_MS
  let guard: NodeJS.Timeout | undefined
  await Promise.race([Promise.all(walked), new Promise(resolve => { guard = setTimeout(resolve, WARM_UP_GUARD_MS) })])
  clearTimeout(guard)
  const connections = (): number => mesh.maars.reduce((n, m) => n + m.node.getConnections().length, 0)
  for (let last = -1, same = 0; same < STEADY_CHECKS && Date.now() < deadline;) {
    await new Promise(resolve => setTimeout(resolve, 1000))
    const now = connections()
    same = now === last ? same + 1 : 0
    last = now
  }
  return {
    get maars () { return mesh.maars },
    network: mesh.network,
    trust: mesh.trust,
    operatorKey: mesh.operatorKey,
    stopMaar: async index => { await mesh.stopMaar(index) },
    restartMaar: async index => await mesh.restartMaar(index),
    async stop () {
      // All at once (one by one takes minutes at 200 MAARs), each bounded.
      await Promise.all(Array.from({ length: opts.count }, async (_, i) => {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([mesh.stopMaar(i).catch(() => {}), new Promise(resolve => { timer = setTimeout(resolve, STOP_BOUND_MS) })])
        clearTimeout(timer)
      }))
      await Promise.all([...caches.values()].map(async level => { await level.close() }))
      restorePool()
    }
  }
}
