/**
 * Binding cache on LevelDB at scale: a durable commit (one synced batch: BCE + prefix
 * allocation), reads, and the allocate path of an attach (the cache's FreePrefixes, beside the
 * scan of allocations() + nextFree it replaced) as the cache fills. The data plane's costs with many MNs are in dataplane.ts.
 *
 *   npx tsc -b bench && npx node bench/dist/storage.js [--entries 10000] [--commits 300]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BindingCache, PrefixPool } from '@dmm-mesh/binding-cache'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { formatPrefix, parsePrefix, subPrefix } from '@dmm-mesh/wire'
import { fmt, summarize, writeResults } from './stats.js'

const { values } = parseArgs({ options: { entries: { type: 'string', default: '10000' }, commits: { type: 'string', default: '300' } } })
const entries = Number(values.entries)
const commits = Number(values.commits)

function entry (mnId: string, prefix: string): BindingCacheEntry {
  const now = Date.now()
  return {
    mnId, localPrefixes: [prefix], attached: true, access: { link: 'access0', linkLayerId: '02:00:00:00:00:01', accessTechnology: 3 },
    remoteAnchors: [], lastUpdate: { sequence: 1, timestampMs: now }, sessionSequence: 1, expiresAt: now + 3600_000, createdAt: now, updatedAt: now
  }
}

async function time<T> (f: () => Promise<T> | T): Promise<number> {
  const t0 = performance.now()
  await f()
  return performance.now() - t0
}

const dir = await mkdtemp(join(tmpdir(), 'dmm-bench-storage-'))
const figures: Record<string, unknown> = {}
try {
  const cache = await BindingCache.open(join(dir, 'cache'))
  const pool = new PrefixPool(['2001:db8::/32'])
  // Fill to `entries` with unsynced-equivalent speed: one big commit per 1000.
  for (let i = 0; i < entries; i += 1000) {
    const put: BindingCacheEntry[] = []; const allocate: Array<{ prefix: string, mnId: string }> = []
    for (let j = i; j < Math.min(entries, i + 1000); j++) {
      const prefix = formatPrefix(subPrefix(parsePrefix('2001:db8::/32'), 64, j))
      put.push(entry(`mn${j}@bench`, prefix)); allocate.push({ prefix, mnId: `mn${j}@bench` })
    }
    await cache.commit({ put, allocate })
  }
  const commit: number[] = []; const attachAlloc: number[] = []; const scanAlloc: number[] = []; const get: number[] = []
  // The MAAR's attach path: the free prefixes the cache keeps in step with its commits.
  const free = cache.freePrefixes(pool)
  for (let i = 0; i < commits; i++) {
    const mnId = `new${i}@bench`
    let prefix = ''
    attachAlloc.push(await time(() => { prefix = free.lowest() }))
    // The path before: a scan of every allocation, for comparison (it must agree).
    scanAlloc.push(await time(async () => { if (pool.nextFree(new Set((await cache.allocations()).keys())) !== prefix) throw new Error('FreePrefixes and nextFree disagree') }))
    commit.push(await time(async () => { await cache.commit({ put: [entry(mnId, prefix)], allocate: [{ prefix, mnId }] }) }))
    get.push(await time(async () => await cache.get(`mn${i}@bench`)))
  }
  const list = [await time(async () => await cache.list()), await time(async () => await cache.list())]
  await cache.close()
  figures.bindingCache = { entries, commitSyncedMs: summarize(commit), freePrefixesLowestMs: summarize(attachAlloc), allocationsPlusNextFreeMs: summarize(scanAlloc), getMs: summarize(get), listAllMs: summarize(list) }
  process.stdout.write(`binding cache with ${entries} entries:\n  commit (BCE + allocation, synced batch) ${fmt(summarize(commit))}\n`)
  process.stdout.write(`  freePrefixes().lowest() (attach path) ${fmt(summarize(attachAlloc))}\n  allocations() + nextFree (the scan it replaced) ${fmt(summarize(scanAlloc))}\n  get ${fmt(summarize(get))}\n  list() all ${fmt(summarize(list))}\n`)

  process.stdout.write(`results: ${await writeResults('storage', figures)}\n`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
