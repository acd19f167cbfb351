/**
 * Session lookup latency: SessionDirectory.lookup() (fanout GET to the closest known peers over
 * /dmm/record/1.0.0) against the stock kad-dht get() (lookupStock) for the same records, with N
 * MAARs in one process on loopback (TCP + noise + yamux), plus the time publish() keeps its
 * caller (direct PUTs; the DHT put runs in the background).
 *
 *   npx tsc -b bench && npx node bench/dist/lookup.js [--sizes 10,50] [--records 40] [--lookups 200] [--stock 60]
 *
 * Each node dials a few earlier ones; the DHT's self-queries fill the routing tables.
 */
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { SessionDirectory, TrustStore, createMeshNode, generateKey, issueCertificate } from '@dmm-mesh/discovery'
import type { SessionRecord } from '@dmm-mesh/discovery'
import type { Libp2p } from '@libp2p/interface'
import { fmt, summarize, writeResults } from './stats.js'

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,50' },
    records: { type: 'string', default: '40' },
    lookups: { type: 'string', default: '200' },
    stock: { type: 'string', default: '60' },
    links: { type: 'string', default: '4' }
  }
})
const sizes = (values.sizes ?? '').split(',').map(Number).filter(n => Number.isInteger(n) && n >= 4)
const records = Number(values.records)
const lookups = Number(values.lookups)
const stockLookups = Number(values.stock)
const links = Number(values.links)
if (sizes.length === 0 || ![records, lookups, stockLookups, links].every(n => Number.isInteger(n) && n >= 1)) {
  process.stderr.write('usage: lookup.js [--sizes 10,50] [--records 40] [--lookups 200] [--stock 60] [--links 4]\n')
  process.exit(2)
}

function progress (line: string): void { process.stderr.write(`${line}\n`) }

/** A fixed pseudo-random sequence, so that runs are comparable. */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 }
}

interface Member { node: Libp2p, directory: SessionDirectory, peerId: string, address: string, pool: string }

const tableSize = (node: Libp2p): number => ((node.services.dht as { routingTable?: { size: number } }).routingTable?.size ?? 0)

/** Event-loop lag sampled while the run goes: how loaded the single process is. */
function lagProbe (): { stop: () => number[] } {
  const lags: number[] = []
  let last = performance.now()
  const timer = setInterval(() => { const now = performance.now(); lags.push(now - last - 100); last = now }, 100)
  return { stop: () => { clearInterval(timer); return lags } }
}

