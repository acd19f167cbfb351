/**
 * The session records a MAAR holds, on disk (LevelDB), so that a holder that restarts answers
 * for the records it was PUT before instead of "not found" (doc/ARCHITECTURE.md "Records on
 * disk"). Without it a record whose every holder restarted came back only with its publisher's
 * next refresh, and a lookup meanwhile took the holders' "not found" for the key's closest set
 * proving the MN absent. Writes are grouped: the ones made while a batch is on its way go
 * together in the next batch, in order, so the last write of a key is the one that stays.
 */
import { mkdir } from 'node:fs/promises'
import { Level } from 'level'
import type { AbstractBatchOperation } from 'abstract-level'

type RecordLevel = Level<string, Uint8Array>
type Op = AbstractBatchOperation<RecordLevel, string, Uint8Array>

export class RecordJournal {
  private ops: Op[] = []
  private next: Promise<void> | undefined
  private last: Promise<void> = Promise.resolve()

  private constructor (private readonly db: RecordLevel, readonly dir: string) {}

  /** Opens (creating it when missing) the journal in `dir`; rejects when another process holds it. */
  static async open (dir: string): Promise<RecordJournal> {
    await mkdir(dir, { recursive: true })
    const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await db.open()
    return new RecordJournal(db, dir)
  }

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
