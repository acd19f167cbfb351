/**
 * One MAAR's libp2p node for the private domain DHT (doc/ARCHITECTURE.md "Packages"): TCP +
 * noise + yamux + identify + kad-dht on a private protocol id, with the `/dmm` validator/selector
 * and the settings a LAN/loopback mesh needs: clientMode false (no public address is ever seen
 * here), passthroughMapper so private addresses enter routing tables, a raised inbound connection
 * threshold. The node also carries the SessionStore that the DHT validator and the
 * SessionDirectory share (service `sessions`), and the MembershipGate (service `membership`,
 * membership.ts) that keeps peers without a domain certificate out of the DHT and the records.
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { memory } from '@libp2p/memory'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { MemoryDatastore } from 'datastore-core'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { KadDHT, KadDHTComponents, KadDHTInit } from '@libp2p/kad-dht'
import type { ComponentLogger, ConnectionEncrypter, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type { TrustStore } from './domain.js'
import { SessionStore } from './record-store.js'
import { RecordJournal } from './record-journal.js'
import { dmmSelector, dmmValidator, keepForDht } from './dht-records.js'
import { RecordServer } from './record-protocol.js'
import { MembershipGate } from './membership.js'
import type { MembershipComponents } from './membership.js'
import type { RecordServerComponents } from './record-protocol.js'

export const DEFAULT_DHT_PROTOCOL = '/dmm/kad/1.0.0'
const DATASTORE_PREFIX = '/dht'

export interface MeshNodeInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/0 (or /memory/<name> with the memory transport) */
  listen: string[]
  /**
   * 'tcp' (default, what a deployment runs) or 'memory': libp2p's in-process transport, for the
   * scale engine that hosts hundreds of MAARs in one process (noise, yamux and every protocol above
   * stay the same; only the bytes skip the kernel). A memory node reaches nodes of its process only;
   * 'memory+tcp' listens on both, for a scale engine spread over several processes.
   */
  transport?: 'tcp' | 'memory' | 'memory+tcp'
  /**
   * kad-dht maintenance, for many nodes on few cores (packages/scale): how often a node re-walks
   * toward its own id, and how many old/new contacts it pings at once. Defaults: kad-dht's.
   */
  dhtMaintenance?: Pick<KadDHTInit, 'querySelfInterval' | 'initialQuerySelfInterval' | 'pingOldContactConcurrency' | 'pingNewContactConcurrency' | 'disjointPaths'>
  /**
   * kad-dht's routing-table refresh (a walk toward a random key of every bucket at start, then
   * every 5 min; default true). The scale engine turns it off: at hundreds of nodes on 2 cores
   * these walks dial most of the domain at start-up; the self walk and lookups fill tables instead.
   */
  dhtTableRefresh?: boolean
  /**
   * libp2p's connection monitor (a ping on every connection every 10 s, closing the dead ones;
   * default true). The scale engine turns it off: at hundreds of nodes per core these pings are
   * most of the idle CPU, and its MAARs leave by closing their connections.
   */
  connectionMonitor?: boolean
  /**
   * The connection encrypter (default noise, what a deployment runs). The scale engine may pass
   * @libp2p/plaintext instead (packages/scale, README "Scale"): hundreds of MAARs sharing two
   * cores spend a quarter of their CPU in noise. Membership proofs still run on every connection.
   */
  connectionEncrypter?: (components: { privateKey: PrivateKey, logger: ComponentLogger }) => ConnectionEncrypter
  /**
   * libp2p's logger (default libp2p's, enabled by DEBUG). The scale engine passes one that logs
   * nothing: libp2p's builds named loggers for every connection and stream (README "Scale").
   */
  logger?: ComponentLogger
  /**
   * libp2p's connection cap (default libp2p's, 300), beyond which it closes connections. The scale
   * engine raises it: at 1,000 MAARs the early-started ones, everyone's bootstrap peers, reached
   * 300, and each pruned connection to a record holder is a departure that puts records again.
   */
  maxConnections?: number
  /**
   * LevelDB folder for the session records this node holds (record-journal.ts), restored at
   * start. Without it they live in memory only (the scale engine, tests).
   */
  recordsDir?: string
  /** Multiaddrs with /p2p/<id> of peers to dial once started. */
  bootstrap?: string[]
  trust: TrustStore
  /**
   * This MAAR's domain certificate, presented to every peer. May come later instead, through
   * SessionDirectory.start(); peers wait `proofTimeoutMs` for it before refusing this node.
   */
  certificate?: Uint8Array
  /** How long a new peer has to prove domain membership (default 10 s). */
  proofTimeoutMs?: number
  /** How long a peer that failed to prove membership is kept out (default 30 s). */
  refuseForMs?: number
  dhtProtocol?: string
  kBucketSize?: number
  /** Parallel RPCs per DHT query (kad-dht default 10; smaller cuts RPCs on a small mesh). */
  alpha?: number
  /**
   * A bootstrap peer that cannot be dialled at start (it may start later) is tried again every
   * `bootstrapRetryMs` (default 1000) up to `bootstrapRetries` times (default 120), in the background.
   */
  bootstrapRetryMs?: number
  bootstrapRetries?: number
  log?: (line: string) => void
}

