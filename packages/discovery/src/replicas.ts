/**
 * Keeps the records this MAAR published on the key's closest set when that set changes
 * (doc/ARCHITECTURE.md "Lookup under partial views and churn"). A record lives on the members it
 * was PUT to; when some of them leave, the next closest members hold nothing, and their "not
 * found" would soon be taken for a proof of absence. So the publisher remembers who accepted
 * each of its records, and when one of them stays disconnected for `graceMs` it publishes the
 * record again (the caller's put walks to the key's current closest set). A record that a newer
 * one replaced in the local store (another MAAR serves the MN now) is forgotten: its publisher
 * keeps it now.
 *
 * A put that did not reach the key's closest set (the walk failed or ran out of time before any
 * PUT_VALUE: a loaded domain, or a publisher that knew nobody yet) leaves the record unplaced:
 * only the members the publisher happened to know hold it, and a lookup that walks to the key's
 * closest set hears "not found" there. An unplaced record is put again when this MAAR connects
 * to a member next (its view changed), `graceMs` later, until a put places it.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { SessionStore } from './record-store.js'
import { bytesEqual } from './util.js'

interface Placed { key: Uint8Array, bytes: Uint8Array, holders: Set<string> }

export class ReplicaKeeper {
  /** Records published again since start (benchmarks). */
  republished = 0
  private readonly placed = new Map<string, Placed>()
  /** Records put again because their put had not placed them (benchmarks). */
  replaced = 0
  private readonly departed = new Map<string, PeerId>()
  private readonly unplaced = new Map<string, Placed>()
  private timer: NodeJS.Timeout | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private readonly onDisconnect = (evt: Event): void => { this.holderLeft((evt as CustomEvent<PeerId>).detail) }
  private readonly onConnect = (): void => { this.viewChanged() }

  constructor (
    private readonly node: Libp2p,
    private readonly store: SessionStore,
    private readonly republish: (key: Uint8Array, bytes: Uint8Array) => void,
    private readonly init: { graceMs: number, maxRecords: number }
  ) {}

  start (): void {
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.node.addEventListener('peer:connect', this.onConnect)
  }

  stop (): void {
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
    this.node.removeEventListener('peer:connect', this.onConnect)
    clearTimeout(this.timer)
    clearTimeout(this.retryTimer)
    this.timer = undefined
    this.retryTimer = undefined
    this.departed.clear()
  }

  /** Records whose put has not placed them yet (tests, benchmarks). */
  get waitingForPlacement (): number { return this.unplaced.size }

  /** The put of `bytes` ended without placing it on the key's closest set: put it again when the view changes. */
  notPlaced (key: Uint8Array, bytes: Uint8Array): void {
    const k = new TextDecoder().decode(key)
    if (this.unplaced.size >= this.init.maxRecords && !this.unplaced.has(k)) return
    this.unplaced.set(k, { key, bytes, holders: new Set() })
  }

  /** A member connected: the unplaced records are put again, once per grace period for all connections of it. */
  private viewChanged (): void {
    if (this.unplaced.size === 0 || this.retryTimer !== undefined) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      const waiting = [...this.unplaced.values()]
      this.unplaced.clear()
      for (const entry of waiting) {
        const held = this.store.get(entry.key)
        if (held === undefined || !bytesEqual(held.bytes, entry.bytes)) continue // superseded
        this.replaced++
        this.republish(entry.key, entry.bytes)
      }
    }, this.init.graceMs)
    this.retryTimer.unref()
  }

  /** `holders` accepted the record `bytes` of `key`; a new record of the key replaces the old entry. */
  accepted (key: Uint8Array, bytes: Uint8Array, holders: string[]): void {
    const k = new TextDecoder().decode(key)
    let entry = this.placed.get(k)
    if (entry === undefined || !bytesEqual(entry.bytes, bytes)) {
      if (entry === undefined && this.placed.size >= this.init.maxRecords) {
        const oldest = this.placed.keys().next().value
        if (oldest !== undefined) this.placed.delete(oldest)
      }
      entry = { key, bytes, holders: new Set() }
      this.placed.set(k, entry)
    }
    for (const h of holders) entry.holders.add(h)
  }

  /** Departures within one grace period are handled together: one re-publication per record. */
  private holderLeft (peer: PeerId): void {
    this.departed.set(peer.toString(), peer)
    if (this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      // A connection pruned and re-opened at once is no departure.
      const gone = new Set([...this.departed].filter(([, p]) => this.node.getConnections(p).length === 0).map(([id]) => id))
      this.departed.clear()
      for (const [k, entry] of this.placed) {
        const lost = [...entry.holders].filter(h => gone.has(h))
        if (lost.length === 0) continue
        for (const h of lost) entry.holders.delete(h)
        const held = this.store.get(entry.key)
        if (held === undefined || !bytesEqual(held.bytes, entry.bytes)) {
          this.placed.delete(k) // superseded: the newer record's publisher keeps it placed
          continue
        }
        this.republished++
        this.republish(entry.key, entry.bytes)
      }
    }, this.init.graceMs)
    this.timer.unref()
  }
}