async function runSize (count: number): Promise<Record<string, unknown>> {
  // Directory log lines, counted by kind; the first few printed.
  const logged: Record<string, number> = {}
  const log = (line: string): void => {
    const kind = line.replace(/ (to|from|by) \S+.*$/, '').replace(/ of \S+ seq.*$/, '')
    logged[kind] = (logged[kind] ?? 0) + 1
    if (logged[kind] <= 3) progress(`    [directory] ${line.slice(0, 240)}`)
  }
  const random = rng(count)
  const operator = await generateKey()
  const trust = TrustStore.fromOperatorKeys([{ domain: 'dmm.example', publicKey: operator.publicKey }])
  const members: Member[] = []
  const t0 = performance.now()
  for (let i = 1; i <= count; i++) {
    const key = await generateKey()
    const peerId = peerIdFromPrivateKey(key).toString()
    const pool = `2001:db8:${i.toString(16)}::/48`
    const certificate = await issueCertificate(operator, { domain: 'dmm.example', peerId, pools: [pool], addresses: [`2001:db8:ffff::${i.toString(16)}`], notAfter: Date.now() + 86400_000 })
    const earlier = members.slice(-links).map(m => m.node.getMultiaddrs()[0]?.toString() ?? '')
    const node = await createMeshNode({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: earlier, trust })
    const directory = new SessionDirectory(node, { privateKey: key, certificate, trust, log })
    await directory.start()
    members.push({ node, directory, peerId, address: `2001:db8:ffff::${i.toString(16)}`, pool })
  }
  const started = performance.now() - t0
  // Wait (bounded) for the routing tables to fill; report how full they got.
  const want = Math.min(count - 1, 10)
  const waitEnd = Date.now() + 60_000
  while (Date.now() < waitEnd && members.some(m => tableSize(m.node) < want)) await new Promise(resolve => setTimeout(resolve, 250))
  const tables = summarize(members.map(m => tableSize(m.node)))
  const connections = summarize(members.map(m => m.node.getConnections().length))
  const setupMs = performance.now() - t0
  progress(`  ${count} nodes up in ${Math.round(started)} ms, routing tables ${tables.min}..${tables.max} peers after ${Math.round(setupMs)} ms`)

  const pick = (): Member => members[Math.floor(random() * members.length)] as Member
  const published: Array<{ mnId: string, by: Member, sequence: number }> = []
  const publishMs: number[] = []
  for (let r = 0; r < records; r++) {
    const by = pick()
    const mnId = `mn${r}@dmm.example`
    const hex = by.pool.split('::')[0] ?? ''
    const record: SessionRecord = {
      mnId, sequence: 1, issuedAt: Date.now(),
      serving: { peerId: by.peerId, address: by.address, multiaddrs: [] },
      anchors: [{ peerId: by.peerId, address: by.address, multiaddrs: [], prefix: `${hex}:${(r + 1).toString(16)}::/64`, lifetime: 3600 }]
    }
    const t = performance.now()
    try {
      await by.directory.publish(record, [])
    } catch (err) {
      progress(`    publish of ${mnId} failed: ${err instanceof Error ? err.message : String(err)}`)
    }
    publishMs.push(performance.now() - t)
    published.push({ mnId, by, sequence: 1 })
  }
  for (const m of members) await m.directory.settled()
  progress(`  published ${records} records (DHT puts settled)`)

  const lag = lagProbe()
  const fast: number[] = []; const sources: Record<string, number> = {}; let fastMisses = 0
  for (let i = 0; i < lookups; i++) {
    const target = published[Math.floor(random() * published.length)]
    if (target === undefined) continue
    let looker = pick()
    while (looker === target.by) looker = pick()
    const t = performance.now()
    const found = await looker.directory.lookup(target.mnId)
    const ms = performance.now() - t
    if (found?.record.sequence !== target.sequence) { fastMisses++; continue }
    fast.push(ms)
    sources[found.source] = (sources[found.source] ?? 0) + 1
  }
  const stock: number[] = []; let stockMisses = 0
  for (let i = 0; i < stockLookups; i++) {
    const target = published[Math.floor(random() * published.length)]
    if (target === undefined) continue
    let looker = pick()
    while (looker === target.by) looker = pick()
    const t = performance.now()
    const found = await looker.directory.lookupStock(target.mnId).catch(() => undefined)
    const ms = performance.now() - t
    if (found?.record.sequence !== target.sequence) { stockMisses++; continue }
    stock.push(ms)
  }
  const lags = summarize(lag.stop())
  const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20)
  const figures = {
    nodes: count,
    linksPerNode: links,
    setupMs: Math.round(setupMs),
    routingTablePeers: tables,
    connectionsPerNode: connections,
    records,
    publishMs: summarize(publishMs),
    lookupMs: summarize(fast),
    lookupSources: sources,
    lookupMisses: fastMisses,
    stockGetMs: summarize(stock),
    stockMisses,
    eventLoopLagMs: lags,
    directoryLog: logged,
    rssMiB
  }
  process.stdout.write(`N=${count}: lookup ${fmt(figures.lookupMs)}; misses ${fastMisses}; sources ${JSON.stringify(sources)}\n`)
  process.stdout.write(`N=${count}: stock get ${fmt(figures.stockGetMs)}; misses ${stockMisses}\n`)
  process.stdout.write(`N=${count}: publish (caller waits) ${fmt(figures.publishMs)}; event-loop lag ${fmt(lags)}; RSS ${rssMiB} MiB\n`)
  for (const m of members) await m.directory.stop()
  await Promise.all(members.map(async m => { await m.node.stop() }))
  return figures
}

const results: Array<Record<string, unknown>> = []
for (const n of sizes) {
  progress(`lookup benchmark: ${n} nodes`)
  results.push(await runSize(n))
}
const file = await writeResults('lookup', { transport: 'tcp+noise+yamux on 127.0.0.1, all nodes in one process', runs: results })
process.stdout.write(`wrote ${file}\n`)
