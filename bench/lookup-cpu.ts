/**
 * Lookup latency and CPU on the handover's path, back to back: 10 MAARs of a local mesh (real
 * libp2p over loopback TCP, LevelDB, the memory data plane), one MN attached at each, then
 * `--lookups` lookups of those MNs from the other MAARs, one at a time. Prints p10/p50/p90 and the
 * process CPU per lookup (every MAAR's share: the asker's and the three holders'); `--profile
 * FILE` writes a V8 CPU profile of the lookups alone (read it with bench/dist/cpu-top.js).
 *
 *   npx tsc -b bench && npx node bench/dist/lookup-cpu.js [--lookups 1000] [--profile /tmp/lookups.cpuprofile]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createLocalMesh } from '@dmm-mesh/maar'
import type { LocalMaar } from '@dmm-mesh/maar'
import { DOMAIN } from './domain.js'
import { summarize } from './stats.js'

const { values } = parseArgs({ options: { lookups: { type: 'string', default: '1000' }, profile: { type: 'string' } } })
const lookups = Number(values.lookups)
if (!Number.isInteger(lookups) || lookups < 1) {
  process.stderr.write('usage: lookup-cpu.js [--lookups 1000] [--profile FILE]\n')
  process.exit(2)
}

const COUNT = 10
const dir = await mkdtemp(join(tmpdir(), 'dmm-bench-lookup-cpu-'))
const mesh = await createLocalMesh({ count: COUNT, dataDir: dir })
const at = (i: number): LocalMaar => mesh.maars[i % COUNT] as LocalMaar
try {
  const mns = Array.from({ length: COUNT }, (_, i) => `lookup${i}@${DOMAIN}`)
  for (const [i, mn] of mns.entries()) {
    mesh.network.attachMn(mn, at(i).address)
    await at(i).maar.attach({ mnId: mn, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
  }
  await Promise.all(mesh.maars.map(async m => { await m.maar.settled(); await m.directory.settled() }))
  // Warm up: kept record streams, JIT.
  for (let i = 0; i < 100; i++) await at(i + 3).directory.lookup(mns[i % COUNT] ?? '')
  const session = values.profile === undefined ? undefined : new Session()
  session?.connect()
  await session?.post('Profiler.enable')
  await session?.post('Profiler.start')
  const samples: number[] = []
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < lookups; i++) {
    const t = performance.now()
    const found = await at(i + 3).directory.lookup(mns[i % COUNT] ?? '')
    samples.push(performance.now() - t)
    if (found === undefined) throw new Error(`lookup ${i} found nothing`)
  }
  const cpu = process.cpuUsage(cpu0)
  if (session !== undefined && values.profile !== undefined) {
    const { profile } = await session.post('Profiler.stop')
    await writeFile(values.profile, JSON.stringify(profile))
  }
  const s = summarize(samples)
  const sorted = [...samples].sort((a, b) => a - b)
  const p10 = sorted[Math.floor(0.1 * (sorted.length - 1))] ?? NaN
  process.stdout.write(`lookups ${lookups} (${COUNT} MAARs, one process): p10 ${p10.toFixed(3)} ms, p50 ${s.median} ms, p95 ${s.p95} ms, CPU ${((cpu.user + cpu.system) / 1000 / lookups).toFixed(3)} ms per lookup\n`)
} finally {
  await mesh.stop().catch(() => {})
  await rm(dir, { recursive: true, force: true })
}
process.exit(0)
