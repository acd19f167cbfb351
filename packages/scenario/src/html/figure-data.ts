/**
 * The rows each figure of report.html plots, derived from report.json (`ScenarioReport`). Pure
 * functions, so what a plot shows is testable without a browser; contenders with an `error` ran
 * nothing and are left out of every figure (the page shows their error instead).
 */
import type { ContenderReport, HandoverSample, ScenarioReport } from '../report.js'

/** One point of a contender's handover latency CDF: share `p` of its accepted handovers took ≤ `latencyMs`. */
export interface CdfRow { contender: string, latencyMs: number, p: number }
/** One contender's cost per handover (from its summary). */
export interface CostRow { contender: string, messagesPerHandover: number, octetsPerHandover: number }
/** The load on a contender's busiest node in one bucket of time. */
export interface LoadRow { contender: string, node: string, tS: number, messagesPerS: number }
/** How many handovers of a contender ended with `outcome` (failed or partial). */
export interface OutcomeRow { contender: string, outcome: 'failed' | 'partial', count: number }
/** A fault injected during the run, placed on the time axis. */
export interface FaultRow { tS: number, label: string }
/** The node that handled most messages over a contender's run, and how many. */
export interface BusiestNode { contender: string, node: string, total: number }

/** A point of a contender's latency CDF over the handovers on one side of the border. */
export interface BorderCdfRow extends CdfRow { border: 'cross-border' | 'intra-domain' }

/** Contenders that ran (no `error`), in report order: the ones the figures plot. */
export function contendersThatRan (report: ScenarioReport): ContenderReport[] {
  return report.contenders.filter(c => c.error === undefined)
}

/** One contender's CDF steps over `handovers`: its accepted latencies sorted, p = rank / n. */
function cdfOf (contender: string, handovers: HandoverSample[]): CdfRow[] {
  const latencies = handovers.filter(h => h.outcome === 'accepted').map(h => h.latencyMs).sort((a, b) => a - b)
  return latencies.map((latencyMs, i) => ({ contender, latencyMs, p: (i + 1) / latencies.length }))
}

/** The empirical CDF of accepted handovers' latencies, one step per handover (sorted, p = rank / n). */
export function latencyCdfRows (contenders: ContenderReport[]): CdfRow[] {
  return contenders.flatMap(c => cdfOf(c.name, c.handovers))
}

/** Whether any handover of the report was marked as crossing a border or not (a federation scenario). */
export function hasBorders (contenders: ContenderReport[]): boolean {
  return contenders.some(c => c.handovers.some(h => h.crossBorder !== undefined))
}

/** Per contender, the CDF of cross-border handovers beside the one of handovers within a domain (first attaches in neither). */
export function borderCdfRows (contenders: ContenderReport[]): BorderCdfRow[] {
  return contenders.flatMap(c => [
    ...cdfOf(c.name, c.handovers.filter(h => h.crossBorder === true)).map(r => ({ ...r, border: 'cross-border' as const })),
    ...cdfOf(c.name, c.handovers.filter(h => h.crossBorder === false)).map(r => ({ ...r, border: 'intra-domain' as const }))
  ])
}

export function costRows (contenders: ContenderReport[]): CostRow[] {
  return contenders.map(c => ({ contender: c.name, messagesPerHandover: c.summary.messagesPerHandover, octetsPerHandover: c.summary.octetsPerHandover }))
}

/** The node of `load` with the highest total, or undefined when nothing was counted. */
export function busiestNode (c: ContenderReport): BusiestNode | undefined {
  let best: BusiestNode | undefined
  for (const s of c.load.series) {
    const total = s.counts.reduce((a, b) => a + b, 0)
    if (best === undefined || total > best.total) best = { contender: c.name, node: s.node, total }
  }
  return best
}

/** Each contender's busiest node over time, as a rate (messages per second of its bucket). */
export function busiestNodeLoadRows (contenders: ContenderReport[]): LoadRow[] {
  return contenders.flatMap(c => {
    const busiest = busiestNode(c)
    const series = c.load.series.find(s => s.node === busiest?.node)
    if (busiest === undefined || series === undefined || !(c.load.bucketMs > 0)) return []
    const bucketS = c.load.bucketMs / 1000
    return series.counts.map((count, i) => ({ contender: c.name, node: series.node, tS: i * bucketS, messagesPerS: count / bucketS }))
  })
}

/** Failed and partial handovers per contender, zeros included so every contender has a bar. */
export function outcomeRows (contenders: ContenderReport[]): OutcomeRow[] {
  return contenders.flatMap(c => (['failed', 'partial'] as const).map(outcome =>
    ({ contender: c.name, outcome, count: c.handovers.filter(h => h.outcome === outcome).length })))
}

/** The faults of all contenders (the same trace, so normally the same faults), each once. */
export function faultRows (contenders: ContenderReport[]): FaultRow[] {
  const byKey = new Map<string, FaultRow>()
  for (const f of contenders.flatMap(c => c.faults)) {
    const label = `${f.kind} ${f.target}`
    byKey.set(`${f.t}\u0000${label}`, { tS: f.t / 1000, label })
  }
  return [...byKey.values()].sort((a, b) => a.tS - b.tS)
}
