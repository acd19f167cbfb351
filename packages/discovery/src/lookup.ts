/**
 * The session lookup a MAAR runs on the handover's critical path (doc/ARCHITECTURE.md "A
 * handover": the GET before the PBUs).
 *
 * A stock kad-dht get walks the keyspace and waits for every path plus a correction round
 * (hundreds of ms here). In a private domain a MAAR already knows most of its peers, so a lookup
 * GETs the `fanout` closest known members over `/dmm/record/1.0.0` in parallel, each bounded by
 * a short timeout, and settles on the newest valid record among their answers and the local
 * copy. A local copy cannot prove on its own that it is current (the MN may have moved on since),
 * so the members are always asked; it is the answer ('cache') when it is newer than theirs or
 * nobody holds one. Only members are asked and only their answers count (MemberPeers, and the
 * responder's certificate on every answer, record-protocol.ts); "not found" proves absence only
 * when enough members said so (lookup()). Every record received is validated; a forged one is
 * dropped with a log line naming the peer. With hundreds of MAARs a MAAR knows a small share of
 * the domain, and the members it knows closest to the key may hold nothing; then it walks toward
 * the key (key-walk.ts) and asks the key's closest members, the set the record was put to.
 */
import { performance } from 'node:perf_hooks'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { TrustStore } from './domain.js'
import type { MeshServices } from './mesh-node.js'
import type { MemberPeers } from './member-peers.js'
import { lookupStep } from './lookup-steps.js'
import type { KeyWalk, KeyWalker, WalkOutcome } from './key-walk.js'
import { RecordError, checkMnId, isNewer, openSessionRecord, recordCertificates, sessionKey } from './records.js'
import type { SessionRecord } from './records.js'
import type { StoredRecord } from './record-store.js'
import { requestFrames, requestRecord } from './record-protocol.js'
import { shaped } from './request-shaper.js'
import { bytesEqual, timeoutSignal, uniquePeers } from './util.js'
import type { RequestShaper } from './request-shaper.js'

export interface LookupResult {
  record: SessionRecord
  signer: string
  /** 'border': from a federated domain's gateway (doc/ARCHITECTURE.md "Federation"). */
  source: 'cache' | 'direct' | 'dht' | 'border'
  elapsedMs: number
  /** Peers asked (direct) or DHT queries sent (dht). */
  asked: number
  /**
   * The certificates the record carries (validated with it), proving its signer and anchors.
   * Decoded when first read: the serving MAAR needs them to republish, after its PBUs, not on
   * the lookup's path (decoding them again cost a tenth of a lookup).
   */
  readonly certificates: Uint8Array[]
  /**
   * Sequential round trips to the answer: 1 when a member this MAAR knew answered, the walk's
   * rounds + 2 when a walk toward the key (key-walk.ts) led to it; 0 for the kad-dht fallback.
   */
  hops?: number
  /** True when this MAAR walked toward the key because the members it knew held no record. */
  walked?: boolean
  /** How that walk ended (key-walk.ts), when there was one. */
  walk?: WalkOutcome
}

/**
 * lookup() could neither find a record nor prove that none exists: fewer domain members than
 * required answered "not found" (the others timed out, failed or are backing off) and the
 * kad-dht get found nothing either. The MN may well have a session elsewhere, so the caller must
 * not treat this as a first attach.
 */
export class LookupIncompleteError extends Error {
  /** `walkError`: why the walk toward the key's closest members failed, when it did (then no answer proves a miss). */
  constructor (readonly mnId: string, readonly absentAnswers: number, readonly required: number, readonly asked: number, readonly walkError?: string, readonly walk?: WalkOutcome) {
    const why = walkError !== undefined
      ? `the walk toward the key's closest members failed (${walkError}), so the ${asked} members asked prove no miss`
      : `${absentAnswers} of the ${required} domain members required answered "not found" (${asked} asked)`
    super(`lookup of ${JSON.stringify(mnId).slice(0, 80)} is incomplete: ${why}, and the DHT found no record`)
    this.name = 'LookupIncompleteError'
  }
}

/** One member's answer to a GET: a valid record, or a proven "I hold none". */
type MemberAnswer = { kind: 'found', entry: StoredRecord } | { kind: 'absent' }

export interface SessionLookupInit {
  certificate: Uint8Array
  trust: TrustStore
  /** Members asked in parallel. */
  fanout: number
  /** Per-member bound of a GET on a connection (the dial, when there is none, has dialTimeoutMs). */
  requestTimeoutMs: number
  /** Bound of the dial to a member this MAAR is not connected to, before its GET. */
  dialTimeoutMs: number
  /** Bound of the kad-dht fallback get. */
  dhtTimeoutMs: number
  /**
   * How long a walk runs before the closest members it met so far are asked, while it goes on
   * (key-walk.ts): a record there ends the lookup and the walk; otherwise the walk's end decides.
   */
  walkEarlyMs: number
  log: (line: string) => void
  /** Around each GET (request-shaper.ts); none by default. */
  shaper?: RequestShaper
}

