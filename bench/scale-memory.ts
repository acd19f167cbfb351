/**
 * Where the scale engine's memory goes (README "Scale"): N MAARs in this one process (memory
 * transport), MNs attached and looked up as bench/scale.ts does, then the process's memory split
 * into V8 heap spaces, external memory and what RSS holds beyond them; with --snapshot, a V8 heap
 * snapshot for bench/dist/heap-top.js.
 *
 *   npx tsc -b bench && npx node bench/dist/scale-memory.js [--maars 250] [--mns 40] [--lookups 80] [--snapshot file]
 */
import { parseArgs } from 'node:util'
import v8 from 'node:v8'
import { ScaleEngine, rng } from '@dmm-mesh/scale'

const { values } = parseArgs({
  options: {
    maars: { type: 'string', default: '250' },
    mns: { type: 'string', default: '40' },
    lookups: { type: 'string', default: '80' },
    snapshot: { type: 'string' }
  }
})
const maars = Number(values.maars)
const mns = Number(values.mns)
const lookups = Number(values.lookups)
if (![maars, mns, lookups].every(n => Number.isInteger(n) && n >= 2)) {
  process.stderr.write('usage: scale-memory.js [--maars 250] [--mns 40] [--lookups 80] [--snapshot file]\n')
  process.exit(2)
}
const mb = (bytes: number): number => Math.round(bytes / 1e4) / 100
const perMaar = (bytes: number): number => Math.round(bytes / maars / 1e3) / 1e3

const engine = await ScaleEngine.start({ count: maars, workers: 1, log: line => { process.stderr.write(`${line}\n`) } })
try {
  const random = rng(maars)
  const at = new Map<string, number>()
  for (let m = 0; m < mns; m++) {
    const mn = `mn${m}@scale.example`
    const i = Math.floor(random() * maars)
    await engine.attach(mn, i).catch(() => {})
    at.set(mn, i)
  }
  await engine.settled()
  const names = [...at.keys()]
  const paths: Record<string, number> = {}
  for (let k = 0; k < lookups; k++) {
    const sample = await engine.lookup(names[k % names.length] as string, Math.floor(random() * maars))
    paths[sample.path] = (paths[sample.path] ?? 0) + 1
  }
  globalThis.gc?.()
  const usage = process.memoryUsage()
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map(s => [s.space_name, { sizeMB: mb(s.space_size), usedMB: mb(s.space_used_size) }]))
  const counters = await engine.counters()
  const connections = counters.connections.reduce((n, c) => n + c, 0)
  process.stdout.write(`${JSON.stringify({
    maars,
    lookups: paths,
    connections,
    tableEntries: counters.tableSizes.reduce((n, c) => n + c, 0),
    processMB: { rss: mb(usage.rss), heapTotal: mb(usage.heapTotal), heapUsed: mb(usage.heapUsed), external: mb(usage.external), arrayBuffers: mb(usage.arrayBuffers), rssBeyondHeapAndExternal: mb(usage.rss - usage.heapTotal - usage.external) },
    perMaarMB: { rss: perMaar(usage.rss), heapUsed: perMaar(usage.heapUsed), heapTotal: perMaar(usage.heapTotal), external: perMaar(usage.external) },
    perConnectionKB: Math.round(usage.heapUsed / connections / 100) / 10,
    spaces
  }, null, 1)}\n`)
  if (values.snapshot !== undefined) process.stderr.write(`snapshot ${v8.writeHeapSnapshot(values.snapshot)}\n`)
} finally {
  await engine.stop()
}
