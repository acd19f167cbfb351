/**
 * One MAAR's libp2p node for the private domain DHT: TCP + noise + yamux + identify + kad-dht on
 * a private protocol id, with the `/dmm` validator/selector and the settings a LAN/loopback mesh
 * needs (DESIGN.md "Facts checked"): clientMode false, passthroughMapper so private addresses
 * enter routing tables, a raised inbound connection threshold. The node also carries the
 * SessionStore that the DHT validator and the SessionDirectory share (service `sessions`).
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { MemoryDatastore } from 'datastore-core'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { TrustStore } from './domain.js'
import { SessionStore } from './record-store.js'
import { dmmSelector, dmmValidator } from './dht-records.js'
import { RecordServer } from './record-protocol.js'
import type { RecordServerComponents } from './record-protocol.js'

export const DEFAULT_DHT_PROTOCOL = '/dmm/kad/1.0.0'
const DATASTORE_PREFIX = '/dht'

export interface MeshNodeInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/0 */
  listen: string[]
  /** Multiaddrs with /p2p/<id> of peers to dial once started. */
  bootstrap?: string[]
  trust: TrustStore
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
}

export async function createMeshNode (init: MeshNodeInit): Promise<Libp2p> {
  const datastore = new MemoryDatastore()
  const sessions = new SessionStore(init.trust)
  const node = await createLibp2p({
    privateKey: init.privateKey,
    datastore,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Default 5 inbound connections/s per host resets a local mesh of many nodes.
    connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1000 },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: init.dhtProtocol ?? DEFAULT_DHT_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        datastorePrefix: DATASTORE_PREFIX,
        validators: { dmm: dmmValidator(datastore, DATASTORE_PREFIX, sessions) },
        selectors: { dmm: dmmSelector },
        ...(init.kBucketSize !== undefined ? { kBucketSize: init.kBucketSize } : {}),
        ...(init.alpha !== undefined ? { alpha: init.alpha } : {})
      }),
      sessions: () => sessions,
      records: (components: RecordServerComponents) => new RecordServer(components, { trust: init.trust, store: sessions })
    }
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
  if (!(services.sessions instanceof SessionStore) || !(services.records instanceof RecordServer) || services.dht === undefined) {
    throw new TypeError('node was not created by createMeshNode (no sessions store or dht service)')
  }
  return services as MeshServices
}
