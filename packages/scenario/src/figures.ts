/**
 * The figures of a contender's report from what was recorded during its run: per-handover
 * messages (each PBU/PBA and record request goes to the latest handover or departure of its MN
 * before it), the summary, and the load per node per time bucket.
 */
import type { BorderSummary, ContenderReport, HandoverSample } from './report.js'

/** A message as the runner saw it: scenario time, its sender and receiver, and its MN when known. */
export interface Message { t: number, from: string, to: string, octets: number, mnId?: string, record: boolean }

/** A handover's or a departure's start, to which later messages of its MN are charged. */
export interface Episode { t: number, mnId: string, charge: (m: Message) => void }

/** Charges every message with an MN to the latest episode of that MN at or before it. */
export function chargeMessages (messages: Message[], episodes: Episode[]): void {
  const byMn = new Map<string, Episode[]>()
  for (const e of [...episodes].sort((a, b) => a.t - b.t)) byMn.set(e.mnId, [...(byMn.get(e.mnId) ?? []), e])
  for (const m of messages) {
    if (m.mnId === undefined) continue
    const list = byMn.get(m.mnId) ?? []
    let chosen: Episode | undefined
    for (const e of list) if (e.t <= m.t) chosen = e
    chosen?.charge(m)
  }
}

/** The value below which a share `q` of the sorted samples lie (nearest rank). */
function quantile (sorted: number[], q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0
}

const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits

const acceptedLatencies = (samples: HandoverSample[]): number[] => samples.filter(s => s.outcome === 'accepted').map(s => s.latencyMs).sort((a, b) => a - b)

function borderSummary (samples: HandoverSample[]): BorderSummary {
  const latencies = acceptedLatencies(samples)
  return {
    handovers: samples.length,
    accepted: latencies.length,
    refused: samples.filter(s => (s.refusals?.length ?? 0) > 0).length,
    latencyMs: { p50: round(quantile(latencies, 0.5)), p95: round(quantile(latencies, 0.95)), max: round(latencies.at(-1) ?? 0) }
  }
}

export function summarizeHandovers (samples: HandoverSample[]): ContenderReport['summary'] {
  const latencies = acceptedLatencies(samples)
  const per = (v: number): number => samples.length === 0 ? 0 : round(v / samples.length)
  const federated = samples.some(s => s.domains !== undefined)
  return {
    ...(federated ? { byBorder: { crossBorder: borderSummary(samples.filter(s => s.crossBorder === true)), intraDomain: borderSummary(samples.filter(s => s.crossBorder === false)) } } : {}),
    handovers: samples.length,
    accepted: samples.filter(s => s.outcome === 'accepted').length,
    failed: samples.filter(s => s.outcome === 'failed').length,
    latencyMs: { p50: round(quantile(latencies, 0.5)), p95: round(quantile(latencies, 0.95)), p99: round(quantile(latencies, 0.99)), max: round(latencies.at(-1) ?? 0) },
    messagesPerHandover: per(samples.reduce((s, h) => s + h.messages, 0)),
    octetsPerHandover: per(samples.reduce((s, h) => s + h.octets, 0))
  }
}

/** Messages each node sent or received per bucket (at most `maxBuckets` over `durationMs`). */
export function loadSeries (messages: Message[], nodes: string[], durationMs: number, maxBuckets = 60): ContenderReport['load'] {
  const bucketMs = Math.max(1000, Math.ceil(durationMs / maxBuckets / 1000) * 1000)
  const buckets = Math.max(1, Math.ceil(durationMs / bucketMs))
  const counts = new Map(nodes.map(n => [n, new Array<number>(buckets).fill(0)]))
  for (const m of messages) {
    const b = Math.min(buckets - 1, Math.max(0, Math.floor(m.t / bucketMs)))
    for (const node of [m.from, m.to]) {
      const row = counts.get(node)
      if (row !== undefined) row[b] = (row[b] ?? 0) + 1
    }
  }
  return { bucketMs, series: [...counts].map(([node, c]) => ({ node, counts: c })) }
}
