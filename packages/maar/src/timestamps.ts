/**
 * The RFC 5213 §5.5 timestamps this MAAR stamps on its registrations: strictly above every one it
 * issued before and above `after` (the newest one known for the MN), so that a handover is ordered
 * after the registration it replaces even when two MAARs' clocks read the same millisecond.
 */
export class TimestampSource {
  private last = 0

  constructor (private readonly clock: () => number) {}

  next (after = 0): number {
    this.last = Math.max(this.clock(), this.last + 1, after + 1)
    return this.last
  }
}
