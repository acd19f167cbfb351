/**
 * The serving MAAR's lifetime timer (RFC 5213 §5.3 lifetimes; draft-bernardos-dmm-pmip §3.5:
 * only the serving MAAR runs one): a periodic check that refreshes registrations of MNs still
 * present and de-registers those whose lifetime ran out (ServingSide.checkLifetimes).
 */
import type { Logger } from './logger.js'

export class LifetimeTimer {
  private timer?: NodeJS.Timeout

  /** intervalMs 0 disables the timer (tests drive the checks themselves). */
  constructor (private readonly intervalMs: number, private readonly check: () => Promise<void>, private readonly log: Logger) {}

  start (): void {
    if (this.intervalMs <= 0 || this.timer !== undefined) return
    this.timer = setInterval(() => {
      this.check().catch(err => { this.log.error('lifetime check failed', { error: String(err) }) })
    }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }
}
