/**
 * A MAAR's binding cache and prefix allocations in LevelDB, as typed repositories over the
 * buckets of ./buckets.ts. Every change goes through `commit`, one synchronous LevelDB batch:
 * it resolves only once the batch is on disk (fsync), so a crash after a PBA or a prefix
 * delegation never forgets it, and a BCE and its prefix allocation are never half written.
 */
import { mkdir } from 'node:fs/promises'
import { Level } from 'level'
import type { AbstractLevel, AbstractBatchOperation } from 'abstract-level'
import { Bucket, bucketKey, bucketRange, idOf } from './buckets.js'
import { SchemaError, decodeAllocation, decodeEntry, decodeMeta, encodeAllocation, encodeEntry, encodeMeta, prefix as checkPrefix } from './codec.js'
import { AllocationConflictError, CorruptEntryError, InvalidEntryError } from './errors.js'
import type { BindingCacheEntry, Transaction } from './types.js'

/** Any abstract-level database with text keys and values (classic-level, memory-level, a sublevel). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TextLevel = AbstractLevel<any, string, string>

const TEXT = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const
const DURABLE = { ...TEXT, sync: true } as const

export interface BindingCacheOptions {
  /** Use this database instead of opening LevelDB in `dir`; the caller keeps ownership (close). */
  level?: TextLevel
}

export class BindingCache {
  /** Serialises commits, so the allocation check and the write are one step. */
  private queue: Promise<unknown> = Promise.resolve()
  /** In-memory mirror of the alloc bucket, once loaded. */
  private allocated?: Map<string, string>

  private constructor (private readonly db: TextLevel, private readonly owned: boolean) {}

  /** Opens (creating `dir` and the database if needed) and checks the schema version. */
  static async open (dir: string, opts: BindingCacheOptions = {}): Promise<BindingCache> {
    let db = opts.level
    if (db === undefined) {
      await mkdir(dir, { recursive: true })
      db = new Level<string, string>(dir, TEXT)
    }
    if (db.status !== 'open') await db.open()
    const cache = new BindingCache(db, opts.level === undefined)
    try {
      await cache.checkSchema()
    } catch (err) {
      if (cache.owned) await db.close()
      throw err
    }
    return cache
  }

  private async checkSchema (): Promise<void> {
    const key = bucketKey(Bucket.meta, 'schema')
    const text = await this.db.get(key, TEXT)
    if (text === undefined) {
      await this.db.put(key, encodeMeta(), DURABLE)
      return
    }
    this.decode(key, text, decodeMeta)
  }

  private decode<T> (key: string, text: string, decode: (text: string) => T): T {
    try {
      return decode(text)
    } catch (err) {
      if (err instanceof SchemaError) throw new CorruptEntryError(key, err.message)
      throw err
    }
  }

  async get (mnId: string): Promise<BindingCacheEntry | undefined> {
    const key = bucketKey(Bucket.bce, mnIdOf(mnId, 'mnId'))
    const text = await this.db.get(key, TEXT)
    return text === undefined ? undefined : this.decode(key, text, decodeEntry)
  }

  /** Every entry, in MN-ID order. A corrupt value rejects with a CorruptEntryError naming its key. */
  async list (): Promise<BindingCacheEntry[]> {
    const entries: BindingCacheEntry[] = []
    for await (const [key, text] of this.db.iterator({ ...bucketRange(Bucket.bce), ...TEXT })) {
      entries.push(this.decode(key, text, decodeEntry))
    }
    return entries
  }

  /**
   * Delegated prefixes: prefix -> MN-ID. Read from LevelDB once, then kept in memory and updated
   * by each commit (this cache must be the database's only writer), so an attach does not scan
   * the bucket (bench/storage.ts: ~20 ms at 10,000 allocations).
   */
  async allocations (): Promise<Map<string, string>> {
    if (this.allocated === undefined) {
      // Loaded in the commit queue, so no commit lands between the scan and the mirror.
      this.allocated = await this.enqueue(async () => this.allocated ?? await this.scanAllocations())
    }
    return new Map(this.allocated)
  }

