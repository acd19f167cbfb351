/**
 * The serving side of a MAAR (RFC 8885 §3.1 as S-MAAR, the MAG role of RFC 5213 §6): an MN
 * attaches (first attach, handover, return home or refresh), stays present, its registration is
 * refreshed, and when it has left and its lifetime ran out the serving MAAR de-registers it
 * (draft-bernardos-dmm-pmip §3.5: only the serving MAAR does).
 *
 * A handover follows doc/ARCHITECTURE.md "A handover": look the session up, commit the intent
 * (the prefix reserved, every P-MAAR pending), signal the previous anchors, commit what they
 * answered and program, publish; anchors that did not answer are retransmitted to.
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { Discovery, SessionRecord } from '@dmm-mesh/discovery'
import { maarRef } from '@dmm-mesh/wire'
import { MAX_SESSION_SEQUENCE } from '@dmm-mesh/discovery'
import { AttachDeferredError, AttachError, validateAttach } from './attach-request.js'
import type { AttachRequest } from './attach-request.js'
import type { Bindings } from './bindings.js'
import { handoverReport, roundMs } from './handover-report.js'
import type { HandoverReport, PeerOutcome } from './handover-report.js'
import type { Logger } from './logger.js'
import { secondsSince } from './metrics.js'
import type { MaarMetrics } from './metrics.js'
import { PMaarList } from './pmaar-list.js'
import type { Presence } from './presence.js'
import type { PrefixDelegation } from './prefix-reservation.js'
import type { SessionPublisher } from './session-publisher.js'
import type { LateAnswer } from './pbu-retransmission.js'
import type { AnchorSignaller, Registration } from './signaller.js'
import type { TimestampSource } from './timestamps.js'

export interface ServingSideInit {
  name: string
  address: string
  /** Registration lifetime, seconds. */
  lifetime: number
  /** This MAAR's peer id (its multiaddrs are not needed here, and listing them costs a walk of libp2p's address manager). */
  peerId: string
  clock: () => number
  log: Logger
  metrics: MaarMetrics
}

export interface ServingSideParts {
  bindings: Bindings
  presence: Presence
  /** Its own prefixes for a new MN: one from its pool, or none (a legacy MAG, legacy-lma.ts). */
  reservation: PrefixDelegation
  discovery: Discovery
  signaller: AnchorSignaller
  publisher: SessionPublisher
  timestamps: TimestampSource
}

export class ServingSide {
  /** MNs found attached in the cache at start: present again only once their link says so. */
  private readonly unconfirmed = new Set<string>()

  constructor (private readonly parts: ServingSideParts, private readonly init: ServingSideInit) {}

  /**
   * After a restart: an MN served before is not taken as present until it attaches again (its
   * registration otherwise runs out), and anchors that had not answered are tried again.
   */
  restore (entries: BindingCacheEntry[]): void {
    for (const e of entries) {
      if (!e.attached) continue
      this.unconfirmed.add(e.mnId)
      const pending = PMaarList.of(e.remoteAnchors.filter(a => a.pendingUntil !== undefined), this.init.peerId)
      if (pending.size > 0) this.parts.signaller.retransmit(this.registrationOf(e, pending), p => this.deadline(e, p.ref.peerId), 0)
    }
  }

  /** An MN attached to this MAAR's access link (the attach trigger, RFC 5213 §6.9.1.1). */
  async attach (req: AttachRequest): Promise<HandoverReport> {
    validateAttach(req)
    const t0 = performance.now()
    try {
      const report = await this.parts.bindings.withMn(req.mnId, async () => await this.attachLocked(req))
      this.init.metrics.handover(report.kind, report.complete ? 'complete' : 'partial', report.totalMs / 1000)
      return report
    } catch (err) {
      this.init.metrics.handover('unknown', err instanceof AttachDeferredError ? 'deferred' : 'failed', secondsSince(t0))
      throw err
    }
  }

