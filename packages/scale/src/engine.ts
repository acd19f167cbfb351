/**
 * The scale engine: N MAARs (their discovery half, slice.ts) in one or several processes on this
 * machine, for the scale benchmark (bench/scale.ts) and for scenario runs too large for
 * createLocalMesh. The protocol code is the deployed one; what differs from a deployment is said
 * in README "Benchmarks" (scale).
 *
 * MAAR i (0-based) is maarPlan(i + 1): pool 2001:db8:<i+1>::/48, tunnel address
 * 2001:db8:ffff::<i+1>, a certificate of the engine's operator key. MAARs start in batches; each
 * dials `links` MAARs started before it (picked with a fixed pseudo-random sequence), and
 * kad-dht's walks toward its own id fill its routing table from there.
 */
import { performance } from 'node:perf_hooks'
import { generateKeyPair, privateKeyToProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { issueCertificate } from '@dmm-mesh/discovery'
import { maarPlan } from '@dmm-mesh/maar'
import { QUIET_MAINTENANCE, SCALE_MAX_CONNECTIONS } from './options.js'
import { bufferPoolSizeOf } from './buffer-pool.js'
import type { ScaleOptions } from './options.js'
import { localSlice, workerSlice } from './slice-handle.js'
import type { SliceHandle } from './slice-handle.js'
import type { LookupSample, ScaleIdentity, SliceInit, SliceMemory } from './slice.js'

/** A fixed pseudo-random sequence, so that runs are comparable. */
export function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 }
}

/** The address to dial a MAAR at: its memory address from its own process, else a TCP one. */
function reachableAddress (addrs: string[], sameProcess: boolean): string {
  return addrs.find(a => a.startsWith('/memory/') === sameProcess) ?? addrs[0] ?? ''
}

export class ScaleEngine {
  private readonly sequences = new Map<string, number>()
  private readonly alive = new Set<number>()

  private constructor (
    readonly count: number,
    /** Wall time from the first MAAR's start to the last one's. */
    readonly startupMs: number,
    readonly workers: number,
    private readonly slices: SliceHandle[],
    private readonly sliceOf: (index: number) => number,
    readonly identities: ScaleIdentity[],
    /** Each MAAR's listening multiaddrs (memory and/or TCP), by index. */
    readonly addresses: string[][],
    /** The domain operator's public key (base64 protobuf), which every MAAR's certificate is signed with. */
    readonly operatorPublicKey: string
  ) {
    for (let i = 0; i < count; i++) this.alive.add(i)
  }