/** A per-request timeout, tied to the caller's signal when there is one. */
export function requestSignal (ms: number, outer?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ms)
  return outer === undefined ? timeout : AbortSignal.any([timeout, outer])
}

export class SessionLookup {
  private readonly fanout: number
  private sawMembers = false
  private readonly log: (line: string) => void

  constructor (
    private readonly node: Libp2p,
    private readonly services: MeshServices,
    private readonly members: MemberPeers,
    private readonly walker: KeyWalker,
    private readonly init: SessionLookupInit
  ) {
    this.fanout = init.fanout
    this.log = init.log
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
   * is a first attach; a MAAR cut off from every member it knew is not. Members that do not
   * answer are replaced by the next closest ones. When the members known hold no record and were
   * not the key's closest set from a recent walk that proved the miss, the MAAR walks toward the
   * key: then only the members the walk ended on prove a miss, and only when each of its `fanout`
   * closest said "not found" (they answered the walk a moment ago, so one backing off is asked
   * again), since the record was put to them and not to the members this MAAR happened to know,
   * and a closer member's silence leaves the miss open. A walk cut short at its bound (under
   * load) proves no miss, but the closest members it met are asked: a record there is the answer
   * (key-walk.ts). A walk still running after `walkEarlyMs` has its closest members so far asked
   * while it goes on; a record there ends the lookup and stops the walk. When the proof
   * still falls short, the kad-dht get (validated records only) is tried and, if it finds nothing
   * either, LookupIncompleteError is thrown: the caller must not treat the MN as new. Throws
   * RecordError for an MN-ID no record may hold (checkMnId).
   */
  async lookup (mnId: string, opts: { signal?: AbortSignal } = {}): Promise<LookupResult | undefined> {
    checkMnId(mnId)
    lookupStep('lookup-start')
    const t0 = performance.now()
    const elapsed = (): number => performance.now() - t0
    const key = sessionKey(mnId)
    const local = this.services.sessions.get(key)
    const { ranked, known } = this.members.candidates(key)
    // The key's closest members from a recent walk first, then the closest this MAAR knows.
    const cached = this.walker.cached(key)
    const order = cached === undefined ? ranked : uniquePeers([...cached, ...ranked])
    const answers = new Map<string, MemberAnswer | undefined>()
    // The holders usually answer with the same bytes (one publisher PUT them all), often the
    // bytes this MAAR holds too: those are validated once per lookup, not once per answer.
    const validated = new Validated(local)
    // A MAAR that knew members once and knows none now is cut off (they left), not alone.
    if (known > 0) this.sawMembers = true
    const required = known === 0 ? (this.sawMembers ? 1 : 0) : Math.max(1, Math.min(this.fanout, order.length))
    const view = await this.askClosest(order, required, answers, key, validated, opts.signal)
    if (view.best !== undefined) return this.answer(key, view.best, local, { elapsedMs: elapsed(), asked: answers.size, hops: 1, walked: false })
    // What proves a miss: "not found" from `required` members of the set that counts; for a set
    // from a walk, from each of its `fanout` closest (a closer member that did not answer may
    // hold the record, and members further out answering instead prove nothing).
    let proof: { absent: number, required: number } | undefined = cached === undefined ? { absent: view.absent, required } : closestAbsent(cached, answers, this.fanout)
    // With a partial view the members asked may not be the key's closest set, where the record
    // was put; walk there (key-walk.ts) unless the set asked came from a recent walk and proved the miss.
    const walk = known > 0 && (cached === undefined || proof.absent < proof.required)
    let walkError: string | undefined
    let outcome: WalkOutcome | undefined
    if (walk) {
      const walking = this.walker.start(key, opts.signal)
      // Under load a walk runs seconds (README "Scale"), its last paths waiting on slow peers long
      // after it met the key's closest members: those met so far are asked early.
      const early = await this.askEarly(walking, answers, key, validated, opts.signal)
      if (early !== undefined) {
        const stopped = walking.stop()
        return this.answer(key, early, local, { elapsedMs: elapsed(), asked: answers.size, hops: stopped.rounds + 2, walked: true, walk: stopped })
      }
      const walked = await walking.result
      outcome = walked.outcome
      if (outcome.ended !== 'complete') {
        walkError = outcome.ended === 'cut-short' ? `cut short at its bound after ${outcome.queries} queries, ${outcome.rounds} rounds` : outcome.error ?? 'failed'
        this.log(`walk toward ${mnId.slice(0, 80)} ${outcome.ended === 'cut-short' ? 'was' : 'failed:'} ${walkError}`)
      }
      // The walk's members answered it a moment ago: one backing off, or that failed a GET in the
      // first round, is asked (again) rather than passed over.
      const closest = walked.closest.filter(p => this.services.membership.isMember(p))
      askAgainIfFailed(closest, answers)
      // A walk that did not end leaves no proof: the members this MAAR happened to know prove nothing.
      if (outcome.ended !== 'complete') proof = undefined
      if (closest.length > 0) {
        // Only the key's closest members can prove a miss now. When the first `fanout` of them
        // hold nothing, the rest of the walk's set (the kad-dht put's 20) is asked in one more
        // round: a record put while tables were filling may sit a few places further out.
        const near = await this.askClosest(closest, closest.length, answers, key, validated, opts.signal)
        if (near.best !== undefined) return this.answer(key, near.best, local, { elapsedMs: elapsed(), asked: answers.size, hops: walked.rounds + 2, walked: true, walk: outcome })
        if (outcome.ended === 'complete') proof = closestAbsent(closest, answers, this.fanout)
      }
    }
    if (local !== undefined) return this.answer(key, undefined, local, { elapsedMs: elapsed(), asked: answers.size, hops: 1, walked: walk, ...(outcome !== undefined ? { walk: outcome } : {}) })
    if (proof !== undefined && proof.absent >= proof.required) return undefined // enough of the key's members hold no record of this MN
    const viaDht = await this.dhtGet(key, opts.signal)
    if (viaDht === undefined) throw new LookupIncompleteError(mnId, proof?.absent ?? 0, proof?.required ?? required, answers.size, walkError, outcome)
    return { ...viaDht, elapsedMs: elapsed(), asked: answers.size + viaDht.asked, hops: 0, walked: false, ...(outcome !== undefined ? { walk: outcome } : {}) }
  }

