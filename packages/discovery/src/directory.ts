/**
 * The session directory a MAAR asks on the handover's critical path (doc/ARCHITECTURE.md "A
 * handover": the GET before the PBUs) and publishes to after it (the PUT at the end).
 *
 * A stock kad-dht get walks the keyspace and waits for every path plus a correction round
 * (hundreds of ms here). In a private domain a MAAR already knows most of its peers, so:
 * - publish(): store locally, PUT over `/dmm/record/1.0.0` to the `fanout` known members
 *   closest to the key (the DHT's own XOR metric) and await those, then start a kad-dht put()
 *   in the background that no caller waits for (errors logged).
 * - lookup(): GET the `fanout` closest known members in parallel, each bounded by a short
 *   timeout, and settle on the newest valid record among their answers and the local copy. A
 *   local copy cannot prove on its own that it is current (the MN may have moved on since), so
 *   the members are always asked; it is the answer ('cache') when it is newer than theirs or
 *   nobody holds one.
 *
 * Only domain members are asked and only their answers count: a peer is a candidate once the
 * MembershipGate verified its certificate, and every answer carries the responder's certificate
 * again (record-protocol.ts). "Not found" proves absence only when enough members said so; see
 * lookup(). Every record received is validated; a forged one is dropped with a log line naming
 * the peer.
 */
import { performance } from 'node:perf_hooks'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type { TrustStore } from './domain.js'
import { meshServices, routingTable } from './mesh-node.js'
import type { MeshServices } from './mesh-node.js'
import { CertificateError } from './domain.js'
import { RecordError, recordCertificates, checkMnId, isNewer, openSessionRecord, peekSessionRecord, sealSessionRecord, sessionKey } from './records.js'
import type { SessionRecord } from './records.js'
import { refuseStale } from './record-store.js'
import type { StoredRecord } from './record-store.js'
import { requestFrames, requestRecord } from './record-protocol.js'
import { KadIds, kadId } from './closest.js'
import type { Discovery } from './discovery.js'

export interface LookupResult {
  record: SessionRecord
  signer: string
  source: 'cache' | 'direct' | 'dht'
  elapsedMs: number
  /** Peers asked (direct) or DHT queries sent (dht). */
  asked: number
  /** The certificates the record carries (validated with it), proving its signer and anchors. */
  certificates: Uint8Array[]
}

/**
 * lookup() could neither find a record nor prove that none exists: fewer domain members than
 * required answered "not found" (the others timed out, failed or are backing off) and the
 * kad-dht get found nothing either. The MN may well have a session elsewhere, so the caller must
 * not treat this as a first attach.
 */
export class LookupIncompleteError extends Error {
  constructor (readonly mnId: string, readonly absentAnswers: number, readonly required: number, readonly asked: number) {
    super(`lookup of ${JSON.stringify(mnId).slice(0, 80)} is incomplete: ${absentAnswers} of the ${required} domain members required answered "not found" (${asked} asked), and the DHT found no record`)
    this.name = 'LookupIncompleteError'
  }
}

/** One member's answer to a GET: a valid record, or a proven "I hold none". */
type MemberAnswer = { kind: 'found', entry: StoredRecord } | { kind: 'absent' }

export interface SessionDirectoryInit {
  privateKey: PrivateKey
  certificate: Uint8Array
  trust: TrustStore
  /** Peers asked/written in parallel (default 3). */
  fanout?: number
  /** Per-peer bound of a direct GET on the lookup path, dial included (default 500 ms). */
  requestTimeoutMs?: number
  /** Per-peer bound of a direct PUT; publication is off the critical path (default 5 s). */
  publishTimeoutMs?: number
  /** Bound of the kad-dht fallback get (default 10 s). */
  dhtTimeoutMs?: number
  /** How long a peer that failed a request is skipped (default 10 s). */
  peerBackoffMs?: number
  log?: (line: string) => void
}

/** The DHT implementation of Discovery: fast direct lookups among domain members, kad-dht behind. */
export class SessionDirectory implements Discovery {
  private readonly services: MeshServices
  private readonly fanout: number
  private readonly requestTimeoutMs: number
  private readonly publishTimeoutMs: number
  private readonly dhtTimeoutMs: number
  private readonly peerBackoffMs: number
  private readonly log: (line: string) => void
  private readonly kadIds = new KadIds()
  private readonly backoff = new Map<string, number>()
  private readonly background = new Set<Promise<void>>()
  private controller = new AbortController()
  private started = false

  constructor (private readonly node: Libp2p, private readonly init: SessionDirectoryInit) {
    this.services = meshServices(node)
    this.fanout = Math.max(1, init.fanout ?? 3)
    this.requestTimeoutMs = init.requestTimeoutMs ?? 500
    this.publishTimeoutMs = init.publishTimeoutMs ?? 5000
    this.dhtTimeoutMs = init.dhtTimeoutMs ?? 10_000
    this.peerBackoffMs = init.peerBackoffMs ?? 10_000
    this.log = init.log ?? (() => {})
  }

