/**
 * The DHT implementation of Discovery (discovery.ts): lookups among domain members (lookup.ts),
 * publication to them, and the kad-dht behind both.
 * - publish(): store locally, PUT over `/dmm/record/1.0.0` to the `fanout` known members
 *   closest to the key (the DHT's own XOR metric) and await those, then hand the record to the
 *   background kad-dht put() that no caller waits for (errors logged), at most one walk per key
 *   per interval (dht-publication.ts). The members that accepted the
 *   record are remembered, and when one of them leaves, or the put placed it nowhere, the record
 *   is put again to the key's current closest set (replicas.ts).
 * - lookup(): SessionLookup (lookup.ts), walking toward the key (key-walk.ts) when the members it
 *   knows hold nothing.
 */
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type { TrustStore } from './domain.js'
import { meshServices, routingTable } from './mesh-node.js'
import type { MeshServices } from './mesh-node.js'
import { RecordError, peekSessionRecord, sealSessionRecord, sessionKey } from './records.js'
import type { SessionRecord } from './records.js'
import { refuseStale } from './record-store.js'
import { requestFrames, requestRecord } from './record-protocol.js'
import { MemberPeers } from './member-peers.js'
import { shaped } from './request-shaper.js'
import type { RequestShaper } from './request-shaper.js'
import { SessionLookup, requestSignal } from './lookup.js'
import { KeyWalker } from './key-walk.js'
import { ReplicaKeeper } from './replicas.js'
import { CoalescedDhtPuts } from './dht-publication.js'
import { KnownDomain } from './known-domain.js'
import type { LookupResult } from './lookup.js'
import type { Discovery } from './discovery.js'

export interface SessionDirectoryInit {
  privateKey: PrivateKey
  certificate: Uint8Array
  trust: TrustStore
  /** Peers asked/written in parallel (default 3). */
  fanout?: number
  /** Per-peer bound of a direct GET on the lookup path, on a connection (default 500 ms). */
  requestTimeoutMs?: number
  /** Bound of the dial to a member not connected yet, before a GET on the lookup path (default 5 s). */
  dialTimeoutMs?: number
  /** Per-peer bound of a direct PUT; publication is off the critical path (default 5 s). */
  publishTimeoutMs?: number
  /** Bound of the kad-dht fallback get (default 10 s). */
  dhtTimeoutMs?: number
  /** How long a peer that failed a request is skipped (default 10 s). */
  peerBackoffMs?: number
  /** How long a key's closest set found by a walk is reused (default 30 s, key-walk.ts). */
  closestCacheMs?: number
  /** Bound of a lookup's walk toward the key (default 5 s); one cut short still yields the closest members it met (key-walk.ts). */
  walkTimeoutMs?: number
  /** How long a lookup's walk runs before the closest members it met so far are asked, while it goes on (default 2.5 s, lookup.ts). */
  walkEarlyMs?: number
  /** A key's background kad-dht put (a walk) runs at most once per this many ms; records in between are coalesced into the newest (default 30 s, dht-publication.ts: the direct PUTs carry every change to the closest members, and each walk costs every member it reaches a stream and a record validation). */
  dhtPutIntervalMs?: number
  /**
   * Bound of one background kad-dht put, walk and PUT_VALUEs (default 30 s). kad-dht bounds a
   * query only when the caller passes no signal (180 s); this put passes the stop signal, so it
   * had no bound, and on a loaded domain a put could wait on a slow peer for minutes.
   */
  dhtPutTimeoutMs?: number
  /** On stop, how long the coalesced records' walks may take before they are aborted (default 2 s). */
  stopFlushMs?: number
  /**
   * Skip a publication's kad-dht walk while a walk has shown that this MAAR knows every member of
   * the domain, fewer than the DHT's k (known-domain.ts; default true).
   */
  skipWalksInKnownDomain?: boolean
  /** How long a holder of a published record may stay away before the record is put again (default 1 s). */
  republishGraceMs?: number
  log?: (line: string) => void
  /** Around each record GET and PUT this MAAR sends (request-shaper.ts): scenario runs delay and count them. */
  shaper?: RequestShaper
}

