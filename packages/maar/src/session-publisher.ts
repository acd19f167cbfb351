/**
 * Step 7 of a handover (doc/ARCHITECTURE.md "A handover"): the serving MAAR tells the domain where
 * the MN is now by publishing its session record (serving MAAR, every anchor, a higher sequence),
 * and withdraws it when the session ends. Off the critical path: nothing waits for it but stop()
 * and tests (settled()); a failure is logged.
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { Discovery, SessionRecord, TrustStore } from '@dmm-mesh/discovery'
import { maarRef } from '@dmm-mesh/wire'
import type { MaarRef } from '@dmm-mesh/wire'
import { BackgroundWork } from './background.js'
import type { Logger } from './logger.js'
import { PMaarList } from './pmaar-list.js'
import type { KnownMaar } from './peer-table.js'

export interface SessionPublisherInit {
  discovery: Discovery
  self: () => MaarRef
  /** Seconds every anchor's record entry stays valid. */
  lifetime: number
  clock: () => number
  /** Certificates of the anchors a record names, as met on the signalling transport. */
  knownPeer: (peerId: string) => KnownMaar | undefined
  /**
   * Meets an anchor not met yet (its certificate from the transport's hellos): with a CMD, the
   * P-MAARs answer the CMD, not this MAAR (draft-bernardos-dmm-pmip §3.2, §3.4).
   */
  meet?: (peer: MaarRef) => Promise<KnownMaar>
  /** Checks certificates taken from a looked-up record before they prove anything here. */
  trust: TrustStore
  log: Logger
}

export class SessionPublisher {
  private readonly background = new BackgroundWork()
  /** Certificates of anchors this MAAR has not met on the transport, taken from records. */
  private readonly learned = new Map<string, Uint8Array>()

  constructor (private readonly init: SessionPublisherInit) {}

  /** The record of a session this MAAR serves: its own prefixes and every remote anchor. */
  recordOf (entry: BindingCacheEntry): SessionRecord {
    const { lifetime } = this.init
    const self = this.init.self()
    return {
      mnId: entry.mnId,
      sequence: entry.sessionSequence,
      // Never before the registration it describes; whole ms (a stamp may hold a fraction of one).
      issuedAt: Math.ceil(Math.max(this.init.clock(), entry.lastUpdate.timestampMs)),
      serving: self,
      anchors: [
        ...entry.localPrefixes.map(prefix => ({ ...self, prefix, lifetime })),
        // A pending anchor stays in the session until its lifetime ends (RFC 5213 §6.9.4).
        ...entry.remoteAnchors.map(a => ({ ...maarRef(a), prefix: a.prefix, lifetime }))
      ]
    }
  }

  /**
   * Publishes the session `entry` describes. Every anchor it names needs its certificate in the
   * record: from the transport for MAARs met there, else from `recordCertificates` (those of the
   * record this registration replaced), which proves an anchor that has not answered yet.
   */
  publish (entry: BindingCacheEntry, recordCertificates: Uint8Array[] = []): void {
    this.background.track(this.certificatesFor(entry, recordCertificates)
      .then(async certificates => { await this.init.discovery.publish(this.recordOf(entry), certificates) })
      .catch(err => { this.init.log.warn('publishing session record failed', { mn: entry.mnId, error: String(err) }) }))
  }

  private async certificatesFor (entry: BindingCacheEntry, fromRecord: Uint8Array[]): Promise<Uint8Array[]> {
    const anchors = PMaarList.of(entry.remoteAnchors).refs()
    const unknown = anchors.filter(a => this.init.knownPeer(a.peerId) === undefined && !this.learned.has(a.peerId))
    if (unknown.length > 0) {
      for (const bytes of fromRecord) {
        const cert = await this.init.trust.verify(bytes).catch(() => undefined)
        if (cert !== undefined && unknown.some(a => a.peerId === cert.peerId)) this.learned.set(cert.peerId, bytes)
      }
    }
    for (const a of anchors) {
      if (this.init.knownPeer(a.peerId) !== undefined || this.learned.has(a.peerId) || this.init.meet === undefined) continue
      await this.init.meet(a).catch(err => { this.init.log.debug('anchor not met', { peer: a.peerId, error: String(err) }) })
    }
    return anchors.flatMap(a => {
      const bytes = this.init.knownPeer(a.peerId)?.certificate ?? this.learned.get(a.peerId)
      return bytes === undefined ? [] : [bytes]
    })
  }

  withdraw (mnId: string, sequence: number): void {
    this.background.track(this.init.discovery.withdraw(mnId, sequence)
      .catch(err => { this.init.log.warn('withdrawing session record failed', { mn: mnId, error: String(err) }) }))
  }

  async settled (): Promise<void> {
    await this.background.settled()
  }
}
