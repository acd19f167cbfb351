/**
 * How long a lookup waits for the closest member alone before asking the others (lookup.ts).
 *
 * The key's closest member holds the record in the common case (the publisher PUT it to the
 * `fanout` closest), so its answer alone decides the lookup and the others are not asked: one GET
 * instead of `fanout`, and the answer of the nearest holder rather than of the slowest. When it
 * says "not found", fails, or has not answered within a few of the recent GET round trips, the
 * others are asked too (a hedged request: a slow member costs a short wait, not its timeout).
 * A copy older than the newest the domain holds is possible then (the closest member missed the
 * last PUT); the anchors it names refer the serving MAAR on to the newer ones (doc/ARCHITECTURE.md
 * "When the record is stale").
 */

export interface HedgePolicy {
  /** The wait before any GET was timed. */
  initialMs: number
  /** The shortest wait, however fast the recent GETs were. */
  minMs: number
  /** The wait is this many times the median of the recent GET round trips. */
  factor: number
  /** How many recent round trips the median is taken over. */
  samples: number
}

export const DEFAULT_HEDGE: HedgePolicy = { initialMs: 10, minMs: 2, factor: 3, samples: 16 }

export class HedgeDelay {
  private readonly recent: number[] = []
  private next = 0

  /** `capMs`: never longer than a GET may take anyway (its timeout). */
  constructor (private readonly policy: HedgePolicy, private readonly capMs: number) {}

  /** A GET on an open connection was answered after `ms`. */
  answered (ms: number): void {
    if (this.recent.length < this.policy.samples) this.recent.push(ms)
    else this.recent[this.next] = ms
    this.next = (this.next + 1) % this.policy.samples
  }

  /** How long to wait for the closest member before asking the others. */
  delayMs (): number {
    if (this.recent.length === 0) return Math.min(this.policy.initialMs, this.capMs)
    const sorted = [...this.recent].sort((a, b) => a - b)
    const median = sorted[sorted.length >> 1] as number
    return Math.min(this.capMs, Math.max(this.policy.minMs, this.policy.factor * median))
  }
}

/** `promise`'s value when it settles within `ms`, else 'late' (the promise runs on). */
export async function within<T> (promise: Promise<T>, ms: number): Promise<T | 'late'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>(resolve => { timer = setTimeout(() => { resolve('late') }, ms) })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
