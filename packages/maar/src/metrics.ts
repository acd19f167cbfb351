/**
 * What a MAAR counts and times, as an optional component (doc/ARCHITECTURE.md "Inside the MAAR"):
 * the MAAR calls these hooks where things happen and knows nothing of how they are exported. The
 * daemon plugs in a Prometheus implementation (packages/cli/src/observability/metrics.ts); the
 * default does nothing, so an in-process mesh or a benchmark pays one empty call per event.
 */
import type { HandoverReport } from './handover-report.js'

/** How an attach ended: every anchor answered, some are still retransmitted to, or none. */
export type HandoverOutcome = 'complete' | 'partial' | 'deferred' | 'failed'
/** An attach that failed before its kind was known (its session lookup could not tell). */
export type HandoverKind = HandoverReport['kind'] | 'unknown'
/** Who answered a session lookup (discovery/src/lookup.ts), 'none' when the MN had no session. */
export type LookupSource = 'cache' | 'direct' | 'dht' | 'border' | 'none' | 'failed'
/** A PBA this MAAR received as serving MAAR, or sent as anchor. */
export type PbaDirection = 'received' | 'sent'

/** Figures read when metrics are scraped, not counted as they change. */
export interface MaarGauges {
  /** Binding cache entries of MNs attached here. */
  bindingsServing: () => number
  /** Entries of MNs served elsewhere that this MAAR anchors a prefix for. */
  bindingsAnchoring: () => number
  /** Prefixes of this MAAR's pools not delegated (nor quarantined). */
  prefixesFree: () => number | Promise<number>
  /** Domain peers connected. */
  dhtPeers: () => number
  /** Peers in the kad-dht routing table. */
  routingTableSize: () => number
}

export interface MaarMetrics {
  /** An attach ended (the whole attach: lookup, signalling, commit, programming). */
  handover: (kind: HandoverKind, outcome: HandoverOutcome, seconds: number) => void
  lookup: (source: LookupSource, seconds: number) => void
  /** One PBU/PBA round trip that got its PBA. */
  pbuExchange: (seconds: number) => void
  /** A PBA by its status name (wire/src/types.ts BINDING_ACK_STATUS). */
  pba: (direction: PbaDirection, status: string) => void
  /** A PBU sent again to an anchor that had not answered (RFC 5213 §6.9.4). */
  retransmission: () => void
  dataplaneApply: (seconds: number) => void
  /** One synced LevelDB batch of the binding cache. */
  cacheCommit: (seconds: number) => void
  /** Where gauges are read; called by the parts that own them (the MAAR, startMaar), each with its share. */
  gauges: (source: Partial<MaarGauges>) => void
}

const nothing = (): void => {}

/** The default: no metrics. */
export const noMetrics: MaarMetrics = {
  handover: nothing,
  lookup: nothing,
  pbuExchange: nothing,
  pba: nothing,
  retransmission: nothing,
  dataplaneApply: nothing,
  cacheCommit: nothing,
  gauges: nothing
}

/** Seconds since `startMs` (a performance.now() reading), for the hooks above. */
export function secondsSince (startMs: number): number {
  return (performance.now() - startMs) / 1000
}
