/**
 * The serving side of a MAAR (RFC 8885 §3.1 as S-MAAR, the MAG role of RFC 5213 §6): an MN
 * attaches (first attach, handover, return home or refresh), stays present, its registration is
 * refreshed, and when it has left and its lifetime ran out the serving MAAR de-registers it
 * (draft-bernardos-dmm-pmip §3.5: only the serving MAAR does).
 *
 * A handover follows doc/ARCHITECTURE.md "A handover": reserve a prefix (step 2), look the session
 * up (3), signal the previous anchors (4–5), commit and program (6), publish (7).
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { Discovery, SessionRecord } from '@dmm-mesh/discovery'
import type { MaarRef } from '@dmm-mesh/wire'
import { validateAttach } from './attach-request.js'
import type { AttachRequest } from './attach-request.js'
import type { Bindings } from './bindings.js'
import { handoverReport, roundMs } from './handover-report.js'
import type { HandoverReport, PeerOutcome } from './handover-report.js'
import type { Logger } from './logger.js'
import { PMaarList } from './pmaar-list.js'
import type { Presence } from './presence.js'
import type { PrefixReservation } from './prefix-reservation.js'
import type { SessionPublisher } from './session-publisher.js'
import type { AnchorSignaller } from './signaller.js'
import type { TimestampSource } from './timestamps.js'

export interface ServingSideInit {
  name: string
  address: string
  /** Registration lifetime, seconds. */
  lifetime: number
  self: () => MaarRef
  clock: () => number
  log: Logger
}

export interface ServingSideParts {
  bindings: Bindings
  presence: Presence
  reservation: PrefixReservation
  discovery: Discovery
  signaller: AnchorSignaller
  publisher: SessionPublisher
  timestamps: TimestampSource
}

export class ServingSide {
  constructor (private readonly parts: ServingSideParts, private readonly init: ServingSideInit) {}

  /** An MN attached to this MAAR's access link (the attach trigger, RFC 5213 §6.9.1.1). */
  async attach (req: AttachRequest): Promise<HandoverReport> {
    validateAttach(req)
    return await this.parts.bindings.withMn(req.mnId, async () => await this.attachLocked(req))
  }