/** The DHT implementation of Discovery: fast direct lookups among domain members, kad-dht behind. */
export class SessionDirectory implements Discovery {
  private readonly services: MeshServices
  private readonly fanout: number
  private readonly publishTimeoutMs: number
  private readonly log: (line: string) => void
  private readonly members: MemberPeers
  private readonly lookups: SessionLookup
  readonly walker: KeyWalker
  readonly replicas: ReplicaKeeper
  readonly dhtPuts: CoalescedDhtPuts
  readonly knownDomain: KnownDomain
  /** Publications whose walk was skipped because this MAAR knows the whole domain (tests, benchmarks). */
  walksSkipped = 0
  private controller = new AbortController()
  private started = false

  constructor (private readonly node: Libp2p, private readonly init: SessionDirectoryInit) {
    this.services = meshServices(node)
    this.fanout = Math.max(1, init.fanout ?? 3)
    this.publishTimeoutMs = init.publishTimeoutMs ?? 5000
    this.log = init.log ?? (() => {})
    this.members = new MemberPeers(node, this.services, init.peerBackoffMs ?? 10_000, this.log)
    this.walker = new KeyWalker(node, this.services, this.members, {
      ...(init.closestCacheMs !== undefined ? { cacheMs: init.closestCacheMs } : {}),
      ...(init.walkTimeoutMs !== undefined ? { timeoutMs: init.walkTimeoutMs } : {})
    })
    this.knownDomain = new KnownDomain(routingTable(this.services.dht).kBucketSize ?? 20, init.closestCacheMs ?? 30_000)
    this.dhtPuts = new CoalescedDhtPuts(async (key, bytes) => { await this.putInDht(key, bytes) }, init.dhtPutIntervalMs ?? 30_000)
    this.replicas = new ReplicaKeeper(node, this.services.sessions, (key, bytes) => { if (this.started) this.dhtPuts.offer(key, bytes) }, { graceMs: init.republishGraceMs ?? 1000, maxRecords: 100_000 })
    this.lookups = new SessionLookup(node, this.services, this.members, this.walker, {
      certificate: init.certificate,
      trust: init.trust,
      fanout: this.fanout,
      requestTimeoutMs: init.requestTimeoutMs ?? 500,
      dialTimeoutMs: init.dialTimeoutMs ?? 5000,
      dhtTimeoutMs: init.dhtTimeoutMs ?? 10_000,
      walkEarlyMs: init.walkEarlyMs ?? 2500,
      log: this.log,
      ...(init.shaper !== undefined ? { shaper: init.shaper } : {})
    })
  }

  /** Checks this node's own certificate first: a MAAR outside the domain has nothing to publish. */
  async start (): Promise<void> {
    await this.init.trust.verify(this.init.certificate, { peerId: this.node.peerId.toString() })
    this.services.records.log = this.log
    this.services.membership.log = this.log
    this.services.membership.present(this.init.certificate)
    this.controller = new AbortController()
    this.replicas.start()
    this.started = true
  }

  /**
   * Walks the coalesced records now (their direct PUTs reached the closest members already; this
   * keeps the DHT's copy current too), for at most `stopFlushMs`; then aborts what still runs.
   */
  async stop (): Promise<void> {
    this.started = false
    this.replicas.stop()
    let bound: NodeJS.Timeout | undefined
    await Promise.race([this.dhtPuts.flush(), new Promise<void>(resolve => { bound = setTimeout(resolve, this.init.stopFlushMs ?? 2000) })])
    clearTimeout(bound)
    this.controller.abort(new Error('session directory stopped'))
    await this.dhtPuts.settled()
    this.dhtPuts.clear()
    this.services.records.log = () => {}
    this.services.membership.log = () => {}
  }

  /** The MN's newest valid session record; see SessionLookup.lookup for the contract. */
  async lookup (mnId: string, opts: { signal?: AbortSignal } = {}): Promise<LookupResult | undefined> {
    return await this.lookups.lookup(mnId, opts)
  }

  /** Plain kad-dht get(), for the benchmark's comparison. */
  async lookupStock (mnId: string): Promise<LookupResult | undefined> {
    return await this.lookups.lookupStock(mnId)
  }

