/**
 * RFC 5213 §8.8 timestamps: 48-bit seconds since 1970-01-01 00:00 UTC and 16 bits of
 * 1/65536 s. Milliseconds survive the round trip exactly (a fraction step is 0.015 ms).
 */
import { WireError } from './errors.js'
import type { TimestampOption } from './types.js'

export function timestampFromMillis (ms: number): TimestampOption {
  if (!Number.isFinite(ms) || ms < 0 || ms >= 2 ** 48 * 1000) throw new WireError('BAD_VALUE', -1, `timestamp ${ms} ms is outside 0..2^48 s`)
  const whole = Math.floor(ms)
  const seconds = Math.floor(whole / 1000)
  const fraction = Math.round(((whole - seconds * 1000) * 65536) / 1000)
  return { type: 'timestamp', seconds, fraction }
}

/** Milliseconds since 1970, rounded to the nearest millisecond. */
export function timestampToMillis (t: TimestampOption): number {
  return t.seconds * 1000 + Math.round((t.fraction * 1000) / 65536)
}