  /** Checks this node's own certificate first: a MAAR outside the domain has nothing to publish. */
  async start (): Promise<void> {
    await this.init.trust.verify(this.init.certificate, { peerId: this.node.peerId.toString() })
    this.services.records.log = this.log
    this.services.membership.log = this.log
    this.services.membership.present(this.init.certificate)
    this.controller = new AbortController()
    this.started = true
  }

  /** Aborts background DHT puts and waits for them to end. */
  async stop (): Promise<void> {
    this.started = false
    this.controller.abort(new Error('session directory stopped'))
    await Promise.allSettled([...this.background])
    this.services.records.log = () => {}
    this.services.membership.log = () => {}
  }

  /**
   * The MN's newest valid session record, or undefined when it provably has none.
   *
   * Contract: undefined means proven absence: at least `required` domain members (certificate
   * checked on the answer) said "not found". `required` is min(fanout, reachable members), and at
   * least 1 while any member is known: the known members are the peers whose membership this
   * node verified that are connected or in its routing table, the reachable ones those of them
   * that have not failed a request within `peerBackoffMs`. A member that just failed cannot
   * answer, and counting it would refuse every first attach of the domain for as long as one
   * MAAR is down; a record it held was also PUT to the other closest members. A MAAR that knows
   * no member (alone in its domain) has nothing to ask, so its miss is proven at once and its MN
   * is a first attach; a MAAR cut off from every member it knew is not. Members that do not answer are replaced by the next closest ones; when the proof still
   * falls short, the kad-dht get (validated records only) is tried and, if it finds nothing
   * either, LookupIncompleteError is thrown: the caller must not treat the MN as new. Throws
   * RecordError for an MN-ID no record may hold (checkMnId).
   */
  async lookup (mnId: string, opts: { signal?: AbortSignal } = {}): Promise<LookupResult | undefined> {
    checkMnId(mnId)
    const t0 = performance.now()
    const key = sessionKey(mnId)
    const local = this.services.sessions.get(key)
    const { ranked, known } = this.memberCandidates(key)
    const required = known === 0 ? 0 : Math.max(1, Math.min(this.fanout, ranked.length))
    let asked = 0
    let absent = 0
    let best: StoredRecord | undefined
    // First the `fanout` closest; then, while the proof falls short, as many more as are missing.
    for (let want = this.fanout; want > 0 && asked < ranked.length; want = required - absent) {
      const batch = ranked.slice(asked, asked + want)
      asked += batch.length
      const answers = await Promise.all(batch.map(async peer => await this.getFrom(peer, key, opts.signal)))
      for (const a of answers) {
        if (a?.kind === 'absent') absent++
        if (a?.kind === 'found' && (best === undefined || isNewer(a.entry.record, best.record))) best = a.entry
      }
      if (best !== undefined) break
    }
    const elapsed = (): number => performance.now() - t0
    // The source names where the winning copy came from; a local copy that peers confirm is 'direct'.
    if (local !== undefined && (best === undefined || isNewer(local.record, best.record))) {
      return { record: local.record, signer: local.signer, source: 'cache', elapsedMs: elapsed(), asked, certificates: recordCertificates(local.bytes) }
    }
    if (best !== undefined) {
      this.services.sessions.keep(key, best)
      return { record: best.record, signer: best.signer, source: 'direct', elapsedMs: elapsed(), asked, certificates: recordCertificates(best.bytes) }
    }
    if (absent >= required) return undefined // enough members hold no record of this MN
    const viaDht = await this.dhtGet(key, opts.signal)
    if (viaDht === undefined) throw new LookupIncompleteError(mnId, absent, required, asked)
    return { ...viaDht, elapsedMs: elapsed(), asked: asked + viaDht.asked }
  }