  /**
   * Signs the record (with this MAAR's certificate and the anchors'), stores it, PUTs it to the
   * closest known peers and starts the DHT put in the background. Throws RecordError when the
   * record is invalid or older than what this node holds.
   */
  async publish (record: SessionRecord, anchorCertificates: Uint8Array[]): Promise<void> {
    const bytes = await sealSessionRecord(record, this.init.privateKey, [this.init.certificate, ...anchorCertificates])
    const key = sessionKey(record.mnId)
    refuseStale(await this.services.sessions.offer(key, bytes))
    // The key's closest set from a recent walk when there is one, else the closest members known.
    const peers = (this.walker.cached(key) ?? this.members.closest(key, this.fanout)).slice(0, this.fanout)
    const results = await Promise.all(peers.map(async peer => await this.putTo(peer, key, bytes)))
    this.replicas.accepted(key, bytes, peers.filter((_, i) => results[i] === true).map(p => p.toString()))
    // The walk copies the record to the key's closest members this MAAR may not know; when it
    // provably knows them all (known-domain.ts), the direct PUTs above reached them already.
    const skipWalk = this.init.skipWalksInKnownDomain !== false && results.every(ok => ok) && this.knowsWholeDomain()
    if (skipWalk) this.walksSkipped++
    else if (this.started) this.dhtPuts.offer(key, bytes)
    if (peers.length > 0 && !results.some(ok => ok)) {
      throw new Error(`no peer accepted the record of ${record.mnId} (asked ${peers.length}); the DHT put continues in the background`)
    }
  }

  /** Whether the last walk proved that this MAAR knows every member of the domain, and it still holds (known-domain.ts). */
  knowsWholeDomain (): boolean {
    return this.knownDomain.covers(this.members.all())
  }

  /** Publishes a withdrawn record (serving null) with that sequence. */
  async withdraw (mnId: string, sequence: number): Promise<void> {
    await this.publish({ mnId, sequence, issuedAt: Date.now(), serving: null, anchors: [] }, [])
  }

  /** Caches a record seen nearby, after validating it (throws RecordError). */
  async remember (bytes: Uint8Array): Promise<void> {
    let mnId: string
    try {
      mnId = peekSessionRecord(bytes).mnId
    } catch (err) {
      throw err instanceof RecordError ? err : new RecordError('malformed', (err as Error).message)
    }
    await this.services.sessions.offer(sessionKey(mnId), bytes)
  }

  /** Resolves when the background DHT puts started so far have ended (tests, benchmarks); coalesced records still wait their turn. */
  async settled (): Promise<void> {
    await this.dhtPuts.settled()
  }

  /** Walks every coalesced record now and resolves when all walks have ended. */
  async flush (): Promise<void> {
    await this.dhtPuts.flush()
  }

  private async putTo (peer: PeerId, key: Uint8Array, bytes: Uint8Array): Promise<boolean> {
    try {
      const header = { op: 'put', key: new TextDecoder().decode(key) } as const
      const signal = requestSignal(this.publishTimeoutMs)
      const answer = await shaped(this.init.shaper, { peer: peer.toString(), ...header }, async () => await requestRecord(this.node, peer, requestFrames(header, this.init.certificate, bytes), signal, this.init.trust))
      if (!answer.header.ok) this.log(`record put refused by ${peer.toString()}: ${answer.header.error ?? 'no reason given'}`)
      return answer.header.ok
    } catch (err) {
      this.members.failed(peer, 'put', err)
      return false
    }
  }

  /** kad-dht put (a walk to the key's closest set, PUT_VALUE to each); the members that stored it are remembered. Never rejects. */
  private async putInDht (key: Uint8Array, bytes: Uint8Array): Promise<void> {
    const stopped = this.controller.signal
    const signal = AbortSignal.any([stopped, AbortSignal.timeout(this.init.dhtPutTimeoutMs ?? 30_000)])
    const holders: string[] = []
    try {
      const found: string[] = []
      const known = this.members.all()
      for await (const event of this.services.dht.put(key, bytes, { signal })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') holders.push(event.from.toString())
        if (event.name === 'FINAL_PEER') found.push(event.peer.id.toString())
      }
      // Only a walk that ran to its end shows which members are closest.
      this.knownDomain.walked(found, known)
    } catch (err) {
      if (stopped.aborted) return
      const record = peekSessionRecord(bytes)
      this.log(`dht put of ${record.mnId} seq ${record.sequence} failed: ${err instanceof Error ? err.message : String(err)}`)
    }
    // No PUT_VALUE answered, whether the walk ended or failed: the record is on the members this
    // MAAR knew, not on the key's closest set.
    if (holders.length === 0) this.replicas.notPlaced(key, bytes)
    // Those that stored it before a timeout hold it all the same.
    this.replicas.accepted(key, bytes, holders)
  }
}
