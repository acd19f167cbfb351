/**
 * Step 7 of a handover (doc/ARCHITECTURE.md "A handover"): the serving MAAR tells the domain where
 * the MN is now by publishing its session record (serving MAAR, every anchor, a higher sequence),
 * and withdraws it when the session ends. Off the critical path: nothing waits for it but stop()
 * and tests (settled()); a failure is logged.
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { Discovery, SessionRecord } from '@dmm-mesh/discovery'
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
  log: Logger
}

export class SessionPublisher {
  private readonly background = new BackgroundWork()

  constructor (private readonly init: SessionPublisherInit) {}

  /** The record of a session this MAAR serves: its own prefixes and every remote anchor. */
  recordOf (entry: BindingCacheEntry): SessionRecord {
    const { lifetime } = this.init
    const self = this.init.self()
    return {
      mnId: entry.mnId,
      sequence: entry.sessionSequence,
      issuedAt: Math.max(this.init.clock(), entry.lastUpdate.timestampMs), // never before the registration it describes
      serving: self,
      anchors: [
        ...entry.localPrefixes.map(prefix => ({ ...self, prefix, lifetime })),
        ...entry.remoteAnchors.map(a => ({ ...a, lifetime }))
      ]
    }
  }

  publish (entry: BindingCacheEntry): void {
    const certificates = PMaarList.of(entry.remoteAnchors).refs().flatMap(a => {
      const known = this.init.knownPeer(a.peerId)
      return known === undefined ? [] : [known.certificate]
    })
    this.background.track(this.init.discovery.publish(this.recordOf(entry), certificates)
      .catch(err => { this.init.log.warn('publishing session record failed', { mn: entry.mnId, error: String(err) }) }))
  }

  withdraw (mnId: string, sequence: number): void {
    this.background.track(this.init.discovery.withdraw(mnId, sequence)
      .catch(err => { this.init.log.warn('withdrawing session record failed', { mn: mnId, error: String(err) }) }))
  }

  async settled (): Promise<void> {
    await this.background.settled()
  }
}