  static async start (opts: ScaleOptions): Promise<ScaleEngine> {
    const { count } = opts
    const workers = opts.workers ?? 1
    if (!Number.isInteger(count) || count < 1 || count > 0xfffe) throw new RangeError(`count must be 1..65534, got ${count}`)
    if (!Number.isInteger(workers) || workers < 1 || workers > count) throw new RangeError(`workers must be 1..count, got ${workers}`)
    const transport = opts.transport ?? (workers === 1 ? 'memory' : 'memory+tcp')
    // libp2p's memory transport reaches nodes of the same process only.
    if (transport === 'memory' && workers > 1) throw new RangeError('the memory transport needs workers: 1 (MAARs in other processes cannot be reached over it)')
    const bufferPoolSize = bufferPoolSizeOf(opts.bufferPoolSize)
    const workerFlags = opts.workerFlags ?? []
    const badFlag = workerFlags.find(f => !f.startsWith('--'))
    if (badFlag !== undefined) throw new RangeError(`workerFlags: '${badFlag}' is not a node flag (must start with --)`)
    const domain = opts.domain ?? 'scale.example'
    const operator = await generateKeyPair('Ed25519')
    const init: SliceInit = {
      domain,
      operatorPublicKey: Buffer.from(publicKeyToProtobuf(operator.publicKey)).toString('base64'),
      transport,
      ...(opts.maintenance !== 'default' ? { maintenance: QUIET_MAINTENANCE, tableRefresh: false, connectionMonitor: false } : {}),
      proofTimeoutMs: opts.proofTimeoutMs ?? 60_000,
      ...(opts.alpha !== undefined ? { alpha: opts.alpha } : {}),
      ...(opts.disjointPaths !== undefined ? { disjointPaths: opts.disjointPaths } : {}),
      ...(opts.walkTimeoutMs !== undefined ? { walkTimeoutMs: opts.walkTimeoutMs } : {}),
      encryption: opts.encryption ?? 'plaintext',
      maxConnections: opts.maxConnections ?? SCALE_MAX_CONNECTIONS,
      ...(opts.libp2pLogs === true ? { libp2pLogs: true } : {}),
      bufferPoolSize
    }
    const identities: ScaleIdentity[] = []
    for (let i = 0; i < count; i++) {
      const key = await generateKeyPair('Ed25519')
      const peerId = peerIdFromPrivateKey(key).toString()
      const plan = maarPlan(i + 1)
      const certificate = await issueCertificate(operator, { domain, peerId, pools: [plan.pool], addresses: [plan.address], notAfter: Date.now() + 365 * 86400_000 })
      identities.push({ index: i, key: privateKeyToProtobuf(key), certificate, peerId, pool: plan.pool, address: plan.address })
    }
    const slices = Array.from({ length: workers }, () => workers === 1 ? localSlice(init) : workerSlice(init, workerFlags))
    // Round robin: MAARs start in index order, so every process takes its share of each batch.
    const sliceOf = (i: number): number => i % workers
    const addresses: string[][] = []
    const random = rng(count)
    const links = opts.links ?? 4
    const batch = 4 * workers
    const t0 = performance.now()
    try {
      // MAAR 0 alone first, so that every later one has someone to dial.
      for (let first = 0; first < count; first += first === 0 ? 1 : batch) {
        const started = addresses.length
        const indices = identities.slice(first, first === 0 ? 1 : first + batch)
        const got = await Promise.all(indices.map(async id => {
          const bootstrap = new Set<string>()
          for (let k = 0; k < Math.min(links, started); k++) {
            const peer = Math.floor(random() * started)
            bootstrap.add(reachableAddress(addresses[peer] ?? [], sliceOf(peer) === sliceOf(id.index)))
          }
          return await (slices[sliceOf(id.index)] as SliceHandle).start(id, [...bootstrap].filter(a => a !== ''))
        }))
        addresses.push(...got)
        if (Math.floor(addresses.length / 100) > Math.floor(started / 100)) opts.log?.(`started ${addresses.length}/${count} MAARs in ${Math.round(performance.now() - t0)} ms`)
      }
    } catch (err) {
      await Promise.allSettled(slices.map(async s => { await s.stop() }))
      throw err
    }
    return new ScaleEngine(count, performance.now() - t0, workers, slices, sliceOf, identities, addresses, init.operatorPublicKey)
  }

  /** The MN attaches at MAAR `index`: it publishes the MN's next session record. */
  async attach (mnId: string, index: number): Promise<void> {
    const sequence = (this.sequences.get(mnId) ?? 0) + 1
    this.sequences.set(mnId, sequence)
    await this.slice(index).attach(mnId, index, sequence)
  }

  /** MAAR `index` looks the MN up, as at the start of a handover. */
  async lookup (mnId: string, index: number): Promise<LookupSample> {
    return await this.slice(index).lookup(mnId, index)
  }

  /** The MAAR the MN was last attached at through this engine, with the record's sequence. */
  lastAttach (mnId: string): number | undefined {
    return this.sequences.get(mnId)
  }

  /** MAARs still running, by index. */
  running (): number[] {
    return [...this.alive].sort((a, b) => a - b)
  }

  /** Stops these MAARs at once (all slices in parallel). */
  async kill (indices: number[]): Promise<void> {
    for (const i of indices) this.alive.delete(i)
    await Promise.all(this.slices.map(async (s, w) => { await s.kill(indices.filter(i => this.sliceOf(i) === w)) }))
  }

  /** Waits until every background kad-dht put has ended. */
  async settled (): Promise<void> {
    await Promise.all(this.slices.map(async s => { await s.settled() }))
  }

  async memory (): Promise<SliceMemory[]> {
    return await Promise.all(this.slices.map(async s => await s.memory()))
  }

  async counters (): Promise<{ walks: number, republished: number, opened: number, tableSizes: number[], connections: number[], logged: Record<string, number> }> {
    const all = await Promise.all(this.slices.map(async s => await s.counters()))
    const logged: Record<string, number> = {}
    for (const c of all) for (const [k, n] of Object.entries(c.logged)) logged[k] = (logged[k] ?? 0) + n
    return {
      logged,
      walks: all.reduce((n, c) => n + c.walks, 0),
      republished: all.reduce((n, c) => n + c.republished, 0),
      opened: all.reduce((n, c) => n + c.opened, 0),
      tableSizes: all.flatMap(c => c.tableSizes),
      connections: all.flatMap(c => c.connections)
    }
  }

  async stop (): Promise<void> {
    await Promise.allSettled(this.slices.map(async s => { await s.stop() }))
  }

  private slice (index: number): SliceHandle {
    if (!this.alive.has(index)) throw new RangeError(`MAAR ${index} is not running`)
    return this.slices[this.sliceOf(index)] as SliceHandle
  }
}
