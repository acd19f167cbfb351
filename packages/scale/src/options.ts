/**
 * How the scale engine runs its MAARs (README "Benchmarks", scale): the transport between MAARs
 * hosted in one process, the number of processes, and how much background work kad-dht does.
 */
import type { MeshNodeInit } from '@dmm-mesh/discovery'

export type KadDHTMaintenance = NonNullable<MeshNodeInit['dhtMaintenance']>

/**
 * kad-dht's own maintenance, turned down for many nodes on few cores: a node walks toward its own
 * id every 10 min instead of every 5 (after a first walk 5 s after start instead of 1 s, by which
 * time its bootstrap peers answer), and pings one old or new contact at a time instead of many.
 * Lookups and puts walk as before.
 */
export const QUIET_MAINTENANCE: KadDHTMaintenance = {
  querySelfInterval: 600_000,
  initialQuerySelfInterval: 5000,
  pingOldContactConcurrency: 1,
  pingNewContactConcurrency: 1
}

/**
 * Node's Buffer pool slab in the worker processes (default 8 KiB; Node 24's own is 64 KiB).
 * Node carves every small Buffer.allocUnsafe out of one shared slab, and libp2p keeps some of
 * them for long (a peer id's digest or a multiaddr decoded from a kad-dht answer is a view into
 * the message's bytes): one such view pins the whole slab. A heap snapshot of 250 MAARs in one
 * process held 3,084 pinned 64 KiB slabs, 202 MB (README "Scale").
 */
export const WORKER_BUFFER_POOL_SIZE = 8192

/**
 * Node/V8 flags that keep a worker's heap small, measured and not the default (README "Scale"):
 * V8's optimize-for-size mode and 8 MB semi-spaces cut RSS per MAAR from 8.1 to 3.2 MB (100 MAARs
 * in one process, `bench/dist/scale-memory.js`), at 3.5 times the CPU (124 s against 35 s for the
 * same run); at 300 MAARs the shared machine then ran its kad-dht puts and walks out of time.
 * `workerFlags: LEAN_WORKER_FLAGS` asks for them.
 */
export const LEAN_WORKER_FLAGS: readonly string[] = ['--optimize-for-size', '--max-semi-space-size=8']

/**
 * libp2p's connection cap of a node in the scale engine (libp2p's own is 300): at 1,000 MAARs the
 * early MAARs, everyone's bootstrap peers, and a CMD every MAAR keeps a connection to, go above it.
 */
export const SCALE_MAX_CONNECTIONS = 2000

export interface ScaleOptions {
  /** MAARs to run (maar1 … maarN). */
  count: number
  /** Processes hosting them (default 1). With more than one, MAARs talk over TCP on loopback. */
  workers?: number
  /**
   * 'memory' (one worker only), 'tcp', or 'memory+tcp': the memory transport between MAARs of one
   * process and TCP between processes (default: 'memory' with one worker, else 'memory+tcp').
   */
  transport?: 'tcp' | 'memory' | 'memory+tcp'
  /**
   * kad-dht maintenance: 'quiet' (QUIET_MAINTENANCE, no routing-table refresh walks, no libp2p
   * connection monitor pings; default) or 'default' (kad-dht's and libp2p's own).
   */
  maintenance?: 'quiet' | 'default'
  /** Earlier MAARs each new one dials at start (default 4); kad-dht's self walks find the rest. */
  links?: number
  /**
   * How long a new peer has to prove domain membership (default 60 s, MeshNodeInit's is 10 s):
   * a core shared by hundreds of MAARs answers slowly, and an honest member refused for being
   * slow is shut out for 30 s and dialled again, which loads the core further.
   */
  proofTimeoutMs?: number
  /** kad-dht query concurrency per path (default: kad-dht's, 10). */
  alpha?: number
  /**
   * Disjoint paths of every kad-dht walk (the put after a publication, the walk toward a key,
   * the self walk; default: kad-dht's, 20). kad-dht runs `alpha` queries on each path, so its
   * defaults keep up to 200 FIND_NODE in flight per walk, each to a peer it may have to dial.
   */
  disjointPaths?: number
  /**
   * Bound of a lookup's walk toward the key (default: SessionDirectory's, 5 s). A walk cut short
   * still yields the closest members it met, which the lookup asks (key-walk.ts, README "Scale").
   */
  walkTimeoutMs?: number
  /**
   * libp2p's connection cap per MAAR (default SCALE_MAX_CONNECTIONS, 2,000; libp2p's is 300). At 1,000 MAARs the
   * early MAARs, everyone's bootstrap peers, reach 300; a connection libp2p then closes to a
   * record holder would be a departure that puts the record again (replicas.ts): more walks, more
   * connections. A low cap does not keep views partial (README "Scale").
   */
  maxConnections?: number
  /**
   * 'noise' (what a deployment runs) or 'plaintext' (@libp2p/plaintext: no encryption, and the
   * remote's public key is taken on its word, not proven by a handshake signature). The
   * membership proof still runs on every connection. Default: 'plaintext', what measured best at
   * 300 MAARs (README "Scale"); a deployment runs noise.
   */
  encryption?: 'noise' | 'plaintext'
  /**
   * libp2p's own logger, which DEBUG=libp2p:* enables (default false: silentLogger, which logs
   * nothing and builds no logger per connection and stream; libp2p's own whenever DEBUG is set,
   * scaleLogger).
   */
  libp2pLogs?: boolean
  /**
   * Buffer.poolSize of the worker processes, in bytes (default WORKER_BUFFER_POOL_SIZE; 0: no
   * pooling). Process-wide, so it applies only with workers > 1: the engine leaves the process
   * it runs in as it is.
   */
  bufferPoolSize?: number
  /**
   * Node/V8 flags of the worker processes, after the engine process's own (default none; e.g.
   * LEAN_WORKER_FLAGS). Each must start with '--'.
   */
  workerFlags?: readonly string[]
  domain?: string
  /** Progress lines (start-up). */
  log?: (line: string) => void
}
