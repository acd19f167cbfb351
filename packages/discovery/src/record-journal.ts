/**
 * The session records a MAAR holds, on disk (LevelDB), so that a holder that restarts answers
 * for the records it was PUT before instead of "not found" (doc/ARCHITECTURE.md "Records on
 * disk"). Without it a record whose every holder restarted came back only with its publisher's
 * next refresh, and a lookup meanwhile took the holders' "not found" for the key's closest set
 * proving the MN absent. Writes are grouped: the ones made while a batch is on its way go
 * together in the next batch, in order, so the last write of a key is the one that stays.
 */
import { mkdir, rename } from 'node:fs/promises'
import { Level } from 'level'
import type { AbstractBatchOperation } from 'abstract-level'

type RecordLevel = Level<string, Uint8Array>
type Op = AbstractBatchOperation<RecordLevel, string, Uint8Array>

export class RecordJournal {
  private ops: Op[] = []
  private next: Promise<void> | undefined
  private last: Promise<void> = Promise.resolve()

  private constructor (private readonly db: RecordLevel, readonly dir: string) {}

  /**
   * Opens (creating it when missing) the journal in `dir`; rejects when another process holds it.
   * A folder LevelDB cannot open for another reason (damaged files) is set aside, renamed with
   * `.damaged-<time>` and kept for inspection, and the journal starts empty: the records in it
   * are copies the domain's publishers hold and put again, not state only this MAAR had.
   */
  static async open (dir: string): Promise<RecordJournal> {
    try {
      return new RecordJournal(await openLevel(dir), dir)
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown, message?: unknown } }).cause
      if (cause?.code === 'LEVEL_LOCKED') throw err
      const setAside = `${dir}.damaged-${Date.now()}`
      await rename(dir, setAside).catch(() => { throw err })
      const journal = new RecordJournal(await openLevel(dir), dir)
      journal.setAside = { path: setAside, why: typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err) }
      return journal
    }
  }

  /** Where a damaged folder was moved at open, and why it could not be opened. */
  setAside: { path: string, why: string } | undefined

  /** Resolves once the record is written (in the OS's hands: a killed process loses nothing). */
  async put (key: string, bytes: Uint8Array): Promise<void> {
    await this.enqueue({ type: 'put', key, value: bytes })
  }

  async delete (key: string): Promise<void> {
    await this.enqueue({ type: 'del', key })
  }

  /** Every record written and not deleted, by key. */
  async * entries (): AsyncGenerator<[string, Uint8Array]> {
    for await (const entry of this.db.iterator()) yield entry
  }

  /** Waits for the writes queued so far, then closes the database. */
  async close (): Promise<void> {
    await this.last
    await this.db.close()
  }

  /** The op goes in the batch not yet started (started batches have taken their ops). */
  private async enqueue (op: Op): Promise<void> {
    this.ops.push(op)
    let batch = this.next
    if (batch === undefined) {
      batch = this.last.then(async () => {
        const ops = this.ops
        this.ops = []
        this.next = undefined
        await this.db.batch(ops)
      })
      this.next = batch
      this.last = batch.catch(() => {})
    }
    await batch
  }
}

async function openLevel (dir: string): Promise<RecordLevel> {
  await mkdir(dir, { recursive: true })
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  return db
}
