/**
 * The MAARs one process hosts in the scale engine (engine.ts): for each, the discovery half of a
 * MAAR exactly as startMaar builds it (createMeshNode: noise, yamux, identify, the membership
 * gate, kad-dht on the private protocol; a SessionDirectory on top), without its binding cache,
 * data plane and PMIPv6 signalling. "Attaching" an MN at MAAR i is what MAAR i does at the end of
 * a handover (doc/ARCHITECTURE.md "A handover", step 7): it publishes a session record naming
 * itself as serving MAAR and anchor; a lookup at MAAR j is step 3 of the next handover.
 */
import { performance } from 'node:perf_hooks'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { plaintext } from '@libp2p/plaintext'
import { LookupIncompleteError, SessionDirectory, TrustStore, createMeshNode } from '@dmm-mesh/discovery'
import type { WalkOutcome } from '@dmm-mesh/discovery'
import type { KadDHTMaintenance } from './options.js'
import { scaleLogger } from './silent-logger.js'
import type { Libp2p } from '@libp2p/interface'

/** A MAAR's identity, as the engine hands it to the process hosting the MAAR. */
export interface ScaleIdentity {
  index: number
  /** Protobuf of its Ed25519 key. */
  key: Uint8Array
  certificate: Uint8Array
  peerId: string
  pool: string
  address: string
}

export interface SliceInit {
  domain: string
  /** Operator public key, base64 protobuf. */
  operatorPublicKey: string
  transport: 'tcp' | 'memory' | 'memory+tcp'
  maintenance?: KadDHTMaintenance
  /** kad-dht's routing-table refresh walks and libp2p's connection monitor (default on, as deployed; quiet turns them off). */
  tableRefresh?: boolean
  connectionMonitor?: boolean
  alpha?: number
  disjointPaths?: number
  maxConnections?: number
  encryption?: 'noise' | 'plaintext'
  /** How long a new peer has to prove membership (MeshNodeInit.proofTimeoutMs). */
  proofTimeoutMs?: number
  /** Bound of a lookup's walk toward the key (ScaleOptions.walkTimeoutMs). */
  walkTimeoutMs?: number
  /** Per-member bound of a lookup GET (default 2 s: a loaded 2-core machine dials slowly). */
  requestTimeoutMs?: number
  /**
   * Per-member bound of a publication's direct PUT, dial included (default 20 s; a deployment's
   * is 5 s): under load a first PUT waits for a new connection's handshake, identify and
   * membership proof, and when every PUT of a publication times out it fails ("no peer accepted
   * the record"), which the engine test saw in its set-up on a loaded machine.
   */
  publishTimeoutMs?: number
  /** libp2p's own logger (DEBUG) instead of silentLogger (ScaleOptions.libp2pLogs). */
  libp2pLogs?: boolean
  /** Buffer.poolSize of the worker process hosting the slice (worker.ts sets it; ScaleOptions.bufferPoolSize). */
  bufferPoolSize?: number
}

/** What one lookup did (LookupResult, reduced to what a benchmark counts). */
export interface LookupSample {
  /** 'cache' | 'direct' (a member this MAAR knew) | 'walk' (after a walk toward the key) | 'fallback' (kad-dht get) | 'absent' | 'failed' */
  path: 'cache' | 'direct' | 'walk' | 'fallback' | 'absent' | 'failed'
  hops: number
  elapsedMs: number
  /** Signer of the record found: the MAAR the MN was last attached at. */
  signer?: string
  sequence?: number
  error?: string
  /** How the lookup's walk toward the key ended, when it walked (key-walk.ts). */
  walk?: WalkOutcome
}

export interface SliceMemory {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  baselineRss: number
  maars: number
  /** The hosting process's Buffer.poolSize and node flags, as it runs with them. */
  bufferPoolSize: number
  execArgv: string[]
}

const STOP_BOUND_MS = 10_000

/** Whether `p` settles within `ms` (a ref'd timer keeps the process alive meanwhile). */
async function settlesWithin (p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<false>(resolve => { timer = setTimeout(() => { resolve(false) }, ms) })
  try {
    return await Promise.race([p.then(() => true, () => true), bound])
  } finally {
    clearTimeout(timer)
  }
}

interface Hosted { node: Libp2p, directory: SessionDirectory, identity: ScaleIdentity }

export class ScaleSlice {
  private readonly hosted = new Map<number, Hosted>()
  private readonly trust: TrustStore
  private readonly baselineRss = process.memoryUsage().rss
  /** Nodes whose libp2p stop did not settle within STOP_BOUND_MS. */
  stopsAbandoned = 0
  /** Connections the hosted MAARs opened or accepted (both ends count: one link between two hosted MAARs counts 2). */
  private opened = 0
  /** Directory log lines by kind (peer ids and MN-IDs cut off), for the benchmark's report. */
  private readonly logged = new Map<string, number>()

  constructor (private readonly init: SliceInit) {
    this.trust = new TrustStore([{ domain: init.domain, operatorPublicKey: init.operatorPublicKey }])
  }