  private async attachLocked (req: AttachRequest): Promise<HandoverReport> {
    const { bindings, presence } = this.parts
    const t0 = performance.now()
    const now = this.init.clock()
    const access = { link: req.accessLink, linkLayerId: req.linkLayerId, accessTechnology: req.accessTechnology ?? 3 }
    const existing = bindings.get(req.mnId)
    presence.arrived(req.mnId)

    // Held as attached here is no proof that the MN stayed: it may have moved to another MAAR
    // and come back before this MAAR was told (in locator and proxy mode the CMD answers the new
    // serving MAAR before its forward arrives here, draft-bernardos-dmm-pmip §3.3–3.4). An attach
    // trigger (RFC 5213 §6.9.1.1) is therefore registered again, with a timestamp after any
    // registration made meanwhile (RFC 5213 §5.5), so that the domain's view follows the MN;
    // lifetime refreshes of an MN that stays need none (checkLifetimes). Attached here before a
    // restart: the same, reported as a return.
    const restarted = this.unconfirmed.delete(req.mnId)
    const again = existing?.attached === true && !restarted

    // Who anchors this MN's other prefixes? Asked here only when the signaller needs it: a CMD
    // knows them itself (draft-bernardos-dmm-pmip §3).
    const tLookup = performance.now()
    const found = !this.parts.signaller.needsSessionRecord ? undefined : await this.parts.discovery.lookup(req.mnId).catch(err => {
      this.init.metrics.lookup('failed', secondsSince(tLookup))
      // Not knowing is not "no session": a guessed first attach would give the MN two serving MAARs.
      this.init.log.warn('session lookup failed; attach deferred', { mn: req.mnId, error: String(err) })
      throw new AttachDeferredError(`cannot tell whether ${req.mnId} has a session (${err instanceof Error ? err.message : String(err)}); try again`, { cause: err })
    })
    const lookupMs = performance.now() - tLookup
    this.init.metrics.lookup(found?.source ?? 'none', lookupMs / 1000)
    const record: SessionRecord | undefined = found?.record.serving === null ? undefined : found?.record

    // Ordered after the registration it replaces (RFC 5213 §5.5); above a withdrawn record's
    // sequence too, or the new session could never replace it.
    const timestampMs = this.parts.timestamps.next(Math.max(record?.issuedAt ?? 0, existing?.lastUpdate.timestampMs ?? 0))
    const sequence = Math.max(found?.record.sequence ?? 0, existing?.sessionSequence ?? 0, existing?.lastUpdate.sequence ?? 0) + 1
    if (sequence > MAX_SESSION_SEQUENCE) throw new AttachError(`the session of ${req.mnId} is at sequence ${sequence - 1}, the highest a record may carry (${MAX_SESSION_SEQUENCE}); de-register it first`)
    const previous = previousMaars(this.init.peerId, record, existing)
    // Streams to P-MAARs not talked to lately open while the intent is committed, not after it.
    this.parts.signaller.connect?.(previous)
    const deadlines = anchorDeadlines(record, this.expiry(now))

    // The prefix reservation, made durable with the intent to register: the BCE names every P-MAAR as pending
    // before any PBU leaves, so a crash between their PBAs and the final commit still leaves
    // this MAAR knowing it may serve the MN (restore() retransmits, the lifetime ends it).
    const intent = (localPrefixes: string[], createdAt: number): BindingCacheEntry => ({
      mnId: req.mnId,
      localPrefixes,
      attached: true,
      access,
      remoteAnchors: previous.entries().flatMap(p => p.prefixes.map(prefix => ({ ...p.ref, prefix, pendingUntil: deadlines(prefix) }))),
      lastUpdate: { sequence, timestampMs },
      sessionSequence: sequence,
      expiresAt: this.expiry(now),
      createdAt,
      updatedAt: now
    })
    let entry: BindingCacheEntry
    // The delegation ledger's append of a new prefix runs while the PBUs are out; the MN is given
    // the prefix (final commit, data plane) only once it is done (prefix-reservation.ts).
    let delegated: Promise<void> = Promise.resolve()
    if (existing === undefined) {
      ({ entry, delegated } = await this.parts.reservation.reserve(req.mnId, prefixes => intent(prefixes, now)))
    } else {
      // An MN returning to a MAAR that anchors it keeps the prefix it had here.
      entry = intent(existing.localPrefixes, existing.createdAt)
      await bindings.commit({ put: [entry] })
    }

    // Every P-MAAR learns the new registration.
    const tSignal = performance.now()
    const registration = this.registrationOf(entry, previous)
    const signalled = await this.parts.signaller.register(registration).catch(async err => {
      // Nobody could say who the P-MAARs are (a CMD down with no fallback): as for a failed
      // lookup, the attach is deferred, and the intent undone so that the retry registers again.
      await this.undoIntent(entry, existing)
      this.init.log.warn('signalling failed; attach deferred', { mn: req.mnId, error: String(err) })
      throw new AttachDeferredError(`cannot reach the anchors of ${req.mnId} (${err instanceof Error ? err.message : String(err)}); try again`, { cause: err })
    })
    const signallingMs = performance.now() - tSignal

    // Commit the BCE with its P-MAAR list, program this side. Anchors that did not
    // answer stay in the session, pending, while their lifetime lasts.
    const unanswered = new Set(signalled.pending.map(p => p.ref.peerId))
    const stillPending = entry.remoteAnchors.filter(a => unanswered.has(a.peerId) && !signalled.anchors.some(x => x.prefix === a.prefix))
    // Pending anchors the signaller learnt of (a CMD names them) join the session too.
    for (const p of signalled.pending) {
      for (const prefix of p.prefixes) {
        if (![...signalled.anchors, ...stillPending].some(x => x.prefix === prefix)) stillPending.push({ ...p.ref, prefix, pendingUntil: deadlines(prefix) })
      }
    }
    entry = { ...entry, remoteAnchors: [...signalled.anchors, ...stillPending], sessionSequence: Math.max(entry.sessionSequence, signalled.sessionSequence ?? 0) }
    // Not synced: the intent on disk already names every P-MAAR (pending), so a crash before the
    // next synced write only leaves them pending, and restore() asks them again (same sequence and
    // timestamp, RFC 5213 §6.9.4: an anchor answers a repeat with ACCEPTED, doc/ARCHITECTURE.md "Faults").
    await Promise.all([bindings.commit({ put: [entry] }, { sync: false }), delegated])
    const programMs = await bindings.timedProgram()
    const totalMs = performance.now() - t0
    if (signalled.pending.length > 0) {
      const retry = new PMaarList(this.init.peerId)
      for (const p of signalled.pending) for (const prefix of p.prefixes.length > 0 ? p.prefixes : [undefined]) retry.add(p.ref, prefix)
      this.parts.signaller.retransmit({ ...registration, previous: retry }, p => this.deadline(entry, p.ref.peerId))
    }

    // Publish the new session, off the critical path.
    this.parts.publisher.publish(entry, found?.certificates)
    // A handover whenever the domain knew a session: from the record, or from who answered.
    // The signaller may know better (an LMA that delegated the prefix just now, legacy-signaller.ts).
    const knownBefore = signalled.knownBefore ?? (record !== undefined || signalled.anchors.length > 0 || signalled.pending.length > 0)
    const kind = existing === undefined ? (knownBefore ? 'handover' : 'first-attach') : again ? 'refresh' : 'return'
    this.init.log.info(kind, {
      mn: req.mnId,
      prefix: entry.localPrefixes[0],
      anchors: entry.remoteAnchors.map(a => `${a.prefix}@${a.address}${a.pendingUntil !== undefined ? '(pending)' : ''}`).join(',') || 'none',
      lookupMs: roundMs(lookupMs),
      signallingMs: roundMs(signallingMs),
      totalMs: roundMs(totalMs)
    })
    return this.report(entry, kind, {
      lookupMs, lookupSource: found?.source ?? 'none', signallingMs, programMs, totalMs, peers: signalled.peers, referralsFollowed: signalled.referralsFollowed
    })
  }

