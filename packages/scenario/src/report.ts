/**
 * What one `dmm scenario run` produces (`report.json`), and what `report.html` plots: the same
 * movement trace run once per contender (a discovery mode), with the figures that compare them.
 * Times are milliseconds; `t` is time since the start of that contender's run.
 */

/** A contender: a discovery/signalling mode as a MAAR's config names it (dht, relay, locator, proxy, hybrid, legacy, …). */
export type ContenderName = string

export interface ScenarioReport {
  /** Format of this file; bump on an incompatible change. */
  version: 1
  scenario: {
    name: string
    /** The scenario file as given (path), and what it asked for. */
    file: string
    description?: string
    seed: number
    maars: number
    mns: number
    /** Length of the trace (ms of scenario time). */
    durationMs: number
  }
  /** When and where the run was made. */
  /** `engine`: the engine the runner chose for the file (scenario-schema.ts engineOf), unless the caller gave one. */
  run: { startedAt: string, finishedAt: string, host: string, node: string, engine?: 'local' | 'scale' }
  contenders: ContenderReport[]
}

export interface ContenderReport {
  name: ContenderName
  /** Every handover of the trace, in order of its trigger. */
  handovers: HandoverSample[]
  /** Summary figures of `handovers` (accepted ones only for the latencies). */
  summary: {
    handovers: number
    accepted: number
    failed: number
    latencyMs: { p50: number, p95: number, p99: number, max: number }
    messagesPerHandover: number
    octetsPerHandover: number
    /** In a federation scenario: handovers that crossed a border beside those within a domain (first attaches in neither). */
    byBorder?: { crossBorder: BorderSummary, intraDomain: BorderSummary }
  }
  /** Messages handled (sent + received) per node per time bucket: the busiest node's load over time. */
  load: { bucketMs: number, series: Array<{ node: string, counts: number[] }> }
  /** Results of the scenario's checks, each time they ran. */
  checks: CheckResult[]
  /** Faults injected (node down/up, leave, attach burst), for annotating plots. */
  faults: Array<{ t: number, kind: string, target: string }>
  /** A contender that could not run at all says why (the others still run). */
  error?: string
  /** Every message of the run: PBU + PBA (octets: their Mobility Headers) and record requests + answers (not in octets). */
  totals?: { messages: number, octets: number, recordMessages: number }
  /** MNs that left the domain and the messages charged to their departure (draft-bernardos-dmm-pmip §3.5). */
  departures?: { count: number, messages: number, octets: number }
  /** Bindings still held for MNs that had left the domain, each time the checks ran (§3.5 (b) keeps them until their lifetime). */
  lingering?: Array<{ t: number, bindings: number }>
  /** CN packets traced to the MNs of each flow's group while it ran, and why the lost ones were lost. */
  flows?: Array<{ group: string, sent: number, delivered: number, lost: number, reasons: Record<string, number> }>
}

export interface BorderSummary {
  handovers: number
  accepted: number
  /** Handovers with at least one refusal. */
  refused: number
  latencyMs: { p50: number, p95: number, max: number }
}

export interface HandoverSample {
  t: number
  mn: string
  from: string | null
  to: string
  /** first attach, handover, return, … as the MAAR reported it. */
  kind: string
  outcome: 'accepted' | 'partial' | 'failed'
  latencyMs: number
  /** PBU/PBA (and, where counted, lookup/record) messages and their octets caused by this handover. */
  messages: number
  octets: number
  /** Of `messages`, the record protocol's (lookup GETs, publication PUTs, with their answers). */
  recordMessages?: number
  /** Why a failed or partial handover was so. */
  reason?: string
  /**
   * In a federation scenario: the domains of the previous and the new serving MAAR (`from` null on
   * a first attach), and whether the handover crossed the border between them.
   */
  domains?: { from: string | null, to: string }
  crossBorder?: boolean
  /** Answers that refused part of it (a P-MAAR's status and reason, a refused border lookup), each naming the agreement or policy that refused. */
  refusals?: string[]
}

export interface CheckResult {
  t: number
  /** e.g. `reachable`, `no-prefix-held-twice`, `one-serving-maar`. */
  check: string
  passed: boolean
  /** One line per violation found (MN, prefix, MAARs involved). */
  violations: string[]
}