  /**
   * Asks the first `fanout` of `peers` (closest first), then, while fewer than `required` of those
   * asked said "not found", as many more as are missing; a peer already in `answers` is not asked
   * again. Stops at the first record.
   */
  private async askClosest (peers: PeerId[], required: number, answers: Map<string, MemberAnswer | undefined>, key: Uint8Array, validated: Validated, signal?: AbortSignal): Promise<{ best?: StoredRecord, absent: number }> {
    let next = 0
    let best: StoredRecord | undefined
    const absent = (): number => peers.slice(0, next).filter(p => answers.get(p.toString())?.kind === 'absent').length
    for (let want = this.fanout; want > 0 && next < peers.length; want = required - absent()) {
      const batch = peers.slice(next, next + want)
      next += batch.length
      const fresh = batch.filter(p => !answers.has(p.toString()))
      const got = await Promise.all(fresh.map(async peer => await this.getFrom(peer, key, validated, signal)))
      fresh.forEach((p, i) => answers.set(p.toString(), got[i]))
      for (const a of got) if (a?.kind === 'found' && (best === undefined || isNewer(a.entry.record, best.record))) best = a.entry
      if (best !== undefined) break
    }
    return best === undefined ? { absent: absent() } : { best, absent: absent() }
  }

  /**
   * When `walking` is still under way after walkEarlyMs, asks the closest members it met so far
   * (one that failed a GET in the first round again: it just answered the walk) and returns the
   * newest record they hold. Their "not found" is kept in `answers` but proves nothing yet.
   */
  private async askEarly (walking: KeyWalk, answers: Map<string, MemberAnswer | undefined>, key: Uint8Array, validated: Validated, signal?: AbortSignal): Promise<StoredRecord | undefined> {
    let timer: NodeJS.Timeout | undefined
    const early = new Promise<'early'>(resolve => { timer = setTimeout(() => { resolve('early') }, this.init.walkEarlyMs) })
    const first = await Promise.race([walking.result, early])
    clearTimeout(timer)
    if (first !== 'early') return undefined
    const met = walking.closestSoFar()
    askAgainIfFailed(met, answers)
    return (await this.askClosest(met, met.length, answers, key, validated, signal)).best
  }

  /**
   * The winning copy: the local one ('cache') when it is newer than the members' answer or none
   * came, else the members' ('direct'; a local copy that peers confirm is 'direct' too).
   */
  private answer (key: Uint8Array, best: StoredRecord | undefined, local: StoredRecord | undefined, how: Pick<LookupResult, 'elapsedMs' | 'asked' | 'hops' | 'walked' | 'walk'>): LookupResult {
    lookupStep('lookup-decided')
    if (local !== undefined && (best === undefined || isNewer(local.record, best.record))) {
      return withCertificates({ record: local.record, signer: local.signer, source: 'cache' as const, ...how }, local.bytes)
    }
    if (best === undefined) throw new Error('no copy to answer with')
    this.services.sessions.keep(key, best)
    return withCertificates({ record: best.record, signer: best.signer, source: 'direct' as const, ...how }, best.bytes)
  }

