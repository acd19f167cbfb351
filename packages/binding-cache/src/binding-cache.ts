/**
 * A MAAR's binding cache and prefix allocations in LevelDB, as typed repositories over the
 * buckets of ./buckets.ts. Every change goes through `commit`, one synchronous LevelDB batch:
 * it resolves only once the batch is on disk (fsync), so a crash after a PBA or a prefix
 * delegation never forgets it, and a BCE and its prefix allocation are never half written.
 * Commits that arrive while a batch is being written share the next one (group commit).
 * A caller may wait for the batch alone and let the ledger append follow (`commitInStages`), or
 * skip the fsync of a write an earlier synced one covers (`CommitOptions.sync`).
 *
 * Opening is also a check (./audit.ts): LevelDB drops a damaged write-ahead log record without
 * an error (paranoid checks are off and classic-level cannot turn them on), so the open reads
 * what LevelDB logged as dropped (./leveldb-recovery.ts), compares the database with the
 * delegation ledger kept outside LevelDB (./delegation-ledger.ts), and audits every entry
 * against every allocation. What is wrong is in `report`, by key; the good rest is served;
 * prefixes whose owner is in doubt are quarantined: `allocations()` lists them (so
 * PrefixPool.nextFree and `freePrefixes` skip them) and `commit` refuses to allocate them, until
 * `dmm cache repair --release-quarantined`. One bad value among hundreds never stops the open.
 */
import { mkdir } from 'node:fs/promises'
import { Level } from 'level'
import type { AbstractLevel, AbstractBatchOperation } from 'abstract-level'
import { auditCache } from './audit.js'
import type { AuditInput, AuditResult, CacheReport, RawRecord } from './audit.js'
import { Bucket, bucketKey, bucketRange } from './buckets.js'
import { SchemaError, decodeEntry, decodeMeta, encodeAllocation, encodeEntry, encodeIncident, encodeMeta, prefix as checkPrefix } from './codec.js'
import { DelegationLedger, ledgerNeedsCompaction, readLedger } from './delegation-ledger.js'
import type { LedgerLoad } from './delegation-ledger.js'
import { AllocationConflictError, CacheLockedError, CorruptEntryError, InvalidEntryError, QuarantinedPrefixError } from './errors.js'
import { droppedAtOpen, keepWalBeforeOpen } from './leveldb-recovery.js'
import { planRepair } from './repair-plan.js'
import type { RepairOptions } from './repair-plan.js'
import type { BindingCacheEntry, Transaction } from './types.js'
import { FreePrefixes } from './free-prefixes.js'
import type { PrefixPool } from './prefix-pool.js'

/** Any abstract-level database with text keys and values (classic-level, memory-level, a sublevel). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TextLevel = AbstractLevel<any, string, string>

const TEXT = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const
const DURABLE = { ...TEXT, sync: true } as const

/** Owner shown by `allocations()` for a quarantined prefix (no MN identifier is empty). */
export const QUARANTINED = ''

export interface BindingCacheOptions {
  /**
   * Use this database instead of opening LevelDB in `dir`; the caller keeps ownership (close).
   * Without a directory of its own the cache keeps no delegation ledger and reads no LevelDB
   * info log: the audit then checks entries against allocations only.
   */
  level?: TextLevel
}

export class BindingCache {
  /** Serialises commits, so the allocation check and the write are one step. */
  private queue: Promise<unknown> = Promise.resolve()
  /** Commits waiting for the next group (commitGroup). */
  private readonly pending: PendingCommit[] = []
  /** prefix -> MN, for every prefix with a certain owner (what the database says, healed). */
  private owners = new Map<string, string>()
  /** prefix -> why its owner is in doubt; only grows until a repair. */
  private quarantined = new Map<string, string>()
  private lastReport: CacheReport = { problems: [], quarantined: new Map() }
  private ledger: DelegationLedger | undefined
  /** Handed out by freePrefixes(), kept in step with every commit and audit. */
  private readonly freeIndices: FreePrefixes[] = []

