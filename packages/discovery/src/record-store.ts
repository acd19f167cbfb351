/**
 * The validated session records one MAAR holds: those it published, those peers PUT to it as one
 * of the closest replicas, those it met through the DHT and those remembered from nearby. Only
 * records that passed openSessionRecord() get in, and a record never replaces a newer one.
 * Bounded: the least recently stored record goes first. With a RecordJournal every record kept
 * is also written to disk, and `restore` brings them back after a restart, each validated again.
 */
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import type { TrustStore } from './domain.js'
import { RecordError, isNewer, openSessionRecord } from './records.js'
import type { SessionRecord } from './records.js'
import type { RecordJournal } from './record-journal.js'

export interface StoredRecord { bytes: Uint8Array, record: SessionRecord, signer: string, storedAt: number }

export type OfferResult =
  | { stored: true, entry: StoredRecord }
  | { stored: false, entry: StoredRecord, reason: 'stale' | 'same' }

export class SessionStore {
  private readonly records = new Map<string, StoredRecord>()
  /** The journal write of the last record kept (the journal writes in order: every earlier one is done with it). */
  private lastWrite: Promise<void> = Promise.resolve()

  constructor (readonly trust: TrustStore, private readonly maxRecords = 100_000, private readonly journal?: RecordJournal) {}

  get size (): number { return this.records.size }

  /** libp2p starts and stops its services: the journal is closed with the node. */
  start (): void {}

  async stop (): Promise<void> {
    await this.journal?.close()
  }

  get (key: Uint8Array): StoredRecord | undefined {
    return this.records.get(uint8ArrayToString(key))
  }

  /**
   * Validates (throws RecordError) and keeps the record unless a newer or the same one is held;
   * with a journal, resolves once the copy held is on disk (a PUT is acknowledged after this).
   */
  async offer (key: Uint8Array, bytes: Uint8Array): Promise<OfferResult> {
    const { record, signer } = await openSessionRecord(bytes, this.trust, { key })
    const result = this.keep(key, { bytes, record, signer, storedAt: Date.now() })
    await this.written()
    return result
  }

  /**
   * Resolves once every record kept so far is on disk (at once without a journal); rejects when
   * the last write failed. A record held already ('same') may have come a moment ago through
   * keep(), its write still under way: a PUT of it is acknowledged after this too.
   */
  async written (): Promise<void> {
    await this.lastWrite
  }

  /**
   * Brings back the journal's records (at start, before the node answers anyone): each is
   * validated again, as a PUT would be; one that no longer validates (a certificate expired, the
   * file damaged) is dropped from the journal, and counted.
   */
  async restore (onRestored: (key: Uint8Array, entry: StoredRecord) => Promise<void>): Promise<{ restored: number, dropped: Array<{ key: string, why: string }> }> {
    const dropped: Array<{ key: string, why: string }> = []
    let restored = 0
    if (this.journal === undefined) return { restored, dropped }
    for await (const [k, bytes] of this.journal.entries()) {
      const key = new TextEncoder().encode(k)
      try {
        const { record, signer } = await openSessionRecord(bytes, this.trust, { key })
        const entry = { bytes, record, signer, storedAt: Date.now() }
        if (!this.keepInMemory(k, entry).stored) continue
        await onRestored(key, entry)
        restored++
      } catch (err) {
        dropped.push({ key: k, why: err instanceof Error ? err.message : String(err) })
        await this.journal.delete(k)
      }
    }
    return { restored, dropped }
  }

  /** For a record validated a moment ago by the caller (the DHT validator); written to the journal in the background. */
  keep (key: Uint8Array, entry: StoredRecord): OfferResult {
    const k = uint8ArrayToString(key)
    const result = this.keepInMemory(k, entry)
    if (result.stored && this.journal !== undefined) {
      const written = this.journal.put(k, entry.bytes)
      written.catch(() => {}) // written() says so to a PUT; a background keep stays in memory
      this.lastWrite = written
    }
    return result
  }

  private keepInMemory (k: string, entry: StoredRecord): OfferResult {
    const held = this.records.get(k)
    if (held !== undefined) {
      if (isNewer(held.record, entry.record)) return { stored: false, entry: held, reason: 'stale' }
      if (!isNewer(entry.record, held.record)) return { stored: false, entry: held, reason: 'same' }
      this.records.delete(k)
    }
    if (this.records.size >= this.maxRecords) {
      const oldest = this.records.keys().next().value
      if (oldest !== undefined) {
        this.records.delete(oldest)
        this.journal?.delete(oldest).catch(() => {}) // a failed delete leaves a record restore validates again
      }
    }
    this.records.set(k, entry)
    return { stored: true, entry }
  }
}

/** Throws the RecordError a refused offer deserves (for callers that must reject stale data). */
export function refuseStale (result: OfferResult): void {
  if (!result.stored && result.reason === 'stale') {
    throw new RecordError('stale', `sequence ${result.entry.record.sequence} issued ${result.entry.record.issuedAt} is already held`)
  }
}
