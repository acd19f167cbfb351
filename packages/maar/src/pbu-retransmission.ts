/**
 * PBU retransmission (RFC 5213 §6.9.4, after RFC 6275 §11.8): a P-MAAR that did not answer a
 * registration is sent the same PBU again — same sequence and timestamp, so it cannot overtake a
 * newer registration made elsewhere meanwhile — after InitialBindackTimeoutFirstReg, the wait
 * doubling each time up to MAX_BINDACK_TIMEOUT, until it answers, the registration is no longer
 * current, or the anchor's lifetime has run out (then the prefix leaves the session).
 */
import { BINDING_ACK_STATUS } from '@dmm-mesh/wire'
import type { MaarRef } from '@dmm-mesh/wire'
import type { Logger } from './logger.js'
import { noMetrics } from './metrics.js'
import type { MaarMetrics } from './metrics.js'
import type { ProxyUpdate } from './messages.js'
import type { PbuSender, PbuResult } from './pbu-sender.js'

export interface RetransmissionTiming {
  /** First wait (RFC 5213 §12 InitialBindackTimeoutFirstReg: 1 s). */
  initialMs: number
  /** Longest wait (RFC 6275 §12 MAX_BINDACK_TIMEOUT: 32 s). */
  maxMs: number
}

export const RFC5213_TIMING: RetransmissionTiming = { initialMs: 1000, maxMs: 32_000 }

/** How a retransmitted registration ended, reported to its owner. */
export interface LateAnswer {
  mnId: string
  sequence: number
  peer: MaarRef
  kind: 'accepted' | 'refused' | 'expired'
  /** The PBA's answer when one came. */
  result?: PbuResult
}

export interface RetransmitterHooks {
  /** Is the registration still the MN's current one here? A job for an old one stops. */
  isCurrent: (mnId: string, sequence: number) => boolean
  answered: (a: LateAnswer) => Promise<void>
}

interface Job { timer?: NodeJS.Timeout, cancelled: boolean }

export class Retransmitter {
  private readonly jobs = new Map<string, Job>()
  private stopped = false

  constructor (
    private readonly sender: PbuSender,
    private readonly timing: RetransmissionTiming,
    private readonly clock: () => number,
    private readonly hooks: RetransmitterHooks,
    private readonly log: Logger,
    private readonly metrics: MaarMetrics = noMetrics
  ) {}

  /**
   * Keeps sending `update` to `peer` until answered; `until` (ms epoch) ends it, and so does
   * `stillWanted` turning false (default: the hooks' isCurrent). Replaces a job for the same MN
   * and peer.
   */
  start (peer: MaarRef, update: ProxyUpdate, until: number, firstDelayMs = this.timing.initialMs, stillWanted?: () => boolean): void {
    if (this.stopped) return
    const key = `${update.mnId}\u0000${peer.peerId}`
    this.cancelKey(key)
    const job: Job = { cancelled: false }
    this.jobs.set(key, job)
    const attempt = (delay: number): void => {
      job.timer = setTimeout(() => { void run(delay) }, delay)
      job.timer.unref()
    }
    const finish = async (a: Omit<LateAnswer, 'mnId' | 'sequence' | 'peer'>): Promise<void> => {
      if (this.jobs.get(key) === job) this.jobs.delete(key)
      await this.hooks.answered({ mnId: update.mnId, sequence: update.sequence, peer, ...a })
        .catch(err => { this.log.error('handling a late PBA failed', { mn: update.mnId, peer: peer.peerId, error: String(err) }) })
    }
    const run = async (delay: number): Promise<void> => {
      if (job.cancelled || this.stopped) return
      if (!(stillWanted?.() ?? this.hooks.isCurrent(update.mnId, update.sequence))) { this.jobs.delete(key); return }
      if (this.clock() >= until) { await finish({ kind: 'expired' }); return }
      this.metrics.retransmission()
      const result = await this.sender.send(peer, update)
      if (job.cancelled || this.stopped) return
      if (result.ack === undefined) {
        const next = Math.min(Math.max(delay, 1) * 2, this.timing.maxMs)
        this.log.debug('PBU unanswered; retransmitting', { mn: update.mnId, peer: peer.peerId, inMs: next })
        attempt(next)
        return
      }
      await finish({ kind: result.ack.status === BINDING_ACK_STATUS.ACCEPTED ? 'accepted' : 'refused', result })
    }
    attempt(firstDelayMs)
  }

  /** Ends every job of the MN (it left, or its session ended). */
  cancel (mnId: string): void {
    for (const key of [...this.jobs.keys()]) if (key.startsWith(`${mnId}\u0000`)) this.cancelKey(key)
  }

  /** Ends the job of the MN towards one peer (it answered another way, e.g. an unsolicited PBA). */
  cancelPeer (mnId: string, peerId: string): void {
    this.cancelKey(`${mnId}\u0000${peerId}`)
  }

  /** Jobs still running, over all MNs. */
  active (): number {
    return this.jobs.size
  }

  pending (mnId: string): number {
    let n = 0
    for (const key of this.jobs.keys()) if (key.startsWith(`${mnId}\u0000`)) n++
    return n
  }

  stop (): void {
    this.stopped = true
    for (const key of [...this.jobs.keys()]) this.cancelKey(key)
  }

  private cancelKey (key: string): void {
    const job = this.jobs.get(key)
    if (job === undefined) return
    job.cancelled = true
    if (job.timer !== undefined) clearTimeout(job.timer)
    this.jobs.delete(key)
  }
}
