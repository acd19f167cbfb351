/**
 * `dmm cache repair`: LevelDB's own repair (RepairDB rebuilds the tables from every readable
 * log record and table block), then the cache's consistent rewrite (BindingCache.repair).
 * RepairDB takes no lock of its own, so the cache is first opened and closed normally: that
 * refuses a cache held by a running MAAR (CacheLockedError) and notes what a damaged log loses.
 */
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import type { CacheReport } from './audit.js'
import { BindingCache } from './binding-cache.js'
import { droppedAtOpen, keepWalBeforeOpen } from './leveldb-recovery.js'
import type { RepairOptions } from './repair-plan.js'

/** classic-level's static repair (the `level` typings leave it out; Level is ClassicLevel in Node). */
const repairDb = async (dir: string): Promise<void> => { await (Level as unknown as { repair: (location: string) => Promise<void> }).repair(dir) }

export async function repairCache (dir: string, opts: RepairOptions = {}): Promise<{ changes: string[], report: CacheReport }> {
  await (await BindingCache.open(dir)).close()
  await keepWalBeforeOpen(dir)
  await repairDb(dir)
  const { dropped, keptIn } = await droppedAtOpen(dir)
  const leveldb = dropped.map(d => `LevelDB repair: ${d.file} ${d.message}${keptIn !== undefined ? ` (log kept in ${keptIn})` : ''}`)
  const cache = await BindingCache.open(dir)
  try {
    const { changes, report } = await cache.repair(opts)
    return { changes: [...leveldb, ...changes], report }
  } finally {
    await cache.close()
  }
}

/**
 * The binding cache of a MAAR data directory (`<dataDir>/binding-cache`, as `dmm maar` lays it
 * out), or `dataDir` itself when it is a LevelDB directory; undefined when neither holds one.
 */
export async function findCacheDir (dataDir: string): Promise<string | undefined> {
  for (const dir of [join(dataDir, 'binding-cache'), dataDir]) {
    try {
      await access(join(dir, 'CURRENT'))
      return dir
    } catch { /* not this one */ }
  }
  return undefined
}