export interface MeshServices {
  dht: KadDHT
  sessions: SessionStore
  records: RecordServer
  membership: MembershipGate
}

export async function createMeshNode (init: MeshNodeInit): Promise<Libp2p> {
  const datastore = new MemoryDatastore()
  const journal = init.recordsDir === undefined
    ? undefined
    : await RecordJournal.open(init.recordsDir).catch(err => { throw new Error(`session records ${init.recordsDir ?? ''}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }) })
  if (journal?.setAside !== undefined) init.log?.(`session records folder ${journal.dir} could not be opened (${journal.setAside.why}): set aside as ${journal.setAside.path}, starting with none (their publishers put them again)`)
  const sessions = new SessionStore(init.trust, undefined, journal)
  if (journal !== undefined) {
    // Before the node answers anyone: what it held before a restart, where both record paths read.
    const { restored, dropped } = await sessions.restore(async (key, entry) => { await keepForDht(datastore, DATASTORE_PREFIX, key, entry.bytes, entry.record) })
    if (restored + dropped.length > 0) init.log?.(`session records restored from ${journal.dir}: ${restored}${dropped.length > 0 ? `, ${dropped.length} dropped (${dropped.slice(0, 3).map(d => `${d.key}: ${d.why}`).join('; ')})` : ''}`)
  }
  const membership = new MembershipGate({
    trust: init.trust,
    ...(init.proofTimeoutMs !== undefined ? { proofTimeoutMs: init.proofTimeoutMs } : {}),
    ...(init.refuseForMs !== undefined ? { refuseForMs: init.refuseForMs } : {}),
    ...(init.log !== undefined ? { log: init.log } : {})
  })
  if (init.certificate !== undefined) membership.present(init.certificate)
  const dht = kadDHT({
    protocol: init.dhtProtocol ?? DEFAULT_DHT_PROTOCOL,
    clientMode: false,
    peerInfoMapper: passthroughMapper,
    datastorePrefix: DATASTORE_PREFIX,
    validators: { dmm: dmmValidator(datastore, DATASTORE_PREFIX, sessions) },
    selectors: { dmm: dmmSelector },
    ...(init.kBucketSize !== undefined ? { kBucketSize: init.kBucketSize } : {}),
    ...(init.alpha !== undefined ? { alpha: init.alpha } : {}),
    ...init.dhtMaintenance
  })
  const node = await createLibp2p({
    privateKey: init.privateKey,
    ...(init.logger !== undefined ? { logger: init.logger } : {}),
    datastore,
    addresses: { listen: init.listen },
    transports: init.transport === 'memory+tcp' ? [memory(), tcp()] : [init.transport === 'memory' ? memory() : tcp()],
    connectionEncrypters: [init.connectionEncrypter ?? noise()],
    streamMuxers: [yamux()],
    // Default 5 inbound connections/s per host resets a local mesh of many nodes.
    connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1000, ...(init.maxConnections !== undefined ? { maxConnections: init.maxConnections } : {}) },
    connectionMonitor: { enabled: init.connectionMonitor !== false },
    // Certificates cannot be seen before a connection exists (membership.ts); the gater keeps
    // out, for a while, the peers the membership check refused.
    connectionGater: {
      denyDialPeer: peer => membership.isRefused(peer),
      denyInboundEncryptedConnection: peer => membership.isRefused(peer),
      denyOutboundEncryptedConnection: peer => membership.isRefused(peer)
    },
    services: {
      identify: identify(),
      ping: ping(),
      membership: (components: MembershipComponents) => membership.attach(components),
      // kad-dht sees the network through a registrar that admits domain members only.
      dht: (components: KadDHTComponents) => withoutTableRefresh(dht(withRegistrar(components, membership.gatedRegistrar(components.registrar))), init.dhtTableRefresh === false),
      sessions: () => sessions,
      records: (components: RecordServerComponents) => new RecordServer(components, {
        trust: init.trust,
        store: sessions,
        membership,
        onStored: async (key, entry) => { await keepForDht(datastore, DATASTORE_PREFIX, key, entry.bytes, entry.record) }
      })
    }
  }).catch(async err => {
    await journal?.close()
    throw err
  })
  const table = routingTable(node.services.dht)
  membership.onRefused = peer => { void table.remove(peer).catch(() => {}) }
  // Peers can also enter the table from other peers' answers: only members may stay.
  table.addEventListener('peer:add', evt => {
    const peer = (evt as CustomEvent<PeerId>).detail
    void membership.whenMember(peer).then(member => { if (!member) void table.remove(peer).catch(() => {}) })
  })
  const bootstrap = (init.bootstrap ?? []).map(a => multiaddr(a))
  const first = await Promise.allSettled(bootstrap.map(async a => await node.dial(a)))
  first.forEach((result, i) => {
    const addr = bootstrap[i]
    if (result.status === 'rejected' && addr !== undefined) {
      init.log?.(`bootstrap peer ${addr.toString()} not reachable yet (${String(result.reason)}); retrying in the background`)
      void redial(node, addr, init.bootstrapRetryMs ?? 1000, init.bootstrapRetries ?? 120, init.log)
    }
  })
  return node
}

/**
 * The parts of kad-dht's routing table used here: its public type only has `size`, its
 * implementation (kad-dht 16) has these too.
 */
export interface DhtRoutingTable extends EventTarget {
  size: number
  kBucketSize?: number
  closestPeers: (kadId: Uint8Array, options?: { count?: number }) => PeerId[]
  remove: (peer: PeerId) => Promise<void>
}

export function routingTable (dht: KadDHT): DhtRoutingTable {
  const table = (dht as unknown as { routingTable?: Partial<DhtRoutingTable> }).routingTable
  if (typeof table?.closestPeers !== 'function' || typeof table.remove !== 'function' || typeof table.addEventListener !== 'function') {
    throw new TypeError('this kad-dht has no routing table with closestPeers/remove (kad-dht 16 expected)')
  }
  return table as DhtRoutingTable
}

/** The same components with another registrar (kad-dht reads them through this object). */
function withRegistrar (components: KadDHTComponents, registrar: KadDHTComponents['registrar']): KadDHTComponents {
  return new Proxy(components, { get: (target, prop) => prop === 'registrar' ? registrar : Reflect.get(target, prop) })
}

/**
 * kad-dht 16 has no setting for its table refresh: its RoutingTableRefresh calls its own
 * `refreshTable` at start and on a timer, so that method is replaced by a no-op (checked: it throws
 * when another kad-dht lacks it, rather than refresh silently).
 */
function withoutTableRefresh (dht: KadDHT, off: boolean): KadDHT {
  if (!off) return dht
  const refresh = (dht as unknown as { routingTableRefresh?: { refreshTable?: unknown } }).routingTableRefresh
  if (typeof refresh?.refreshTable !== 'function') throw new TypeError('this kad-dht has no routingTableRefresh.refreshTable (kad-dht 16 expected)')
  refresh.refreshTable = () => {}
  return dht
}

/** Dials `addr` until it answers, the node stops, or the tries run out (MAARs start in any order). */
async function redial (node: Libp2p, addr: Multiaddr, everyMs: number, tries: number, log?: (line: string) => void): Promise<void> {
  for (let i = 0; i < tries; i++) {
    await new Promise<void>(resolve => { setTimeout(resolve, everyMs).unref() })
    if (node.status !== 'started') return
    try {
      await node.dial(addr)
      log?.(`bootstrap peer ${addr.toString()} reached after ${i + 1} retries`)
      return
    } catch {}
  }
  log?.(`bootstrap peer ${addr.toString()} never answered; giving up after ${tries} retries`)
}

/** The mesh services of a node made by createMeshNode; throws for any other node. */
export function meshServices (node: Libp2p): MeshServices {
  const services = node.services as Partial<MeshServices>
  if (!(services.sessions instanceof SessionStore) || !(services.records instanceof RecordServer) || !(services.membership instanceof MembershipGate) || services.dht === undefined) {
    throw new TypeError('node was not created by createMeshNode (no sessions store or dht service)')
  }
  return services as MeshServices
}
