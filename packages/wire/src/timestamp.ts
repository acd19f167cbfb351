/**
 * RFC 5213 §8.8 timestamps: 48-bit seconds since 1970-01-01 00:00 UTC and 16 bits of
 * 1/65536 s (RFC 6275 §6.1.7's NTP-like format). In memory a timestamp is a number of
 * milliseconds; whole milliseconds survive the round trip exactly (a fraction step is 0.015 ms),
 * and so does every value timestampToMillis gives (until 2^34 s, the year 2514, where a double
 * still resolves 1/65536 s of a time in ms), so that a MAAR can order many registrations
 * stamped within one millisecond (timestampAfter) and compare what it sent with what it receives.
 */
import { WireError } from './errors.js'
import type { TimestampOption } from './types.js'

const FRACTIONS = 65536

export function timestampFromMillis (ms: number): TimestampOption {
  if (!Number.isFinite(ms) || ms < 0 || ms >= 2 ** 48 * 1000) throw new WireError('BAD_VALUE', -1, `timestamp ${ms} ms is outside 0..2^48 s`)
  let seconds = Math.floor(ms / 1000)
  let fraction = Math.round(((ms - seconds * 1000) * FRACTIONS) / 1000)
  if (fraction === FRACTIONS) { seconds += 1; fraction = 0 }
  if (seconds >= 2 ** 48) throw new WireError('BAD_VALUE', -1, `timestamp ${ms} ms is outside 0..2^48 s`)
  return { type: 'timestamp', seconds, fraction }
}

/**
 * Milliseconds since 1970: a whole millisecond when the fraction is the one timestampFromMillis
 * gives for it, else the exact instant (sub-millisecond). Strictly monotonic in the timestamp.
 */
export function timestampToMillis (t: TimestampOption): number {
  const whole = t.seconds * 1000 + Math.round((t.fraction * 1000) / FRACTIONS)
  if (timestampFromMillis(whole).fraction === t.fraction) return whole
  return t.seconds * 1000 + (t.fraction * 1000) / FRACTIONS
}

/** The first timestamp (ms, as timestampToMillis gives it) after `ms`: one 1/65536 s step later. */
export function timestampAfter (ms: number): number {
  const t = timestampFromMillis(ms)
  const step = t.fraction + 1 === FRACTIONS ? { ...t, seconds: t.seconds + 1, fraction: 0 } : { ...t, fraction: t.fraction + 1 }
  return timestampToMillis(step)
}