  private constructor (private readonly db: TextLevel, private readonly dir: string | undefined) {}

  /**
   * Opens (creating `dir` and the database if needed), checks the schema version and audits the
   * contents (see `report`). Rejects with CacheLockedError when another process holds the
   * database, CorruptEntryError when the schema record is unreadable.
   */
  static async open (dir: string, opts: BindingCacheOptions = {}): Promise<BindingCache> {
    let db = opts.level
    if (db === undefined) {
      await mkdir(dir, { recursive: true })
      await keepWalBeforeOpen(dir)
      db = new Level<string, string>(dir, TEXT)
      try {
        await db.open()
      } catch (err) {
        if (isLocked(err)) throw new CacheLockedError(dir)
        throw err
      }
    } else if (db.status !== 'open') {
      await db.open()
    }
    const cache = new BindingCache(db, opts.level === undefined ? dir : undefined)
    try {
      await cache.noteDroppedLogs()
      await cache.checkSchema()
      await cache.start()
    } catch (err) {
      await cache.close()
      throw err
    }
    return cache
  }

  /** What the last audit (at open, or `check()`) found; `problems` is empty for a sound cache. */
  get report (): CacheReport {
    return this.lastReport
  }

  /** Persists what LevelDB dropped while opening, so every later check shows it until a repair. */
  private async noteDroppedLogs (): Promise<void> {
    if (this.dir === undefined) return
    const { dropped, keptIn } = await droppedAtOpen(this.dir)
    if (dropped.length === 0) return
    const stamp = new Date().toISOString()
    await this.db.batch(dropped.map((d, i) => ({
      type: 'put' as const,
      key: bucketKey(Bucket.incident, `${stamp}#${i}`),
      value: encodeIncident({ file: d.file, message: keptIn === undefined ? d.message : `${d.message} (the log before the open is kept in ${keptIn})` })
    })), DURABLE)
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

  /** First audit; heals the ledger (prefixes the database holds but it lacks) and compacts it. */
  private async start (): Promise<void> {
    const load = this.dir === undefined ? undefined : await readLedger(this.dir)
    const audit = await this.audit(load)
    this.adopt(audit)
    if (this.dir === undefined || load === undefined) return
    const compact = ledgerNeedsCompaction(load)
    this.ledger = await DelegationLedger.open(this.dir, load, compact ? ledgerState(audit, load) : undefined)
    if (!compact) await this.ledger.delegate([...this.owners].filter(([p, mnId]) => load.delegated.get(p) !== mnId).map(([prefix, mnId]) => ({ prefix, mnId })))
  }

  private async audit (ledger: LedgerLoad | undefined): Promise<AuditResult> {
    return auditCache(await this.scanAll(ledger))
  }

  /** Raw contents of every bucket; a scan stopped by a LevelDB error keeps what it read. */
  private async scanAll (ledger: LedgerLoad | undefined): Promise<AuditInput> {
    const scanErrors: Array<{ bucket: string, message: string }> = []
    const scan = async (bucket: Bucket): Promise<RawRecord[]> => {
      const out: RawRecord[] = []
      try {
        for await (const [key, text] of this.db.iterator({ ...bucketRange(bucket), ...TEXT })) out.push({ key, text })
      } catch (err) {
        scanErrors.push({ bucket, message: err instanceof Error ? err.message : String(err) })
      }
      return out
    }
    return {
      entries: await scan(Bucket.bce),
      allocations: await scan(Bucket.alloc),
      quarantine: await scan(Bucket.quarantine),
      incidents: await scan(Bucket.incident),
      scanErrors,
      ...(ledger !== undefined ? { ledger } : {})
    }
  }

  /** Takes an audit's owners; quarantine only grows (a prefix once in doubt stays so until repair). */
  private adopt (audit: AuditResult): void {
    for (const [prefix, reason] of audit.report.quarantined) if (!this.quarantined.has(prefix)) this.quarantined.set(prefix, reason)
    this.owners = new Map([...audit.owners].filter(([p]) => !this.quarantined.has(p)))
    this.lastReport = { problems: audit.report.problems, quarantined: new Map(this.quarantined) }
    for (const free of this.freeIndices) free.reset(this.allocatedPrefixes())
  }

  /** Audits the database again (in the commit queue) and returns the report (also in `report`). */
  async check (): Promise<CacheReport> {
    return await this.enqueue(async () => {
      this.adopt(await this.audit(this.dir === undefined ? undefined : await readLedger(this.dir)))
      return this.lastReport
    })
  }

  /**
   * Rewrites a consistent cache (one durable batch): drops undecodable values, writes the
   * allocation record of every certain owner and deletes the others, keeps quarantined prefixes
   * in the quarantine bucket (or frees them with `releaseQuarantined`: to their only claimant,
   * or to the pool), clears noted incidents and rewrites the ledger. Returns what it changed.
   * `dmm cache repair` runs LevelDB's own repair first (see ./repair.ts).
   */
  async repair (opts: RepairOptions = {}): Promise<{ changes: string[], report: CacheReport }> {
    return await this.enqueue(async () => {
      const load = this.dir === undefined ? undefined : await readLedger(this.dir)
      const raw = await this.scanAll(load)
      const before = auditCache(raw)
      const plan = planRepair(before, raw, ledgerState(before, load), opts)
      if (plan.batch.length > 0) await this.db.batch(plan.batch, DURABLE)
      if (this.dir !== undefined && load !== undefined) {
        await this.ledger?.close()
        this.ledger = await DelegationLedger.open(this.dir, load, plan.ledger)
      }
      this.quarantined = new Map()
      this.adopt(await this.audit(this.dir === undefined ? undefined : await readLedger(this.dir)))
      return { changes: plan.changes, report: this.lastReport }
    })
  }

  private decode<T> (key: string, text: string, decode: (text: string) => T): T {
    try {
      return decode(text)
    } catch (err) {
      if (err instanceof SchemaError) throw new CorruptEntryError(key, err.message)
      throw err
    }
  }

  /** The entry of one MN; a corrupt value rejects with a CorruptEntryError naming its key. */
  async get (mnId: string): Promise<BindingCacheEntry | undefined> {
    const key = bucketKey(Bucket.bce, mnIdOf(mnId, 'mnId'))
    const text = await this.db.get(key, TEXT)
    return text === undefined ? undefined : this.decode(key, text, decodeEntry)
  }

  /**
   * Every decodable entry, in MN-ID order. An undecodable value is left out (the report names
   * its key), so one damaged entry does not keep the MAAR from restoring all the others.
   */
  async list (): Promise<BindingCacheEntry[]> {
    const entries: BindingCacheEntry[] = []
    for await (const [, text] of this.db.iterator({ ...bucketRange(Bucket.bce), ...TEXT })) {
      try {
        entries.push(decodeEntry(text))
      } catch (err) {
        if (!(err instanceof SchemaError)) throw err
      }
    }
    return entries
  }

  /**
   * Delegated prefixes: prefix -> MN-ID, plus every quarantined prefix -> QUARANTINED, so that
   * `pool.nextFree(new Set(allocations.keys()))` never hands out a prefix whose owner is in
   * doubt. Kept in memory since the open and updated by each commit (this cache must be the
   * database's only writer), so an attach does not scan the bucket (bench/storage.ts).
   */
  async allocations (): Promise<Map<string, string>> {
    const out = new Map(this.owners)
    for (const prefix of this.quarantined.keys()) out.set(prefix, QUARANTINED)
    return out
  }

  /**
   * The free prefixes of `pool`, kept in step with every commit and audit from now on: its
   * `lowest()` is what `pool.nextFree(new Set(allocations().keys()))` returns, quarantined
   * prefixes skipped, in amortised O(log n) instead of O(allocations) per first attach.
   */
  freePrefixes (pool: PrefixPool): FreePrefixes {
    const free = new FreePrefixes(pool, this.allocatedPrefixes())
    this.freeIndices.push(free)
    return free
  }

  /** Every prefix `allocations()` lists: the certain owners' and the quarantined ones. */
  private * allocatedPrefixes (): Iterable<string> {
    yield * this.owners.keys()
    yield * this.quarantined.keys()
  }

  /**
   * Atomic (one LevelDB batch): entries written, entries deleted, prefixes allocated/released.
   * Refuses, writing nothing, an invalid entry (InvalidEntryError), a prefix already allocated
   * to another MN (AllocationConflictError) or a quarantined one (QuarantinedPrefixError).
   * Allocating a prefix again to the same MN is a no-op. Releasing a quarantined prefix deletes
   * its record but leaves it quarantined. Ledger: releases before the batch, allocations after.
   * Resolves once both are on disk (`commitInStages` tells the two apart).
   */
  async commit (tx: Transaction, opts: CommitOptions = {}): Promise<void> {
    await this.commitInStages(tx, opts).inLedger
  }

  /**
   * `commit`, with its two durable steps apart: `onDisk` resolves when the batch is on disk,
   * `inLedger` when the delegation ledger holds its new allocations as well (appended after the
   * batch, as before; the next commit still waits for it). A caller may act on `onDisk` alone
   * where a crash before the ledger append only costs the append: the next open appends what
   * the database holds and the ledger lacks (./delegation-ledger.ts). Both reject when the
   * commit is refused or the batch fails; a rejection nobody awaits is not an unhandled one.
   */
  commitInStages (tx: Transaction, opts: CommitOptions = {}): CommitStages {
    const onDisk = settleable()
    const inLedger = settleable()
    this.pending.push({ tx, sync: opts.sync ?? true, onDisk, inLedger })
    // The first of a group schedules it; those arriving while it waits for the queue join it.
    if (this.pending.length === 1) this.scheduleGroup()
    onDisk.promise.catch(() => {})
    inLedger.promise.catch(() => {})
    return { onDisk: onDisk.promise, inLedger: inLedger.promise }
  }

  private scheduleGroup (): void {
    this.enqueue(async () => { await this.commitGroup() }).catch(() => {})
  }

  private async enqueue<T> (f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f)
    this.queue = run.catch(() => {})
    return await run
  }

