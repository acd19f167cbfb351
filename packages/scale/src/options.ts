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
   * libp2p's connection cap per MAAR (default here 2,000; libp2p's is 300). At 1,000 MAARs the
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
  domain?: string
  /** Progress lines (start-up). */
  log?: (line: string) => void
}
