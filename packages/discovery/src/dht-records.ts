/**
 * kad-dht validator and selector for the `/dmm/...` namespace (kad-dht 16.4 picks them by the
 * key's second segment). kad-dht stores a PUT_VALUE over its copy without comparing versions
 * (js-libp2p issue #3377), so the validator itself refuses a record older than the copy in the
 * datastore. Every record that passes also lands in the node's SessionStore.
 */
import { Key } from 'interface-datastore'
import { Libp2pRecord } from '@libp2p/record'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import type { Datastore } from 'interface-datastore'
import type { SelectFn, ValidateFn } from '@libp2p/kad-dht'
import { RecordError, SESSION_PREFIX, isNewer, openSessionRecord, peekSessionRecord } from './records.js'
import type { SessionRecord } from './records.js'
import type { SessionStore } from './record-store.js'
import { bytesEqual } from './util.js'

/** Where kad-dht keeps a value record (its bufferToRecordKey()). */
export function dhtRecordKey (datastorePrefix: string, key: Uint8Array): Key {
  return new Key(`${datastorePrefix}/record/${uint8ArrayToString(key, 'base32')}`, false)
}

export function dmmValidator (datastore: Datastore, datastorePrefix: string, store: SessionStore): ValidateFn {
  return async (key, value) => {
    if (!uint8ArrayToString(key).startsWith(SESSION_PREFIX)) throw new RecordError('malformed', 'only /dmm/session/ keys are stored in this DHT')
    const { record, signer } = await openSessionRecord(value, store.trust, { key })
    const held = await storedCopy(datastore, dhtRecordKey(datastorePrefix, key))
    if (held !== undefined && !bytesEqual(held.bytes, value) && isNewer(held.record, record)) {
      throw new RecordError('stale', `sequence ${record.sequence} is older than the stored sequence ${held.record.sequence}`)
    }
    store.keep(key, { bytes: value, record, signer, storedAt: Date.now() })
    // kad-dht answers a PUT_VALUE once this resolves: acknowledged only once on disk (doc/ARCHITECTURE.md "Records on disk").
    await store.written()
  }
}

/**
 * Stores a validated record where kad-dht's GET_VALUE handler reads it, unless a newer copy is
 * there: a record PUT over `/dmm/record/1.0.0` is then found by the kad-dht get fallback too,
 * whether or not a walk brought it (doc/ARCHITECTURE.md "Publication").
 */
export async function keepForDht (datastore: Datastore, datastorePrefix: string, key: Uint8Array, bytes: Uint8Array, record: SessionRecord): Promise<void> {
  const dsKey = dhtRecordKey(datastorePrefix, key)
  const held = await storedCopy(datastore, dsKey)
  if (held !== undefined && !isNewer(record, held.record)) return
  await datastore.put(dsKey, new Libp2pRecord(key, bytes, new Date()).serialize())
}

async function storedCopy (datastore: Datastore, dsKey: Key): Promise<{ bytes: Uint8Array, record: SessionRecord } | undefined> {
  let raw: Uint8Array
  try {
    raw = await datastore.get(dsKey)
  } catch {
    return undefined // not found
  }
  try {
    const bytes = Libp2pRecord.deserialize(raw).value
    return { bytes, record: peekSessionRecord(bytes) }
  } catch {
    return undefined // a damaged copy protects nothing; the new valid record may replace it
  }
}

/** Highest sequence, then newest issuedAt. kad-dht validated each record before selecting. */
export const dmmSelector: SelectFn = (_key, records) => {
  let best = -1
  let bestRecord: SessionRecord | undefined
  records.forEach((bytes, i) => {
    let r: SessionRecord
    try { r = peekSessionRecord(bytes) } catch { return }
    if (bestRecord === undefined || isNewer(r, bestRecord)) { best = i; bestRecord = r }
  })
  return Math.max(best, 0)
}
