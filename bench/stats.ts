/** Shared by the benchmarks: summary statistics and the results file. */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpus, totalmem } from 'node:os'

export interface Summary { n: number, median: number, p95: number, p99: number, min: number, max: number, mean: number }

export function summarize (samples: number[]): Summary {
  if (samples.length === 0) return { n: 0, median: NaN, p95: NaN, p99: NaN, min: NaN, max: NaN, mean: NaN }
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))] ?? NaN
  const round = (v: number): number => Math.round(v * 1000) / 1000
  return {
    n: s.length,
    median: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    min: round(s[0] ?? NaN),
    max: round(s[s.length - 1] ?? NaN),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length)
  }
}

export function fmt (s: Summary, unit = 'ms'): string {
  return `median ${s.median} ${unit}, p95 ${s.p95} ${unit} (n=${s.n}, min ${s.min}, max ${s.max})`
}

/** Where results files go: bench/results/<name>.json beside the sources. */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')

export async function writeResults (name: string, figures: unknown): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true })
  const file = join(RESULTS_DIR, `${name}.json`)
  const body = {
    benchmark: name,
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30) },
    figures
  }
  await writeFile(file, JSON.stringify(body, null, 2) + '\n')
  return file
}

/**
 * The handover rate (/s) at which p99 reaches twice the first point's p99, the points in the
 * order the load grew: linear between the last point below and the first at or above it; the
 * highest rate measured when p99 never doubled (`reached: false`, a lower bound).
 */
export function rateAtDoubledP99 (points: Array<{ rate: number, p99: number }>): { rate: number, reached: boolean } | undefined {
  const base = points[0]?.p99
  if (base === undefined || !Number.isFinite(base)) return undefined
  const limit = 2 * base
  for (let i = 1; i < points.length; i++) {
    const lo = points[i - 1] as { rate: number, p99: number }; const hi = points[i] as { rate: number, p99: number }
    if (hi.p99 >= limit) {
      const f = (limit - lo.p99) / (hi.p99 - lo.p99)
      return { rate: Math.round((lo.rate + f * (hi.rate - lo.rate)) * 10) / 10, reached: true }
    }
  }
  return { rate: Math.max(...points.map(p => p.rate)), reached: false }
}

/** A rateAtDoubledP99 result as a table cell: "> R/s" when p99 never doubled up to R, "-" when unmeasured. */
export function showDoublingRate (d: { rate: number, reached: boolean } | undefined): string {
  return d === undefined ? '-' : `${d.reached ? '' : '> '}${d.rate}/s`
}