  /**
   * Group commit: the transactions waiting when the previous batch ended go to LevelDB as one
   * synced batch (one fsync for all of them). Each is checked on its own, in order, and refused
   * alone; one that allocates or releases a prefix an earlier one of the group touched waits for
   * the next batch, so that ownership and the ledger change in the same order as one by one.
   * Every commit resolves only once its batch is on disk (synced unless all asked otherwise), and
   * its ledger stage once the ledger holds the group's new allocations.
   */
  private async commitGroup (): Promise<void> {
    const waiting = this.pending.splice(0)
    const group: Array<{ commit: PendingCommit, ops: ReturnType<typeof planBatch>, fresh: Array<{ prefix: string, mnId: string }> }> = []
    const deferred: PendingCommit[] = []
    const touched = new Set<string>()
    for (const commit of waiting) {
      let ops: ReturnType<typeof planBatch>
      try {
        ops = planBatch(commit.tx)
        const prefixes = [...ops.allocations.map(a => a.prefix), ...ops.released]
        if (deferred.length > 0 || prefixes.some(p => touched.has(p))) { deferred.push(commit); continue }
        this.checkAllocations(ops.allocations)
        for (const p of prefixes) touched.add(p)
      } catch (err) {
        rejectCommit(commit, err)
        continue
      }
      group.push({ commit, ops, fresh: ops.allocations.filter(({ prefix, mnId }) => this.owners.get(prefix) !== mnId) })
    }
    if (deferred.length > 0) {
      this.pending.unshift(...deferred)
      this.scheduleGroup()
    }
    const batch = group.flatMap(g => g.ops.batch)
    try {
      if (batch.length > 0) {
        await this.ledger?.release(group.flatMap(g => g.ops.released).filter(p => !this.quarantined.has(p)))
        // Unsynced only when every commit of the group asked so and none moves a prefix: the
        // ledger's order (release before the batch, allocation after) counts on the batch being on disk.
        const sync = group.some(g => g.commit.sync || g.ops.allocations.length > 0 || g.ops.released.length > 0)
        await this.db.batch(batch, sync ? DURABLE : TEXT)
        for (const { ops } of group) {
          for (const prefix of ops.released) this.owners.delete(prefix)
          for (const { prefix, mnId } of ops.allocations) this.owners.set(prefix, mnId)
          for (const free of this.freeIndices) {
            // A released prefix still quarantined stays out of the pool (it is still allocated).
            for (const prefix of ops.released) if (!this.quarantined.has(prefix)) free.release(prefix)
            for (const { prefix } of ops.allocations) free.take(prefix)
          }
        }
      }
    } catch (err) {
      for (const { commit } of group) rejectCommit(commit, err)
      return
    }
    for (const { commit } of group) commit.onDisk.resolve()
    try {
      if (batch.length > 0) await this.ledger?.delegate(group.flatMap(g => g.fresh))
    } catch (err) {
      for (const { commit } of group) commit.inLedger.reject(err)
      return
    }
    for (const { commit } of group) commit.inLedger.resolve()
  }