  /** Plain kad-dht get(), for the benchmark's comparison and as the fallback. */
  async lookupStock (mnId: string): Promise<LookupResult | undefined> {
    const t0 = performance.now()
    const found = await this.dhtGet(sessionKey(mnId))
    return found === undefined ? undefined : { ...found, elapsedMs: performance.now() - t0 }
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
    const peers = this.closestPeers(key)
    const results = await Promise.all(peers.map(async peer => await this.putTo(peer, key, bytes)))
    if (this.started) this.putInDht(key, bytes, record)
    if (peers.length > 0 && !results.some(ok => ok)) {
      throw new Error(`no peer accepted the record of ${record.mnId} (asked ${peers.length}); the DHT put continues in the background`)
    }
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

  /** Resolves when the background DHT puts started so far have ended (tests, benchmarks). */
  async settled (): Promise<void> {
    await Promise.allSettled([...this.background])
  }

  /** The `fanout` members closest to the key among connected peers and the DHT routing table. */
  private closestPeers (key: Uint8Array): PeerId[] {
    return this.memberCandidates(key).ranked.slice(0, this.fanout)
  }

  /**
   * Every verified domain member this node knows (connected or in its routing table): `known`
   * counts them, `ranked` lists those not backing off, closest to the key first.
   */
  private memberCandidates (key: Uint8Array): { ranked: PeerId[], known: number } {
    const now = Date.now()
    const candidates = new Map<string, PeerId>()
    for (const p of this.node.getPeers()) candidates.set(p.toString(), p)
    const table = routingTable(this.services.dht)
    for (const p of table.closestPeers(kadId(key), { count: table.size })) candidates.set(p.toString(), p)
    candidates.delete(this.node.peerId.toString())
    for (const id of [...candidates.keys()]) if (!this.services.membership.isMember(id)) candidates.delete(id)
    const known = candidates.size
    for (const [id, until] of this.backoff) {
      if (until <= now) this.backoff.delete(id)
      else candidates.delete(id)
    }
    return { ranked: this.kadIds.closest([...candidates.values()], key, candidates.size), known }
  }

  private signalFor (outer?: AbortSignal, ms = this.requestTimeoutMs): AbortSignal {
    const timeout = AbortSignal.timeout(ms)
    return outer === undefined ? timeout : AbortSignal.any([timeout, outer])
  }

  /** undefined = no answer that counts: the peer failed, refused, is not a member or sent a forged record. */
  private async getFrom (peer: PeerId, key: Uint8Array, signal?: AbortSignal): Promise<MemberAnswer | undefined> {
    let answer
    try {
      answer = await requestRecord(this.node, peer, requestFrames({ op: 'get', key: new TextDecoder().decode(key) }, this.init.certificate), this.signalFor(signal), this.init.trust)
    } catch (err) {
      this.failed(peer, 'get', err)
      return undefined
    }
    if (!answer.header.ok) {
      this.log(`record get refused by ${peer.toString()}: ${answer.header.error ?? 'no reason given'}`)
      return undefined
    }
    if (answer.record === undefined) return { kind: 'absent' }
    try {
      const { record, signer } = await openSessionRecord(answer.record, this.init.trust, { key })
      return { kind: 'found', entry: { bytes: answer.record, record, signer, storedAt: Date.now() } }
    } catch (err) {
      if (!(err instanceof RecordError)) throw err
      this.log(`dropped record from ${peer.toString()}: ${err.message}`)
      return undefined
    }
  }

  private async putTo (peer: PeerId, key: Uint8Array, bytes: Uint8Array): Promise<boolean> {
    try {
      const answer = await requestRecord(this.node, peer, requestFrames({ op: 'put', key: new TextDecoder().decode(key) }, this.init.certificate, bytes), this.signalFor(undefined, this.publishTimeoutMs), this.init.trust)
      if (!answer.header.ok) this.log(`record put refused by ${peer.toString()}: ${answer.header.error ?? 'no reason given'}`)
      return answer.header.ok
    } catch (err) {
      this.failed(peer, 'put', err)
      return false
    }
  }

  private failed (peer: PeerId, op: string, err: unknown): void {
    this.backoff.set(peer.toString(), Date.now() + this.peerBackoffMs)
    if (err instanceof CertificateError) {
      this.log(`ignored record ${op} answer from ${peer.toString()}: not a MAAR of the domain: ${err.message}`)
      return
    }
    this.log(`record ${op} to ${peer.toString()} failed: ${err instanceof Error ? err.message : String(err)}`)
  }

  private putInDht (key: Uint8Array, bytes: Uint8Array, record: SessionRecord): void {
    const signal = this.controller.signal
    const run = async (): Promise<void> => {
      for await (const event of this.services.dht.put(key, bytes, { signal })) void event
    }
    const p = run().catch(err => {
      if (!signal.aborted) this.log(`dht put of ${record.mnId} seq ${record.sequence} failed: ${err instanceof Error ? err.message : String(err)}`)
    })
    this.background.add(p)
    void p.finally(() => this.background.delete(p))
  }

  private async dhtGet (key: Uint8Array, outer?: AbortSignal): Promise<Omit<LookupResult, 'elapsedMs'> | undefined> {
    const timeout = AbortSignal.timeout(this.dhtTimeoutMs)
    const signal = outer === undefined ? timeout : AbortSignal.any([timeout, outer])
    let value: Uint8Array | undefined
    let asked = 0
    try {
      for await (const event of this.services.dht.get(key, { signal })) {
        if (event.name === 'SEND_QUERY') asked++
        if (event.name === 'VALUE') value = event.value
      }
    } catch (err) {
      // get() can throw in its correction round after a value was found; keep the value then.
      if (value === undefined) {
        this.log(`dht get failed: ${err instanceof Error ? err.message : String(err)}`)
        return undefined
      }
    }
    if (value === undefined) return undefined
    try {
      const { record, signer } = await openSessionRecord(value, this.init.trust, { key })
      this.services.sessions.keep(key, { bytes: value, record, signer, storedAt: Date.now() })
      return { record, signer, source: 'dht', asked, certificates: recordCertificates(value) }
    } catch (err) {
      if (!(err instanceof RecordError)) throw err
      this.log(`dropped record from the DHT: ${err.message}`)
      return undefined
    }
  }
}