  /** Starts MAAR `identity.index`, dialling `bootstrap`; resolves to the addresses others may dial. */
  async start (identity: ScaleIdentity, bootstrap: string[]): Promise<string[]> {
    const privateKey = privateKeyFromProtobuf(identity.key)
    const memoryAddr = `/memory/maar${identity.index}-${process.pid}`
    const listen = this.init.transport === 'memory' ? [memoryAddr] : this.init.transport === 'tcp' ? ['/ip4/127.0.0.1/tcp/0'] : [memoryAddr, '/ip4/127.0.0.1/tcp/0']
    const node = await createMeshNode({
      privateKey,
      certificate: identity.certificate,
      listen,
      bootstrap,
      trust: this.trust,
      transport: this.init.transport,
      ...(this.init.maintenance !== undefined || this.init.disjointPaths !== undefined ? { dhtMaintenance: { ...this.init.maintenance, ...(this.init.disjointPaths !== undefined ? { disjointPaths: this.init.disjointPaths } : {}) } } : {}),
      ...(this.init.encryption === 'plaintext' ? { connectionEncrypter: plaintext() } : {}),
      ...scaleLogger(this.init.libp2pLogs),
      ...(this.init.maxConnections !== undefined ? { maxConnections: this.init.maxConnections } : {}),
      ...(this.init.alpha !== undefined ? { alpha: this.init.alpha } : {}),
      ...(this.init.tableRefresh !== undefined ? { dhtTableRefresh: this.init.tableRefresh } : {}),
      ...(this.init.connectionMonitor !== undefined ? { connectionMonitor: this.init.connectionMonitor } : {}),
      ...(this.init.proofTimeoutMs !== undefined ? { proofTimeoutMs: this.init.proofTimeoutMs } : {})
    })
    node.addEventListener('connection:open', () => { this.opened++ })
    const directory = new SessionDirectory(node, { privateKey, certificate: identity.certificate, trust: this.trust, requestTimeoutMs: this.init.requestTimeoutMs ?? 2000, publishTimeoutMs: this.init.publishTimeoutMs ?? 20_000, ...(this.init.walkTimeoutMs !== undefined ? { walkTimeoutMs: this.init.walkTimeoutMs } : {}), log: line => { this.count(line) } })
    await directory.start()
    this.hosted.set(identity.index, { node, directory, identity })
    return node.getMultiaddrs().map(a => a.toString())
  }

  /** MAAR `index` serves the MN now and anchors its prefix: it publishes the session record. */
  async attach (mnId: string, index: number, sequence: number): Promise<void> {
    const m = this.get(index)
    const hex = m.identity.pool.split('::')[0] ?? ''
    const ref = { peerId: m.identity.peerId, address: m.identity.address, multiaddrs: [] }
    await m.directory.publish({ mnId, sequence, issuedAt: Date.now(), serving: ref, anchors: [{ ...ref, prefix: `${hex}:1::/64`, lifetime: 3600 }] }, [])
  }

  async lookup (mnId: string, index: number): Promise<LookupSample> {
    const t0 = performance.now()
    try {
      const found = await this.get(index).directory.lookup(mnId)
      if (found === undefined) return { path: 'absent', hops: 1, elapsedMs: performance.now() - t0 }
      const path = found.source === 'dht' ? 'fallback' : found.source === 'cache' ? 'cache' : found.walked === true ? 'walk' : 'direct'
      return { path, hops: found.hops ?? 0, elapsedMs: found.elapsedMs, signer: found.signer, sequence: found.record.sequence, ...(found.walk !== undefined ? { walk: found.walk } : {}) }
    } catch (err) {
      const walk = err instanceof LookupIncompleteError ? err.walk : undefined
      return { path: 'failed', hops: 0, elapsedMs: performance.now() - t0, error: err instanceof Error ? err.message : String(err), ...(walk !== undefined ? { walk } : {}) }
    }
  }

  /** Waits for the background kad-dht puts of every hosted MAAR. */
  async settled (): Promise<void> {
    await Promise.all([...this.hosted.values()].map(async m => { await m.directory.settled() }))
  }

  /** Counters of the hosted MAARs: walks run, records put again after a holder left, routing table sizes. */
  counters (): { walks: number, republished: number, opened: number, tableSizes: number[], connections: number[], logged: Record<string, number> } {
    const all = [...this.hosted.values()]
    return {
      opened: this.opened,
      logged: { ...Object.fromEntries(this.logged), ...(this.stopsAbandoned > 0 ? { 'libp2p stop abandoned': this.stopsAbandoned } : {}) },
      walks: all.reduce((n, m) => n + m.directory.walker.walks, 0),
      republished: all.reduce((n, m) => n + m.directory.replicas.republished, 0),
      tableSizes: all.map(m => (m.node.services.dht as { routingTable?: { size: number } }).routingTable?.size ?? 0),
      connections: all.map(m => m.node.getConnections().length)
    }
  }

  /** Stops MAARs at once. Their connections close cleanly, so peers notice at once; a power cut would leave them to time out. */
  async kill (indices: number[]): Promise<void> {
    await Promise.all(indices.map(async i => {
      const m = this.hosted.get(i)
      if (m === undefined) return
      this.hosted.delete(i)
      await m.directory.stop()
      // libp2p's stop can wait forever on a memory-transport peer stopping at the same moment
      // (seen at 100 MAARs stopped at once): give up on it after a while, the node is closed by then.
      if (!await settlesWithin(Promise.resolve(m.node.stop()), STOP_BOUND_MS)) this.stopsAbandoned++
    }))
  }

  memory (): SliceMemory {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage()
    return { rss, heapUsed, heapTotal, external, baselineRss: this.baselineRss, maars: this.hosted.size, bufferPoolSize: Buffer.poolSize, execArgv: process.execArgv }
  }

  async stop (): Promise<void> {
    await this.kill([...this.hosted.keys()])
  }

  private count (line: string): void {
    // Peer ids, addresses and numbers masked, so that lines of one kind (with their reason) add up.
    const kind = line.replace(/12D3KooW\w+/g, '<peer>').replace(/\/(memory|ip4)\/\S+/g, '<addr>').replace(/\d+/g, '<n>').slice(0, 110)
    this.logged.set(kind, (this.logged.get(kind) ?? 0) + 1)
  }

  private get (index: number): Hosted {
    const m = this.hosted.get(index)
    if (m === undefined) throw new RangeError(`MAAR ${index} is not running in this process`)
    return m
  }
}
