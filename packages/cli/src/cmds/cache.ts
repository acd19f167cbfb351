/**
 * `dmm cache check` / `dmm cache repair`: the binding cache of a stopped MAAR, offline. Check
 * opens it as the MAAR does (so LevelDB recovers its log exactly as at a start) and prints the
 * audit (one problem per line, naming its key); repair runs LevelDB's repair and rewrites a
 * consistent cache (@dmm-mesh/binding-cache repairCache). Both refuse a cache a running MAAR
 * holds (its LevelDB LOCK).
 */
import { BindingCache, CacheLockedError, findCacheDir, formatReport, repairCache } from '@dmm-mesh/binding-cache'
import { CliError } from '../errors.js'

export interface CacheCommandOptions { dataDir: string, releaseQuarantined: boolean, out: (line: string) => void }

async function cacheDir (dataDir: string): Promise<string> {
  const dir = await findCacheDir(dataDir)
  if (dir === undefined) throw new CliError(`no binding cache in ${dataDir} (looked for ${dataDir}/binding-cache and ${dataDir} itself)`)
  return dir
}

/** Exit code: 0 when the cache is consistent, 1 when the audit found problems. */
export async function cacheCommand (action: string | undefined, o: CacheCommandOptions): Promise<number> {
  if (action !== 'check' && action !== 'repair') throw new CliError(`dmm cache needs check or repair, got ${JSON.stringify(action ?? '')} (see dmm --help)`)
  if (action === 'check' && o.releaseQuarantined) throw new CliError('--release-quarantined goes with dmm cache repair')
  const dir = await cacheDir(o.dataDir)
  try {
    if (action === 'check') {
      const cache = await BindingCache.open(dir)
      const report = cache.report
      await cache.close()
      for (const line of formatReport(report)) o.out(line)
      return report.problems.length === 0 ? 0 : 1
    }
    const { changes, report } = await repairCache(dir, { releaseQuarantined: o.releaseQuarantined })
    for (const change of changes) o.out(`changed: ${change}`)
    if (changes.length === 0) o.out('nothing to change')
    for (const line of formatReport(report)) o.out(line)
    return report.problems.length === 0 ? 0 : 1
  } catch (err) {
    if (err instanceof CacheLockedError) throw new CliError(err.message)
    throw err
  }
}
