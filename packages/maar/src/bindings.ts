/**
 * The MAAR's binding cache while it runs (RFC 5213 §5.1 Binding Cache Entries, kept per RFC 8885
 * §3 by every MAAR for the MNs it serves or anchors). Every change of state follows one pattern
 * (doc/ARCHITECTURE.md "One pattern for every change of state"): commit the entries to LevelDB,
 * mirror them in memory, then apply the data plane derived from all of them. The MAAR is the
 * cache's only writer, so reads (every apply, every PBU decision) never go back to disk.
 */
import type { BindingCache, BindingCacheEntry, CommitOptions, Transaction } from '@dmm-mesh/binding-cache'
import { FullApplyNeeded } from '@dmm-mesh/dataplane'
import type { ApplyResult, DataPlane } from '@dmm-mesh/dataplane'
import { desiredState } from './desired-state.js'
import { KeyedMutex } from './keyed-mutex.js'
import type { Logger } from './logger.js'
import { noMetrics, secondsSince } from './metrics.js'
import type { MaarMetrics } from './metrics.js'

/** Lock keys that cannot collide with an MN-ID (a NAI never holds NUL). */
const DATAPLANE_LOCK = '\u0000dataplane'

export class Bindings {
  private readonly entries = new Map<string, BindingCacheEntry>()
  /** MNs committed since the data plane last took their parts. */
  private readonly dirty = new Set<string>()
  /** Whether the data plane was given the whole state since start (then only changed MNs). */
  private applied = false
  /** The apply queued and not started yet, that a caller of program() joins. */
  private nextProgram: Promise<string[]> | undefined
  /** Serialises work per MN: an attach and a PBU for the same MN never interleave. */
  readonly locks = new KeyedMutex()

  constructor (
    readonly cache: BindingCache,
    private readonly dataplane: DataPlane,
    private readonly self: { address: string },
    private readonly log: Logger,
    private readonly metrics: MaarMetrics = noMetrics
  ) {}

  /** Reads LevelDB into memory (once, at start). */
  async load (): Promise<BindingCacheEntry[]> {
    const entries = await this.cache.list()
    for (const e of entries) this.entries.set(e.mnId, e)
    return entries
  }

  get (mnId: string): BindingCacheEntry | undefined {
    return this.entries.get(mnId)
  }

  all (): BindingCacheEntry[] {
    return [...this.entries.values()]
  }

  /** Runs `work` with the MN's lock held. */
  async withMn<T> (mnId: string, work: () => Promise<T>): Promise<T> {
    return await this.locks.run(mnId, work)
  }

  /** Writes to LevelDB (synced unless `opts` says otherwise), then mirrors the change in memory. */
  async commit (tx: Transaction, opts: CommitOptions = {}): Promise<void> {
    const t0 = performance.now()
    await this.cache.commit(tx, opts)
    this.mirror(tx, t0)
  }

  /**
   * `commit`, resolving `onDisk` once the batch is on disk (the change is mirrored in memory
   * then) and `inLedger` once the delegation ledger holds its allocations too.
   */
  commitInStages (tx: Transaction, opts: CommitOptions = {}): { onDisk: Promise<void>, inLedger: Promise<void> } {
    const t0 = performance.now()
    const stages = this.cache.commitInStages(tx, opts)
    const onDisk = stages.onDisk.then(() => { this.mirror(tx, t0) })
    const inLedger = onDisk.then(async () => await stages.inLedger)
    inLedger.catch(() => {})
    return { onDisk, inLedger }
  }

  private mirror (tx: Transaction, t0: number): void {
    this.metrics.cacheCommit(secondsSince(t0))
    for (const mnId of tx.delete ?? []) { this.entries.delete(mnId); this.dirty.add(mnId) }
    for (const e of tx.put ?? []) { this.entries.set(e.mnId, e); this.dirty.add(e.mnId) }
  }

  /**
   * Applies the data plane derived from the entries; returns the changes made. The first time
   * (and after a failure) from every entry; then from the entries committed since, as only they
   * can have changed (every change of state is a commit).
   */
  async program (): Promise<string[]> {
    // Callers that come while the next apply waits for the lock share it (it takes every MN
    // committed until it starts): the PBUs of one group commit cost one apply, not one each.
    this.nextProgram ??= this.locks.run(DATAPLANE_LOCK, async () => {
      this.nextProgram = undefined
      const t0 = performance.now()
      const result = await this.applyChanged()
      this.metrics.dataplaneApply(secondsSince(t0))
      for (const change of result.changes) this.log.debug('dataplane', { change })
      return result.changes
    })
    return await this.nextProgram
  }

  private async applyChanged (): Promise<ApplyResult> {
    const only = [...this.dirty]
    this.dirty.clear()
    try {
      if (this.applied) {
        try {
          return await this.dataplane.apply(desiredState(only.flatMap(id => this.entries.get(id) ?? []), this.self), { only })
        } catch (err) {
          if (!(err instanceof FullApplyNeeded)) throw err
        }
      }
      const result = await this.dataplane.apply(desiredState(this.all(), this.self))
      this.applied = true
      return result
    } catch (err) {
      // What the data plane holds is in doubt: the whole state next time.
      this.applied = false
      throw err
    }
  }

  /** program(), returning how long it took (ms): the reports and the netns benchmark show it. */
  async timedProgram (): Promise<number> {
    const t = performance.now()
    await this.program()
    return performance.now() - t
  }
}
