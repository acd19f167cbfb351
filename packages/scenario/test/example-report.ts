/**
 * Reports with known contents for the report.html tests and the README picture: a deterministic
 * generator, so every value a test expects is computed from the same handovers the page gets.
 */
import type { CheckResult, ContenderReport, HandoverSample, ScenarioReport } from '../src/report.js'

/** What one contender of an example run looks like. */
export interface ContenderPlan {
  name: string
  handovers: number
  /** Latency of a handover before jitter (ms), and the spread of the jitter. */
  baseLatencyMs: number
  jitterMs: number
  /** Handovers whose index is in these lists fail / are partial (with `reason`). */
  failedAt?: number[]
  partialAt?: number[]
  reason?: string
  messagesPerHandover: number
  octetsPerMessage: number
  /** Nodes and how many messages per bucket each handles (the busiest one is the largest). */
  load: Array<{ node: string, perBucket: number }>
  violations?: CheckResult[]
  /** The contender could not run: just this error. */
  error?: string
  /** MN names (default mn1..mn8). */
  mns?: string[]
}

export interface ExamplePlan {
  name: string
  seed: number
  maars: number
  durationMs: number
  bucketMs: number
  contenders: ContenderPlan[]
  faults: Array<{ t: number, kind: string, target: string }>
}

/**
 * A spread of values in [0, 1) with no generator state (the golden-ratio sequence): deterministic
 * jitter that still looks like a measurement.
 */
function spread (i: number): number {
  return (i * 0.6180339887498949) % 1
}

/** Nearest-rank percentile (what the test expects the summary to hold). */
export function percentile (sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN
}

function handoversOf (plan: ContenderPlan, durationMs: number): HandoverSample[] {
  const mns = plan.mns ?? Array.from({ length: 8 }, (_, i) => `mn${i + 1}@dmm.example`)
  const maars = plan.load.map(l => l.node).filter(n => n.startsWith('maar'))
  return Array.from({ length: plan.handovers }, (_, i) => {
    const outcome = plan.failedAt?.includes(i) === true ? 'failed' : plan.partialAt?.includes(i) === true ? 'partial' : 'accepted'
    const sample: HandoverSample = {
      t: Math.round((i + 0.5) * durationMs / plan.handovers),
      mn: mns[i % mns.length] ?? 'mn',
      from: i < mns.length ? null : maars[i % maars.length] ?? null,
      to: maars[(i + 1) % maars.length] ?? 'maar1',
      kind: i < mns.length ? 'first-attach' : 'handover',
      outcome,
      latencyMs: Math.round((plan.baseLatencyMs + spread(i + 1) * plan.jitterMs) * 10) / 10,
      messages: plan.messagesPerHandover,
      octets: plan.messagesPerHandover * plan.octetsPerMessage
    }
    if (outcome !== 'accepted') sample.reason = plan.reason ?? 'no answer'
    return sample
  })
}

function contenderOf (plan: ContenderPlan, example: ExamplePlan): ContenderReport {
  const buckets = Math.ceil(example.durationMs / example.bucketMs)
  if (plan.error !== undefined) {
    return {
      name: plan.name,
      handovers: [],
      summary: { handovers: 0, accepted: 0, failed: 0, latencyMs: { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN }, messagesPerHandover: 0, octetsPerHandover: 0 },
      load: { bucketMs: example.bucketMs, series: [] },
      checks: [],
      faults: [],
      error: plan.error
    }
  }
  const handovers = handoversOf(plan, example.durationMs)
  const latencies = handovers.filter(h => h.outcome === 'accepted').map(h => h.latencyMs).sort((a, b) => a - b)
  const passedChecks: CheckResult[] = [10_000, 40_000].map(t => ({ t, check: 'one-serving-maar', passed: true, violations: [] }))
  return {
    name: plan.name,
    handovers,
    summary: {
      handovers: handovers.length,
      accepted: latencies.length,
      failed: handovers.filter(h => h.outcome === 'failed').length,
      latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? Number.NaN },
      messagesPerHandover: handovers.reduce((n, h) => n + h.messages, 0) / handovers.length,
      octetsPerHandover: handovers.reduce((n, h) => n + h.octets, 0) / handovers.length
    },
    load: {
      bucketMs: example.bucketMs,
      // A bump while the fault lasts, so the plot has something to point at.
      series: plan.load.map((l, n) => ({ node: l.node, counts: Array.from({ length: buckets }, (_, b) => Math.round(l.perBucket * (0.8 + 0.4 * spread(b + 7 * n + 1)) * (example.faults.some(f => Math.abs(f.t - b * example.bucketMs) < example.bucketMs) ? 1.6 : 1))) }))
    },
    checks: [...passedChecks, ...(plan.violations ?? [])].sort((a, b) => a.t - b.t),
    faults: example.faults
  }
}

export function exampleReport (plan: ExamplePlan): ScenarioReport {
  return {
    version: 1,
    scenario: { name: plan.name, file: `scenarios/${plan.name}.yaml`, description: 'Example run for the report page (generated, not measured).', seed: plan.seed, maars: plan.maars, mns: 8, durationMs: plan.durationMs },
    run: { startedAt: '2025-01-01T10:00:00.000Z', finishedAt: '2025-01-01T10:02:05.000Z', host: 'example', node: 'v24.9.0' },
    contenders: plan.contenders.map(c => contenderOf(c, plan))
  }
}

/** Three contenders that ran (one with a violation and failures during the fault) and one that could not. */
export function threeContenders (): ExamplePlan {
  const maarLoad = (perBucket: number): Array<{ node: string, perBucket: number }> => [1, 2, 3, 4].map(i => ({ node: `maar${i}`, perBucket: perBucket + i * 3 }))
  return {
    name: 'campus',
    seed: 12,
    maars: 4,
    durationMs: 60_000,
    bucketMs: 5_000,
    faults: [{ t: 20_000, kind: 'down', target: 'maar2' }, { t: 30_000, kind: 'up', target: 'maar2' }],
    contenders: [
      {
        name: 'dht',
        handovers: 40,
        baseLatencyMs: 18,
        jitterMs: 30,
        failedAt: [17, 18],
        partialAt: [19],
        reason: 'previous anchor maar2 did not answer the PBU',
        messagesPerHandover: 6,
        octetsPerMessage: 180,
        load: maarLoad(60),
        violations: [{ t: 25_000, check: 'no-prefix-held-twice', passed: false, violations: ['mn3@dmm.example: 2001:db8:2:1::/64 held by maar2 and maar3'] }]
      },
      { name: 'relay', handovers: 40, baseLatencyMs: 9, jitterMs: 12, messagesPerHandover: 4, octetsPerMessage: 150, load: [...maarLoad(30), { node: 'cmd', perBucket: 160 }] },
      { name: 'proxy', handovers: 0, baseLatencyMs: 0, jitterMs: 0, messagesPerHandover: 0, octetsPerMessage: 0, load: [], error: 'CMD did not start: listen EADDRINUSE 127.0.0.1:5436' }
    ]
  }
}
