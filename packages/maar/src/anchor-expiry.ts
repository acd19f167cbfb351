/**
 * De-registration variant (b) of draft-bernardos-dmm-pmip §3.5, the P-MAAR's part: what this MAAR
 * anchors for an MN served elsewhere carries the registration's lifetime; when it runs out, the
 * P-MAAR sends its de-registration to the CMD, which renews it with a non-zero lifetime while the
 * MN is still in the domain, or accepts it (lifetime 0) and the prefixes are released.
 * The same check ends what a bounded cross-border policy granted (federated-anchoring.ts): its
 * `renew` always answers 0.
 */
import type { Bindings } from './bindings.js'
import type { Logger } from './logger.js'
import type { AnchorSignaller } from './signaller.js'
import type { TimestampSource } from './timestamps.js'

export class AnchorExpiry {
  constructor (
    private readonly bindings: Bindings,
    private readonly renew: NonNullable<AnchorSignaller['renewAnchor']>,
    private readonly timestamps: TimestampSource,
    private readonly clock: () => number,
    private readonly log: Logger,
    /** Said in the log when a registration is released. */
    private readonly endedBy = 'the CMD ended the session'
  ) {}

  /** Asks the CMD about every anchored registration whose lifetime ran out. */
  async check (): Promise<void> {
    const now = this.clock()
    for (const e of this.bindings.all()) {
      if (e.attached || e.expiresAt === undefined || e.expiresAt > now) continue
      await this.bindings.withMn(e.mnId, async () => {
        const current = this.bindings.get(e.mnId)
        if (current === undefined || current.attached || current.expiresAt === undefined || current.expiresAt > this.clock()) return
        const lifetime = await this.renew({ mnId: current.mnId, sequence: current.lastUpdate.sequence, timestampMs: this.timestamps.next(), prefixes: current.localPrefixes })
        if (lifetime === undefined) {
          this.log.warn('anchored registration expired, the CMD did not answer: asked again at the next check', { mn: current.mnId })
        } else if (lifetime > 0) {
          await this.bindings.commit({ put: [{ ...current, expiresAt: this.clock() + lifetime * 1000, updatedAt: this.clock() }] })
          this.log.info('anchored registration renewed by the CMD', { mn: current.mnId, lifetime })
        } else {
          await this.bindings.commit({ delete: [current.mnId], release: current.localPrefixes })
          await this.bindings.program()
          this.log.info(`released prefixes: ${this.endedBy}`, { mn: current.mnId, prefixes: current.localPrefixes.join(',') })
        }
      })
    }
  }
}
