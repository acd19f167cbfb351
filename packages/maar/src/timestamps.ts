/**
 * The RFC 5213 §5.5 timestamps this MAAR stamps on its registrations: strictly above every one it
 * issued before and above `after` (the newest one known for the MN), so that a handover is ordered
 * after the registration it replaces even when two MAARs' clocks read the same millisecond.
 * Successive stamps within one millisecond step by the format's own resolution, 1/65536 s
 * (RFC 5213 §8.8, RFC 6275 §6.1.7), not by a whole millisecond: a burst of registrations stays
 * within the clock's millisecond instead of running ahead of the clock (a peer whose clock is
 * behind would refuse a stamp from its future, RFC 5213 §5.5).
 */
import { timestampAfter, timestampFromMillis, timestampToMillis } from '@dmm-mesh/wire'

export class TimestampSource {
  private last = 0

  constructor (private readonly clock: () => number) {}

  next (after = 0): number {
    // The clock's reading as the wire carries it, so that the stamp sent is the stamp stored.
    const now = timestampToMillis(timestampFromMillis(this.clock()))
    this.last = Math.max(now, timestampAfter(this.last), timestampAfter(after))
    return this.last
  }
}
