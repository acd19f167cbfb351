/**
 * Handovers per second (issue 13): one process hosts a domain of N MAARs (real libp2p on loopback,
 * LevelDB, memory data plane) and K MNs move at once, round after round, for K = 1, 5, 20, 50 in
 * flight: handovers/s completed (each round ends when every MAAR settled, session record
 * publications included), latency p50/p95/p99, and the process's CPU time per handover
 * (process.cpuUsage: every MAAR, and the CMD, share the process). The same load runs in DHT mode
 * and in the CMD modes of draft-bernardos-dmm-pmip §3 (relay §3.2, proxy §3.4), to find the
 * handover rate at which p99 doubles over the K = 1 p99 (interpolated between measured rates).
 *
 *   npx tsc -b bench && npx node bench/dist/throughput.js [--maars 4] [--inflight 1,5,20,50] [--handovers 100] [--modes dht,relay,proxy] [--dht-put-interval ms]
 *   npx node --cpu-prof --cpu-prof-dir=/tmp/prof bench/dist/throughput.js --modes dht --inflight 20   (then bench/dist/cpu-top.js)
 */
import { parseArgs } from 'node:util'
import { MODES, measureLoad, startDomain, stopDomain, warmUp } from './domain.js'
import type { Domain, Load, Mode } from './domain.js'
import { rateAtDoubledP99, writeResults } from './stats.js'

const { values } = parseArgs({
  options: {
    maars: { type: 'string', default: '4' },
    inflight: { type: 'string', default: '1,5,20,50' },
    handovers: { type: 'string', default: '100' },
    modes: { type: 'string', default: 'dht,relay,proxy' },
    // The directory's interval between two background kad-dht puts of one key (0: one per publication).
    'dht-put-interval': { type: 'string' }
  }
})
const maarCount = Number(values.maars)
const handoversPerK = Number(values.handovers)
const inflight = (values.inflight ?? '').split(',').map(Number).filter(n => Number.isInteger(n) && n >= 1)
const modes = (values.modes ?? '').split(',').filter((m): m is Mode => (MODES as readonly string[]).includes(m))
const putInterval = values['dht-put-interval'] === undefined ? undefined : Number(values['dht-put-interval'])
if ((putInterval !== undefined && !(putInterval >= 0)) || !Number.isInteger(maarCount) || maarCount < 2 || !Number.isInteger(handoversPerK) || handoversPerK < 1 || inflight.length === 0 || modes.length === 0) {
  process.stderr.write(`usage: throughput.js [--maars 4 (≥2)] [--inflight 1,5,20,50] [--handovers 100 (per K, at least)] [--modes ${MODES.join(',')}] [--dht-put-interval ms (≥0; 0: a walk per publication)]\n`)
  process.exit(2)
}

function progress (line: string): void { process.stderr.write(`${line}\n`) }

/** The handover rate at which p99 reaches twice the p99 with one MN in flight (stats.ts rateAtDoubledP99, K = 1 as the base). */
function p99DoublesAt (load: Load[]): { rate: number, reached: boolean } | undefined {
  const measured = load.filter(l => l.handovers > 0).sort((a, b) => a.inflight - b.inflight)
  if (measured[0]?.inflight !== 1) return undefined
  return rateAtDoubledP99(measured.map(l => ({ rate: l.handoversPerSecond, p99: l.handoverMs.p99 })))
}

interface ModeResult { mode: Mode, maars: number, load: Load[], p99DoublesAt?: { rate: number, reached: boolean }, error?: string }

const results: ModeResult[] = []
for (const mode of modes) {
  progress(`${mode}: starting ${maarCount} MAARs${mode === 'dht' ? '' : ' and a CMD'} ...`)
  let d: Domain | undefined
  try {
    d = await startDomain(mode, maarCount, { count: false, ...(putInterval !== undefined ? { dhtPutIntervalMs: putInterval } : {}) })
    await warmUp(d)
    const load: Load[] = []
    for (const k of inflight) {
      // At least `handovers` per K, so that p99 rests on enough samples.
      load.push(await measureLoad(d, k, Math.max(2, Math.ceil(handoversPerK / k))))
      const l = load[load.length - 1] as Load
      progress(`  ${mode} K=${k}: ${l.handoversPerSecond}/s, p50 ${l.handoverMs.median} ms, p99 ${l.handoverMs.p99} ms, CPU ${l.cpuMsPerHandover} ms/handover${l.failed > 0 ? `, ${l.failed} failed: ${JSON.stringify(l.errors)}` : ''}`)
    }
    const doubled = p99DoublesAt(load)
    results.push({ mode, maars: maarCount, load, ...(doubled !== undefined ? { p99DoublesAt: doubled } : {}) })
  } catch (err) {
    progress(`  ${mode}: not measured: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    results.push({ mode, maars: maarCount, load: [], error: err instanceof Error ? err.message : String(err) })
  } finally {
    if (d !== undefined) await stopDomain(d)
  }
}

const row = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |\n`
process.stdout.write(`\n${maarCount} MAARs in one process; K MNs moving at once: handovers/s, latency p50 / p95 / p99 ms, process CPU ms per handover:\n\n`)
process.stdout.write(row(['mode', ...inflight.map(k => `K=${k}`), 'rate at which p99 doubles']))
process.stdout.write(row(['---', ...inflight.map(() => '---'), '---']))
for (const r of results) {
  if (r.error !== undefined) { process.stdout.write(row([r.mode, `not measured: ${r.error}`])); continue }
  const cells = r.load.map(l => `${l.handoversPerSecond}/s, ${l.handoverMs.median} / ${l.handoverMs.p95} / ${l.handoverMs.p99} ms, CPU ${l.cpuMsPerHandover} ms${l.failed > 0 ? `, ${l.failed} failed` : ''}`)
  const doubled = r.p99DoublesAt === undefined ? '-' : `${r.p99DoublesAt.reached ? '' : '> '}${r.p99DoublesAt.rate}/s`
  process.stdout.write(row([r.mode, ...cells, doubled]))
}
const file = await writeResults('throughput', results)
process.stdout.write(`\nresults written to ${file}\n`)
process.exit(0)