  /** Puts back what the MN had here before an attach whose signalling failed. */
  private async undoIntent (intent: BindingCacheEntry, existing: BindingCacheEntry | undefined): Promise<void> {
    if (existing !== undefined) await this.parts.bindings.commit({ put: [existing] })
    else await this.parts.bindings.commit({ delete: [intent.mnId], release: intent.localPrefixes })
  }

  /** Is `sequence` still the MN's registration here (retransmissions of older ones stop)? */
  isCurrent (mnId: string, sequence: number): boolean {
    const e = this.parts.bindings.get(mnId)
    return e?.attached === true && e.lastUpdate.sequence === sequence
  }

  /**
   * A P-MAAR answered a retransmitted PBU, refused it, or its lifetime ran out first: its
   * prefixes join the session, or leave it (RFC 5213 §6.9.4); the record is published again.
   */
  async lateAnswer (a: LateAnswer): Promise<void> {
    const { bindings } = this.parts
    await bindings.withMn(a.mnId, async () => {
      const entry = bindings.get(a.mnId)
      if (entry?.attached !== true || entry.lastUpdate.sequence !== a.sequence) return
      const now = this.init.clock()
      const remoteAnchors = entry.remoteAnchors.filter(x => x.peerId !== a.peer.peerId)
      const ack = a.result?.ack
      const from = a.result?.from
      if (a.kind === 'accepted' && ack !== undefined && from !== undefined) {
        for (const prefix of ack.anchoredPrefixes) {
          if (!remoteAnchors.some(x => x.prefix === prefix)) remoteAnchors.push({ prefix, ...maarRef(from) })
        }
        // The late anchor may know MAARs holding state of the MN that this session lacks.
        const fresh = new PMaarList(this.init.peerId)
        for (const r of ack.referrals) if (!remoteAnchors.some(x => x.peerId === r.peerId)) fresh.add(r)
        if (fresh.size > 0) this.parts.signaller.retransmit(this.registrationOf(entry, fresh), () => this.expiry(now), 0)
      }
      const dropped = entry.remoteAnchors.filter(x => x.peerId === a.peer.peerId && !remoteAnchors.some(y => y.prefix === x.prefix)).map(x => x.prefix)
      this.init.log.info(a.kind === 'accepted' ? 'late PBA from anchor' : 'pending anchor left the session', {
        mn: a.mnId, peer: a.peer.peerId, outcome: a.kind, status: a.result?.outcome.status ?? 'none', dropped: dropped.join(',') || 'none',
        // A refusal's reason (RFC 5094 vendor option), as the attach's report gives a first PBA's.
        ...(a.result?.outcome.error !== undefined ? { reason: a.result.outcome.error } : {})
      })
      const updated: BindingCacheEntry = { ...entry, remoteAnchors, updatedAt: now }
      await bindings.commit({ put: [updated] })
      await bindings.program()
      this.parts.publisher.publish(updated)
    })
  }

