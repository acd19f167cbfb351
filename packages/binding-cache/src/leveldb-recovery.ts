/**
 * What LevelDB dropped while opening. With paranoid checks off (classic-level cannot turn them
 * on), LevelDB recovers a damaged write-ahead log by skipping the bad record and the rest of its
 * block, converts what is left into a table and deletes the log: the loss is silent except for a
 * line in its info log, `<dir>/LOG`, which it starts afresh at every open:
 *
 *   (ignoring error) <dir>/000003.log: dropping 361 bytes; Corruption: checksum mismatch
 *
 * This module reads those lines after the open, and keeps hard links to the `*.log` files taken
 * just before it, so the damaged log survives LevelDB deleting it (`<dir>/corrupt-wal-<time>/`)
 * for whoever investigates. What the dropped records held is not in the database any more; the
 * delegation ledger (./delegation-ledger.ts) is what tells which prefixes went with them.
 */
import { link, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

const INFO_LOG = 'LOG'
const KEPT = 'wal-before-open'

/** A "dropping" (or other corruption) line of LevelDB's info log: file and reason as it wrote them. */
export interface DroppedLog { file: string, message: string }

/** Hard-links the write-ahead logs before LevelDB opens (and may delete) them; cheap, no copy. */
export async function keepWalBeforeOpen (dir: string): Promise<void> {
  const kept = join(dir, KEPT)
  await rm(kept, { recursive: true, force: true })
  const logs = (await readdir(dir).catch(() => [] as string[])).filter(f => /^\d+\.log$/.test(f))
  if (logs.length === 0) return
  await mkdir(kept)
  for (const f of logs) await link(join(dir, f), join(kept, f))
}

/**
 * Reads what the open just logged. When something was dropped, the logs kept by
 * keepWalBeforeOpen move to `corrupt-wal-<time>` (returned); otherwise they are removed.
 */
export async function droppedAtOpen (dir: string, now = new Date()): Promise<{ dropped: DroppedLog[], keptIn?: string }> {
  let text = ''
  try {
    text = await readFile(join(dir, INFO_LOG), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const dropped = parseInfoLog(text)
  const kept = join(dir, KEPT)
  if (dropped.length === 0) {
    await rm(kept, { recursive: true, force: true })
    return { dropped }
  }
  const keptIn = join(dir, `corrupt-wal-${now.toISOString().replace(/[:.]/g, '-')}`)
  try {
    await rename(kept, keptIn)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { dropped }
    throw err
  }
  return { dropped, keptIn }
}

/** LevelDB 1.20 db_impl.cc / repair.cc LogReporter lines, and "Ignoring error" of a failed compaction. */
export function parseInfoLog (text: string): DroppedLog[] {
  const out: DroppedLog[] = []
  for (const row of text.split('\n')) {
    const m = /(Log #\d+): dropping (\d+) bytes; (.*)$/.exec(row) ??
      /(?:\(ignoring error\) )?(\S+): dropping (\d+) bytes; (.*)$/.exec(row)
    if (m !== null) {
      out.push({ file: basename(m[1] ?? ''), message: `dropped ${m[2] ?? '?'} bytes: ${m[3] ?? ''}` })
      continue
    }
    const ignored = /Ignoring error (.*)$/.exec(row)
    if (ignored !== null) out.push({ file: INFO_LOG, message: `LevelDB ignored an error: ${ignored[1] ?? ''}` })
  }
  return out
}

function basename (path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}
