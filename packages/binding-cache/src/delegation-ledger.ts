/**
 * The delegation ledger: an append-only, fsync'd text file beside LevelDB's files
 * (`<dir>/delegations.journal`) naming every prefix this MAAR has delegated and not yet released.
 *
 * Why it exists: LevelDB recovers its write-ahead log with paranoid checks off (classic-level
 * exposes no way to turn them on), so a damaged log record is dropped at open — with it the rest
 * of its 32 KiB block — and the prefix allocations it held vanish without an error. A MAAR that
 * trusted the database alone would delegate those prefixes again while their MNs still use them
 * (RFC 8885 §3.1: a MAAR's delegated prefixes are exclusive to one MN). The ledger is written by
 * this module alone, outside the LevelDB log, so a damaged LevelDB log cannot erase it: a prefix
 * the ledger holds but the database has no owner for is "owner in doubt" (see ./audit.ts).
 *
 * Ordering with the LevelDB batch (binding-cache.ts): an allocation is appended AFTER its batch is
 * on disk, a release BEFORE. A crash in between then leaves the database holding a prefix the
 * ledger lacks (healed at the next open by appending it), never the ledger holding a prefix the
 * database released on purpose — that would quarantine it for nothing. A serving MAAR therefore
 * sends its PBUs once the batch is on disk and lets the append run meanwhile
 * (`BindingCache.commitInStages`); the MN gets the prefix only after both.
 *
 * Format: one line per change, `<json>\t<crc32 hex>`, json `{"op":"+","prefix","mnId"}` or
 * `{"op":"-","prefix"}`. A line whose checksum fails is reported (ledger corruption) and skipped;
 * a last line without its newline is a torn append from a crash and is cut off (the database has
 * the allocation, since the append came after the batch). Open rewrites the file compactly
 * (temp file, fsync, rename) when it holds far more lines than live delegations.
 */
import { open, readFile, rename } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'

export const LEDGER_FILE = 'delegations.journal'

export interface LedgerLoad {
  /** prefix -> MN it was last delegated to, for every prefix delegated and not released. */
  delegated: Map<string, string>
  /** Lines that failed their checksum or did not parse, by 1-based line number. */
  badLines: Array<{ line: number, reason: string }>
  /** Lines read (live + superseded), to decide on compaction. */
  lines: number
  /** Bytes of the file up to its last newline: a torn (newline-less) last line is cut there. */
  completeBytes: number
  /** The file ended in a torn (newline-less) line. */
  tornTail: boolean
}

type Change = { op: '+', prefix: string, mnId: string } | { op: '-', prefix: string }

function line (change: Change): string {
  const json = JSON.stringify(change)
  return `${json}\t${crc32(json).toString(16)}\n`
}

function parseLine (text: string): Change {
  const tab = text.lastIndexOf('\t')
  if (tab < 0) throw new Error('no checksum')
  const json = text.slice(0, tab)
  if (crc32(json).toString(16) !== text.slice(tab + 1)) throw new Error('checksum mismatch')
  const v: unknown = JSON.parse(json)
  if (typeof v !== 'object' || v === null) throw new Error('not an object')
  const { op, prefix, mnId } = v as Record<string, unknown>
  if (typeof prefix !== 'string' || prefix === '') throw new Error('no prefix')
  if (op === '-') return { op, prefix }
  if (op === '+' && typeof mnId === 'string' && mnId !== '') return { op, prefix, mnId }
  throw new Error(`bad op ${JSON.stringify(op)}`)
}

export async function readLedger (dir: string): Promise<LedgerLoad> {
  let text = ''
  try {
    text = await readFile(join(dir, LEDGER_FILE), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const rows = text.split('\n')
  const tail = rows.pop() ?? ''
  const completeBytes = Buffer.byteLength(text, 'utf8') - Buffer.byteLength(tail, 'utf8')
  const out: LedgerLoad = { delegated: new Map(), badLines: [], lines: rows.length, completeBytes, tornTail: tail !== '' }
  for (const [i, row] of rows.entries()) {
    let change: Change
    try {
      change = parseLine(row)
    } catch (err) {
      out.badLines.push({ line: i + 1, reason: err instanceof Error ? err.message : String(err) })
      continue
    }
    if (change.op === '+') out.delegated.set(change.prefix, change.mnId)
    else out.delegated.delete(change.prefix)
  }
  return out
}

/** Appends with fsync; one writer only (the process holding the LevelDB LOCK of the same dir). */
export class DelegationLedger {
  private constructor (private readonly dir: string, private file: FileHandle) {}

  /**
   * Opens for appending after `load` (what readLedger found), cutting a torn tail so the next
   * append starts a fresh line. With `rewrite`, first replaces the file by exactly that map
   * (compaction, or the repair's new state).
   */
  static async open (dir: string, load: LedgerLoad, rewrite?: ReadonlyMap<string, string>): Promise<DelegationLedger> {
    if (rewrite !== undefined) {
      await writeAtomically(dir, rewrite)
    } else if (load.tornTail) {
      const f = await open(join(dir, LEDGER_FILE), 'r+')
      try {
        await f.truncate(load.completeBytes)
        await f.sync()
      } finally { await f.close() }
    }
    return new DelegationLedger(dir, await open(join(dir, LEDGER_FILE), 'a'))
  }

  async delegate (entries: Iterable<{ prefix: string, mnId: string }>): Promise<void> {
    await this.append([...entries].map(({ prefix, mnId }) => line({ op: '+', prefix, mnId })))
  }

  async release (prefixes: Iterable<string>): Promise<void> {
    await this.append([...prefixes].map(prefix => line({ op: '-', prefix })))
  }

  private async append (lines: string[]): Promise<void> {
    if (lines.length === 0) return
    await this.file.appendFile(lines.join(''), 'utf8')
    await this.file.datasync()
  }

  async close (): Promise<void> {
    await this.file.close()
  }

  get path (): string { return join(this.dir, LEDGER_FILE) }
}

async function writeAtomically (dir: string, delegated: ReadonlyMap<string, string>): Promise<void> {
  const tmp = join(dir, `${LEDGER_FILE}.tmp`)
  const f = await open(tmp, 'w')
  try {
    await f.writeFile([...delegated].map(([prefix, mnId]) => line({ op: '+', prefix, mnId })).join(''), 'utf8')
    await f.sync()
  } finally {
    await f.close()
  }
  await rename(tmp, join(dir, LEDGER_FILE))
  const d = await open(dir, 'r')
  try { await d.sync() } finally { await d.close() }
}

/**
 * Superseded lines pile up: compact when they outnumber the live ones by far, unless some line
 * is bad (rewriting would erase the evidence the report shows; `dmm cache repair` rewrites).
 */
export function ledgerNeedsCompaction (load: LedgerLoad): boolean {
  return load.badLines.length === 0 && load.lines > 2 * load.delegated.size + 1024
}