  /** The MN left this MAAR's link: its registration is no longer refreshed and expires. */
  async detach (mnId: string): Promise<void> {
    this.parts.presence.left(mnId)
    this.init.log.info('detached', { mn: mnId })
  }

  /** Refreshes registrations of MNs still present; de-registers those whose lifetime ran out. */
  async checkLifetimes (): Promise<void> {
    const { bindings, presence } = this.parts
    const now = this.init.clock()
    for (const e of bindings.all()) {
      if (!e.attached || e.expiresAt === undefined) continue
      if (presence.has(e.mnId) && !this.unconfirmed.has(e.mnId)) {
        if (e.expiresAt - now < (this.init.lifetime * 1000) / 2) {
          await bindings.withMn(e.mnId, async () => {
            const current = bindings.get(e.mnId)
            if (current?.attached !== true) return
            const refreshed = { ...current, expiresAt: this.expiry(now), updatedAt: now }
            await bindings.commit({ put: [refreshed] })
            // Record holders drop values after a while and forget them when they restart: the
            // serving MAAR puts its record again with each refresh.
            this.parts.publisher.publish(refreshed)
          })
        }
      } else if (e.expiresAt <= now) {
        await this.deregister(e.mnId, 'lifetime expired')
      }
    }
  }

  /** Ends the MN's whole mobility session: lifetime-0 PBUs to every anchor, record withdrawn. */
  async deregister (mnId: string, reason = 'requested'): Promise<PeerOutcome[]> {
    const { bindings } = this.parts
    let ended: BindingCacheEntry | undefined
    const outcomes = await bindings.withMn(mnId, async () => {
      const entry = bindings.get(mnId)
      if (entry?.attached !== true) return []
      this.parts.signaller.cancel(mnId)
      const outcomes = await this.parts.signaller.deregister({
        mnId,
        sequence: entry.sessionSequence + 1,
        timestampMs: this.parts.timestamps.next(),
        anchors: PMaarList.of(entry.remoteAnchors),
        // Retried until the MN registers here again (RFC 5213 §6.9.4). A retry may come before
        // the end below is committed (another anchor still being waited for, a slow write):
        // the entry then still holds the registration being ended, which is no new one.
        stillWanted: () => bindings.get(mnId)?.attached !== true || this.isCurrent(mnId, entry.lastUpdate.sequence),
        until: this.expiry(this.init.clock())
      })
      this.parts.presence.left(mnId)
      this.unconfirmed.delete(mnId)
      await bindings.commit({ delete: [mnId], release: entry.localPrefixes })
      await bindings.program()
      ended = entry
      this.init.log.info('de-registered', { mn: mnId, reason, anchors: outcomes.map(o => `${o.address}:${o.status}`).join(',') || 'none' })
      return outcomes
    })
    if (ended !== undefined) await this.withdrawIfOurs(ended)
    return outcomes
  }