  /** Refuses a prefix quarantined or allocated to another MN (nothing written). */
  private checkAllocations (allocations: Array<{ prefix: string, mnId: string }>): void {
    for (const { prefix, mnId } of allocations) {
      const reason = this.quarantined.get(prefix)
      if (reason !== undefined) throw new QuarantinedPrefixError(prefix, reason, mnId)
      const holder = this.owners.get(prefix)
      if (holder !== undefined && holder !== mnId) throw new AllocationConflictError(prefix, holder, mnId)
    }
  }

  async close (): Promise<void> {
    await this.queue
    await this.ledger?.close()
    this.ledger = undefined
    if (this.dir !== undefined && this.db.status !== 'closed') await this.db.close()
  }
}

export interface CommitOptions {
  /**
   * false: the batch goes to LevelDB's log without an fsync, for a write that an earlier synced
   * one already covers (a crash loses it and leaves that earlier state); the next synced batch
   * makes it durable too. A commit that allocates or releases a prefix is synced all the same.
   */
  sync?: boolean
}

/** The two durable steps of a commit (`BindingCache.commitInStages`). */
export interface CommitStages { onDisk: Promise<void>, inLedger: Promise<void> }

interface Deferred { promise: Promise<void>, resolve: () => void, reject: (err: unknown) => void }

function settleable (): Deferred {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

interface PendingCommit { tx: Transaction, sync: boolean, onDisk: Deferred, inLedger: Deferred }

function rejectCommit (commit: PendingCommit, err: unknown): void {
  commit.onDisk.reject(err)
  commit.inLedger.reject(err)
}

/** What the ledger should hold: every certain owner and every quarantined prefix (last owner known). */
export function ledgerState (audit: AuditResult, load: LedgerLoad | undefined): Map<string, string> {
  const out = new Map(audit.owners)
  for (const prefix of audit.report.quarantined.keys()) out.set(prefix, audit.lastOwners.get(prefix) ?? load?.delegated.get(prefix) ?? 'unknown')
  return out
}

/** classic-level rejects an open on a held LOCK with LEVEL_LOCKED, wrapped by abstract-level. */
export function isLocked (err: unknown): boolean {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === 'LEVEL_LOCKED') return true
  }
  return false
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