  private async scanAllocations (): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for await (const [key, text] of this.db.iterator({ ...bucketRange(Bucket.alloc), ...TEXT })) {
      out.set(idOf(Bucket.alloc, key), this.decode(key, text, decodeAllocation))
    }
    return out
  }

  /**
   * Atomic (one LevelDB batch): entries written, entries deleted, prefixes allocated/released.
   * Refuses, writing nothing, an invalid entry (InvalidEntryError) or a prefix already allocated
   * to another MN (AllocationConflictError). Allocating a prefix again to the same MN is a no-op.
   */
  async commit (tx: Transaction): Promise<void> {
    await this.enqueue(async () => { await this.commitNow(tx) })
  }

  private async enqueue<T> (f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f)
    this.queue = run.catch(() => {})
    return await run
  }

  private async commitNow (tx: Transaction): Promise<void> {
    const ops = planBatch(tx)
    for (const { prefix, mnId } of ops.allocations) {
      const key = bucketKey(Bucket.alloc, prefix)
      const text = await this.db.get(key, TEXT)
      const holder = text === undefined ? undefined : this.decode(key, text, decodeAllocation)
      if (holder !== undefined && holder !== mnId) throw new AllocationConflictError(prefix, holder, mnId)
    }
    if (ops.batch.length === 0) return
    await this.db.batch(ops.batch, DURABLE)
    for (const prefix of ops.released) this.allocated?.delete(prefix)
    for (const { prefix, mnId } of ops.allocations) this.allocated?.set(prefix, mnId)
  }

  async close (): Promise<void> {
    await this.queue
    if (this.owned && this.db.status !== 'closed') await this.db.close()
  }
}

function mnIdOf (v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new InvalidEntryError(what, `MN identifier must be a non-empty string, got ${JSON.stringify(v)}`)
  return v
}

function checked<T> (what: string, f: () => T): T {
  try {
    return f()
  } catch (err) {
    if (err instanceof SchemaError) throw new InvalidEntryError(what, err.message)
    throw err
  }
}

/** Validates a transaction and turns it into batch operations; throws before anything is written. */
function planBatch (tx: Transaction): { batch: Array<AbstractBatchOperation<TextLevel, string, string>>, allocations: Array<{ prefix: string, mnId: string }>, released: string[] } {
  const batch: Array<AbstractBatchOperation<TextLevel, string, string>> = []
  const mnIds = new Set<string>()
  const touch = (mnId: string): void => {
    if (mnIds.has(mnId)) throw new InvalidEntryError('transaction', `MN ${JSON.stringify(mnId)} is written more than once`)
    mnIds.add(mnId)
  }
  for (const [i, entry] of (tx.put ?? []).entries()) {
    const value = checked(`put[${i}]`, () => encodeEntry(entry))
    touch(entry.mnId)
    batch.push({ type: 'put', key: bucketKey(Bucket.bce, entry.mnId), value })
  }
  for (const [i, mnId] of (tx.delete ?? []).entries()) {
    touch(mnIdOf(mnId, `delete[${i}]`))
    batch.push({ type: 'del', key: bucketKey(Bucket.bce, mnId) })
  }
  const prefixes = new Set<string>()
  const claim = (p: string): void => {
    if (prefixes.has(p)) throw new InvalidEntryError('transaction', `prefix ${p} is allocated or released more than once`)
    prefixes.add(p)
  }
  const allocations: Array<{ prefix: string, mnId: string }> = []
  const released: string[] = []
  for (const [i, a] of (tx.allocate ?? []).entries()) {
    const prefix = checked(`allocate[${i}]`, () => checkPrefix(a?.prefix, 'prefix'))
    const mnId = mnIdOf(a.mnId, `allocate[${i}].mnId`)
    claim(prefix)
    allocations.push({ prefix, mnId })
    batch.push({ type: 'put', key: bucketKey(Bucket.alloc, prefix), value: encodeAllocation(mnId) })
  }
  for (const [i, p] of (tx.release ?? []).entries()) {
    const prefix = checked(`release[${i}]`, () => checkPrefix(p, 'prefix'))
    claim(prefix)
    released.push(prefix)
    batch.push({ type: 'del', key: bucketKey(Bucket.alloc, prefix) })
  }
  return { batch, allocations, released }
}
