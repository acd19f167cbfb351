/**
 * The background kad-dht put (a walk to the key's closest set, PUT_VALUE to each) at most once per
 * key per interval (doc/ARCHITECTURE.md "Publication"): the direct PUT to the closest members
 * already happened on every change (directory.ts), and the walk is the slower copy the kad-dht
 * fallback get finds. A key not walked within the interval is walked at once; further records of
 * it meanwhile are coalesced into the newest, walked when the interval since the last walk ends —
 * or sooner when half the shortest anchor lifetime it carries comes first (RFC 5213 §5.3.1:
 * the record must be in the DHT well before its bindings would be refreshed).
 */
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { isNewer, peekSessionRecord } from './records.js'
import type { SessionRecord } from './records.js'

interface Pending { key: Uint8Array, bytes: Uint8Array, record: SessionRecord, timer: NodeJS.Timeout }

export type DhtWalk = (key: Uint8Array, bytes: Uint8Array) => Promise<void>

export class CoalescedDhtPuts {
  /** Walks started (tests, benchmarks). */
  walks = 0
  /** Records replaced by a newer one of the same key before their walk. */
  coalesced = 0
  private readonly pending = new Map<string, Pending>()
  private readonly lastWalk = new Map<string, number>()
  private readonly running = new Set<Promise<void>>()

  constructor (private readonly walk: DhtWalk, private readonly intervalMs: number, private readonly now: () => number = Date.now) {}

  /** The record `bytes` of `key` is to be walked: now, or coalesced with the next walk of the key. */
  offer (key: Uint8Array, bytes: Uint8Array): void {
    const k = uint8ArrayToString(key)
    const record = peekSessionRecord(bytes)
    const waiting = this.pending.get(k)
    if (waiting !== undefined) {
      if (isNewer(record, waiting.record)) {
        this.coalesced++
        waiting.bytes = bytes
        waiting.record = record
      }
      return
    }
    const last = this.lastWalk.get(k)
    const now = this.now()
    if (last === undefined || now - last >= this.intervalMs) {
      this.start(k, key, bytes)
      return
    }
    const lifetimes = record.anchors.map(a => a.lifetime * 1000 / 2)
    const delay = Math.max(0, Math.min(last + this.intervalMs - now, ...lifetimes))
    const timer = setTimeout(() => { this.release(k) }, delay)
    timer.unref()
    this.pending.set(k, { key, bytes, record, timer })
  }

  /** Walks started so far have ended (coalesced records still wait for their turn). */
  async settled (): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
  }

  /** Every waiting record is walked now; resolves when every walk has ended. */
  async flush (): Promise<void> {
    for (const k of [...this.pending.keys()]) this.release(k)
    await this.settled()
  }

  /** Forgets waiting records without walking them (their direct PUTs stand). */
  clear (): void {
    for (const p of this.pending.values()) clearTimeout(p.timer)
    this.pending.clear()
    this.lastWalk.clear()
  }

  get waiting (): number { return this.pending.size }

  private release (k: string): void {
    const p = this.pending.get(k)
    if (p === undefined) return
    clearTimeout(p.timer)
    this.pending.delete(k)
    this.start(k, p.key, p.bytes)
  }

  private start (k: string, key: Uint8Array, bytes: Uint8Array): void {
    const now = this.now()
    this.lastWalk.set(k, now)
    // Keys not walked within the interval need no memory of it.
    if (this.lastWalk.size > 1024) for (const [other, at] of this.lastWalk) if (now - at >= this.intervalMs) this.lastWalk.delete(other)
    this.walks++
    const p = this.walk(key, bytes)
    this.running.add(p)
    void p.finally(() => this.running.delete(p))
  }
}
