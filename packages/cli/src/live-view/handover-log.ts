/** The last handovers a MAAR answered, newest first, for the live view (a ring of fixed size). */
import type { HandoverReport } from '@dmm-mesh/maar'

export interface LoggedHandover {
  /** When the attach was answered (ISO 8601). */
  at: string
  report: HandoverReport
}

export class HandoverLog {
  private readonly entries: LoggedHandover[] = []

  constructor (private readonly capacity = 20, private readonly clock: () => number = Date.now) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity} must be a positive integer`)
  }

  add (report: HandoverReport): void {
    this.entries.unshift({ at: new Date(this.clock()).toISOString(), report })
    if (this.entries.length > this.capacity) this.entries.length = this.capacity
  }

  recent (): LoggedHandover[] {
    return [...this.entries]
  }
}