  /** Plain kad-dht get(), for the benchmark's comparison and as the fallback. */
  async lookupStock (mnId: string): Promise<LookupResult | undefined> {
    const t0 = performance.now()
    const found = await this.dhtGet(sessionKey(mnId))
    return found === undefined ? undefined : { ...found, elapsedMs: performance.now() - t0 }
  }

  /** undefined = no answer that counts: the peer failed, refused, is not a member or sent a forged record. */
  private async getFrom (peer: PeerId, key: Uint8Array, validated: Validated, signal?: AbortSignal): Promise<MemberAnswer | undefined> {
    let answer
    try {
      const header = { op: 'get', key: new TextDecoder().decode(key) } as const
      // A member not connected yet is dialled under its own, longer bound (connection set-up is
      // several round trips on a loaded host): a cold MAAR answers its first lookups slower,
      // not "incomplete". The request and its answer keep the short bound.
      if (this.node.getConnections(peer).length === 0) await this.node.dial(peer, { signal: requestSignal(this.init.dialTimeoutMs, signal) })
      const bounded = timeoutSignal(this.init.requestTimeoutMs, signal)
      lookupStep('get-sent', peer.toString())
      try {
        answer = await shaped(this.init.shaper, { peer: peer.toString(), ...header }, async () => await requestRecord(this.node, peer, requestFrames(header, this.init.certificate), bounded.signal, this.init.trust))
      } finally {
        bounded.clear()
      }
    } catch (err) {
      this.members.failed(peer, 'get', err)
      return undefined
    }
    if (!answer.header.ok) {
      this.log(`record get refused by ${peer.toString()}: ${answer.header.error ?? 'no reason given'}`)
      return undefined
    }
    lookupStep('answer-read', peer.toString())
    if (answer.record === undefined) return { kind: 'absent' }
    const same = validated.find(answer.record)
    if (same !== undefined) return { kind: 'found', entry: same }
    try {
      lookupStep('validate-start', peer.toString())
      const { record, signer } = await openSessionRecord(answer.record, this.init.trust, { key })
      lookupStep('validated', peer.toString())
      return { kind: 'found', entry: validated.add({ bytes: answer.record, record, signer, storedAt: Date.now() }) }
    } catch (err) {
      if (!(err instanceof RecordError)) throw err
      this.log(`dropped record from ${peer.toString()}: ${err.message}`)
      return undefined
    }
  }

  private async dhtGet (key: Uint8Array, outer?: AbortSignal): Promise<Omit<LookupResult, 'elapsedMs'> | undefined> {
    const timeout = AbortSignal.timeout(this.init.dhtTimeoutMs)
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
      return withCertificates({ record, signer, source: 'dht' as const, asked }, value)
    } catch (err) {
      if (!(err instanceof RecordError)) throw err
      this.log(`dropped record from the DHT: ${err.message}`)
      return undefined
    }
  }
}

/**
 * The copies one lookup has validated (and the local copy, validated when it was stored): an
 * answer with the same bytes is the same signed record, so it needs no second check.
 */
class Validated {
  private readonly entries: StoredRecord[] = []

  constructor (local: StoredRecord | undefined) {
    if (local !== undefined) this.entries.push(local)
  }

  find (bytes: Uint8Array): StoredRecord | undefined {
    return this.entries.find(e => bytesEqual(e.bytes, bytes))
  }

  add (entry: StoredRecord): StoredRecord {
    this.entries.push(entry)
    return entry
  }
}

/** `result` with `certificates` read from the record's bytes when first asked for (once). */
function withCertificates<T extends object> (result: T, bytes: Uint8Array): T & { readonly certificates: Uint8Array[] } {
  let certificates: Uint8Array[] | undefined
  return Object.defineProperty(result, 'certificates', { enumerable: true, get: () => (certificates ??= recordCertificates(bytes)) }) as T & { readonly certificates: Uint8Array[] }
}

/** "Not found" answers among the `fanout` closest of `set` (closest first), and how many are required: all of them, at least 1. */
function closestAbsent (set: PeerId[], answers: Map<string, MemberAnswer | undefined>, fanout: number): { absent: number, required: number } {
  const top = set.slice(0, fanout)
  return { absent: top.filter(p => answers.get(p.toString())?.kind === 'absent').length, required: Math.max(1, top.length) }
}

/** Forgets the failed GETs (no answer that counts) of `peers`, so that askClosest asks them again: they just answered a walk. */
function askAgainIfFailed (peers: PeerId[], answers: Map<string, MemberAnswer | undefined>): void {
  for (const p of peers) if (answers.has(p.toString()) && answers.get(p.toString()) === undefined) answers.delete(p.toString())
}