  /**
   * Withdraws the session record only while it is still the one this MAAR published. A MAAR that
   * was cut off or down while its MN moved on would otherwise end, with a withdrawal of the same
   * sequence and a later issuedAt, the session the new serving MAAR runs. Not knowing is no
   * licence either: a stale record naming this MAAR only costs the next serving MAAR one refused
   * PBU (it holds no binding here any more), a wrong withdrawal loses the MN's session.
   */
  private async withdrawIfOurs (entry: BindingCacheEntry): Promise<void> {
    const record = await this.parts.discovery.lookup(entry.mnId).then(found => found?.record, err => {
      this.init.log.warn('session lookup failed; record not withdrawn', { mn: entry.mnId, error: String(err) })
      return null
    })
    if (record === null || record === undefined || record.serving === null) return
    if (record.serving.peerId !== this.init.peerId || record.sequence > entry.sessionSequence) {
      this.init.log.info('session moved on; record left to its serving MAAR', { mn: entry.mnId, serving: record.serving.address, sequence: record.sequence })
      return
    }
    this.parts.publisher.withdraw(entry.mnId, entry.sessionSequence + 1)
  }

  /** The registration an attached entry holds, for the P-MAARs of `previous`. */
  private registrationOf (e: BindingCacheEntry, previous: PMaarList): Registration {
    return {
      mnId: e.mnId,
      sequence: e.lastUpdate.sequence,
      timestampMs: e.lastUpdate.timestampMs,
      lifetime: this.init.lifetime,
      ...(e.localPrefixes[0] !== undefined ? { localPrefix: e.localPrefixes[0] } : {}),
      servingAddress: this.init.address,
      accessTechnology: e.access?.accessTechnology ?? 3,
      previous
    }
  }

  /** How long a pending P-MAAR is retried: the latest lifetime of its prefixes, or ours. */
  private deadline (e: BindingCacheEntry, peerId: string): number {
    const until = e.remoteAnchors.filter(a => a.peerId === peerId).map(a => a.pendingUntil ?? 0)
    return until.length > 0 ? Math.max(...until) : this.expiry(this.init.clock())
  }

  private expiry (now: number): number {
    return now + this.init.lifetime * 1000
  }

  private report (entry: BindingCacheEntry, kind: HandoverReport['kind'], figures: Parameters<typeof handoverReport>[3]): HandoverReport {
    return handoverReport(this.init, entry, kind, figures)
  }
}

/** When each prefix's anchor registration ends, from the record; `fallback` for a prefix it does not name. */
function anchorDeadlines (record: SessionRecord | undefined, fallback: number): (prefix: string) => number {
  return prefix => {
    const a = record?.anchors.find(x => x.prefix === prefix)
    return a === undefined || record === undefined ? fallback : record.issuedAt + a.lifetime * 1000
  }
}

/**
 * The P-MAARs to signal: the record's anchors and serving MAAR and, when this MAAR anchors the MN
 * (it is returning), the serving MAAR this MAAR knows of, which may be newer than the record.
 */
function previousMaars (self: string, record: SessionRecord | undefined, existing: BindingCacheEntry | undefined): PMaarList {
  const list = PMaarList.of(record?.anchors ?? [], self)
  if (record?.serving != null) list.add(record.serving)
  if (existing?.servingMaar !== undefined) list.add(existing.servingMaar)
  // Served here before a restart: the anchors it had then.
  for (const a of existing?.remoteAnchors ?? []) list.add(a, a.prefix)
  return list
}
