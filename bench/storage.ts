/**
 * Binding cache on LevelDB and the in-memory data plane at scale: a durable commit (one synced
 * batch: BCE + prefix allocation), reads, the allocate path of an attach (allocations() + nextFree)
 * as the cache fills, and apply()/trace costs of the memory data plane with many MNs.
 *
 *   npx tsc -b bench && npx node bench/dist/storage.js [--entries 10000] [--commits 300]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BindingCache, PrefixPool } from '@dmm-mesh/binding-cache'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { MemoryNetwork, emptyState } from '@dmm-mesh/dataplane'
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
  const commit: number[] = []; const attachAlloc: number[] = []; const get: number[] = []
  for (let i = 0; i < commits; i++) {
    const mnId = `new${i}@bench`
    let prefix = ''
    attachAlloc.push(await time(async () => { prefix = pool.nextFree(new Set((await cache.allocations()).keys())) }))
    commit.push(await time(async () => { await cache.commit({ put: [entry(mnId, prefix)], allocate: [{ prefix, mnId }] }) }))
    get.push(await time(async () => await cache.get(`mn${i}@bench`)))
  }
  const list = [await time(async () => await cache.list()), await time(async () => await cache.list())]
  await cache.close()
  figures.bindingCache = { entries, commitSyncedMs: summarize(commit), allocationsPlusNextFreeMs: summarize(attachAlloc), getMs: summarize(get), listAllMs: summarize(list) }
  process.stdout.write(`binding cache with ${entries} entries:\n  commit (BCE + allocation, synced batch) ${fmt(summarize(commit))}\n`)
  process.stdout.write(`  allocations() + nextFree (attach path) ${fmt(summarize(attachAlloc))}\n  get ${fmt(summarize(get))}\n  list() all ${fmt(summarize(list))}\n`)

  // Memory data plane: one MAAR serving `entries` MNs natively, another anchoring them all.
  const net = new MemoryNetwork()
  const a = net.createDataPlane({ name: 'maar1', address: '2001:db8:ffff::1', pools: ['2001:db8:1::/48'] })
  const b = net.createDataPlane({ name: 'maar2', address: '2001:db8:ffff::2', pools: ['2001:db8:2::/48'] })
  await a.start(); await b.start()
  const n = Math.min(entries, 0xffff)
  const serving = emptyState(); const anchor = emptyState()
  for (let i = 1; i <= n; i++) {
    const mnId = `mn${i}`; const linkLayerId = '02:00:00:00:00:01'
    const old = `2001:db8:1:${i.toString(16)}::/64`; const local = `2001:db8:2:${i.toString(16)}::/64`
    net.attachMn(mnId, '2001:db8:ffff::2')
    serving.local.push({ mnId, prefix: local, accessLink: 'access0', linkLayerId })
    serving.uplinks.push({ mnId, prefix: old, remote: '2001:db8:ffff::1', accessLink: 'access0' })
    serving.advertisements.push({ mnId, accessLink: 'access0', linkLayerId, prefixes: [{ prefix: local, preferred: true, anchor: '2001:db8:ffff::2' }, { prefix: old, preferred: false, anchor: '2001:db8:ffff::1' }] })
    anchor.downlinks.push({ mnId, prefix: old, remote: '2001:db8:ffff::2' })
  }
  const applyFull = await b.apply(serving)
  await a.apply(anchor)
  const applySame = await b.apply(serving)
  const traces: number[] = []
  for (let i = 1; i <= Math.min(n, 2000); i++) {
    const address = net.mnAddresses(`mn${i}`)[1] ?? ''
    traces.push(await time(() => { if (!net.traceFromCn(address).delivered) throw new Error(`not delivered: ${address}`) }))
  }
  figures.memoryDataPlane = { mns: n, applyFullMs: applyFull.elapsedMs, changes: applyFull.changes.length, applyUnchangedMs: applySame.elapsedMs, traceTunnelledMs: summarize(traces) }
  process.stdout.write(`memory data plane with ${n} MNs (each: 1 local, 1 uplink, 1 RA; anchor: 1 downlink):\n`)
  process.stdout.write(`  apply from empty ${applyFull.elapsedMs.toFixed(1)} ms (${applyFull.changes.length} changes), apply unchanged ${applySame.elapsedMs.toFixed(1)} ms\n`)
  process.stdout.write(`  traceFromCn through a tunnel ${fmt(summarize(traces))}\n`)
  process.stdout.write(`results: ${await writeResults('storage', figures)}\n`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
