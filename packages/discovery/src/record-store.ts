/**
 * The validated session records one MAAR holds: those it published, those peers PUT to it as one
 * of the closest replicas, those it met through the DHT and those remembered from nearby. Only
 * records that passed openSessionRecord() get in, and a record never replaces a newer one.
 * Bounded: the least recently stored record goes first.
 */
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import type { TrustStore } from './domain.js'
import { RecordError, isNewer, openSessionRecord } from './records.js'
import type { SessionRecord } from './records.js'

export interface StoredRecord { bytes: Uint8Array, record: SessionRecord, signer: string, storedAt: number }

export type OfferResult =
  | { stored: true, entry: StoredRecord }
  | { stored: false, entry: StoredRecord, reason: 'stale' | 'same' }

export class SessionStore {
  private readonly records = new Map<string, StoredRecord>()

  constructor (readonly trust: TrustStore, private readonly maxRecords = 100_000) {}

  get size (): number { return this.records.size }

  get (key: Uint8Array): StoredRecord | undefined {
    return this.records.get(uint8ArrayToString(key))
  }

  /** Validates (throws RecordError) and keeps the record unless a newer or the same one is held. */
  async offer (key: Uint8Array, bytes: Uint8Array): Promise<OfferResult> {
    const { record, signer } = await openSessionRecord(bytes, this.trust, { key })
    return this.keep(key, { bytes, record, signer, storedAt: Date.now() })
  }

  /** For a record validated a moment ago by the caller (the DHT validator). */
  keep (key: Uint8Array, entry: StoredRecord): OfferResult {
    const k = uint8ArrayToString(key)
    const held = this.records.get(k)
    if (held !== undefined) {
      if (isNewer(held.record, entry.record)) return { stored: false, entry: held, reason: 'stale' }
      if (!isNewer(entry.record, held.record)) return { stored: false, entry: held, reason: 'same' }
      this.records.delete(k)
    }
    if (this.records.size >= this.maxRecords) {
      const oldest = this.records.keys().next().value
      if (oldest !== undefined) this.records.delete(oldest)
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