  private async attachLocked (req: AttachRequest): Promise<HandoverReport> {
    const { bindings, presence } = this.parts
    const t0 = performance.now()
    const now = this.init.clock()
    const access = { link: req.accessLink, linkLayerId: req.linkLayerId, accessTechnology: req.accessTechnology ?? 3 }
    const existing = bindings.get(req.mnId)
    presence.arrived(req.mnId)

    if (existing?.attached === true) {
      // Same MAAR again: a refresh of the registration, nothing to signal.
      const refreshed = { ...existing, access, expiresAt: this.expiry(now), updatedAt: now }
      await bindings.commit({ put: [refreshed] })
      const programMs = await bindings.timedProgram()
      return this.report(refreshed, 'refresh', { lookupMs: 0, lookupSource: 'none', signallingMs: 0, programMs, totalMs: performance.now() - t0, peers: [], referralsFollowed: 0 })
    }

    // Step 2: reserve the prefix in a temporary BCE, durable before anything else. An MN
    // returning to a MAAR that anchors it keeps the prefix it had here.
    const pending = existing ?? await this.parts.reservation.reserve(req.mnId, now)

    // Step 3: who anchors this MN's other prefixes?
    const tLookup = performance.now()
    const found = await this.parts.discovery.lookup(req.mnId).catch(err => {
      this.init.log.warn('session lookup failed; treating as first attach', { mn: req.mnId, error: String(err) })
      return undefined
    })
    const lookupMs = performance.now() - tLookup
    const record: SessionRecord | undefined = found?.record.serving === null ? undefined : found?.record

    // Steps 4-5: every P-MAAR learns the new registration, ordered after the one it replaces.
    const timestampMs = this.parts.timestamps.next(Math.max(record?.issuedAt ?? 0, pending.lastUpdate.timestampMs))
    // Above a withdrawn record's sequence too, or the new session could never replace it.
    const sequence = Math.max(found?.record.sequence ?? 0, pending.sessionSequence, pending.lastUpdate.sequence) + 1
    const tSignal = performance.now()
    const signalled = await this.parts.signaller.register({
      mnId: req.mnId,
      sequence,
      timestampMs,
      lifetime: this.init.lifetime,
      localPrefix: pending.localPrefixes[0],
      servingAddress: this.init.address,
      accessTechnology: access.accessTechnology,
      previous: previousMaars(this.init.self().peerId, record, pending)
    })
    const signallingMs = performance.now() - tSignal

    // Step 6: commit the BCE with its P-MAAR list, program this side.
    const entry: BindingCacheEntry = {
      ...pending,
      attached: true,
      access,
      remoteAnchors: signalled.anchors,
      lastUpdate: { sequence, timestampMs },
      sessionSequence: sequence,
      expiresAt: this.expiry(now),
      updatedAt: now
    }
    delete entry.servingMaar
    await bindings.commit({ put: [entry] })
    const programMs = await bindings.timedProgram()
    const totalMs = performance.now() - t0

    // Step 7: publish the new session, off the critical path.
    this.parts.publisher.publish(entry)
    const kind = existing === undefined ? (record === undefined ? 'first-attach' : 'handover') : 'return'
    this.init.log.info(kind, {
      mn: req.mnId,
      prefix: entry.localPrefixes[0],
      anchors: entry.remoteAnchors.map(a => `${a.prefix}@${a.address}`).join(',') || 'none',
      lookupMs: roundMs(lookupMs),
      signallingMs: roundMs(signallingMs),
      totalMs: roundMs(totalMs)
    })
    return this.report(entry, kind, {
      lookupMs, lookupSource: found?.source ?? 'none', signallingMs, programMs, totalMs, peers: signalled.peers, referralsFollowed: signalled.referralsFollowed
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
      if (presence.has(e.mnId)) {
        if (e.expiresAt - now < (this.init.lifetime * 1000) / 2) {
          await bindings.withMn(e.mnId, async () => {
            const current = bindings.get(e.mnId)
            if (current?.attached === true) await bindings.commit({ put: [{ ...current, expiresAt: this.expiry(now), updatedAt: now }] })
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
    return await bindings.withMn(mnId, async () => {
      const entry = bindings.get(mnId)
      if (entry?.attached !== true) return []
      const outcomes = await this.parts.signaller.deregister({
        mnId, sequence: entry.sessionSequence + 1, timestampMs: this.parts.timestamps.next(), anchors: PMaarList.of(entry.remoteAnchors)
      })
      this.parts.presence.left(mnId)
      await bindings.commit({ delete: [mnId], release: entry.localPrefixes })
      await bindings.program()
      this.parts.publisher.withdraw(mnId, entry.sessionSequence + 1)
      this.init.log.info('de-registered', { mn: mnId, reason, anchors: outcomes.map(o => `${o.address}:${o.status}`).join(',') || 'none' })
      return outcomes
    })
  }

  private expiry (now: number): number {
    return now + this.init.lifetime * 1000
  }

  private report (entry: BindingCacheEntry, kind: HandoverReport['kind'], figures: Parameters<typeof handoverReport>[3]): HandoverReport {
    return handoverReport(this.init, entry, kind, figures)
  }
}

/**
 * The P-MAARs to signal: the record's anchors and serving MAAR and, when this MAAR anchors the MN
 * (it is returning), the serving MAAR this MAAR knows of, which may be newer than the record.
 */
function previousMaars (self: string, record: SessionRecord | undefined, pending: BindingCacheEntry): PMaarList {
  const list = PMaarList.of(record?.anchors ?? [], self)
  if (record?.serving != null) list.add(record.serving)
  if (pending.servingMaar !== undefined) list.add(pending.servingMaar)
  return list
}
