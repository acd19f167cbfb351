/**
 * The MAAR's metrics (packages/maar/src/metrics.ts) in Prometheus text format, served by
 * `GET /metrics`. One Registry per MAAR, never prom-client's global one, so that several MAARs in
 * one process (tests) do not mix their figures. Names follow Prometheus conventions: the `dmm_`
 * prefix, the unit as suffix (`_seconds`), `_total` for counters.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { HandoverKind, HandoverOutcome, LookupSource, MaarGauges, MaarMetrics, PbaDirection } from '@dmm-mesh/maar'

/** Buckets from 0.5 ms to 10 s: a PBU round trip on loopback is well under 1 ms, a DHT fallback seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export class PrometheusMetrics implements MaarMetrics {
  readonly registry = new Registry()
  private readonly sources: Partial<MaarGauges> = {}
  private readonly handovers = new Counter({ name: 'dmm_handovers_total', help: 'Attaches by kind (first-attach, handover, return, refresh) and outcome (complete, partial, deferred, failed)', labelNames: ['kind', 'outcome'], registers: [this.registry] })
  private readonly handoverSeconds = new Histogram({ name: 'dmm_handover_duration_seconds', help: 'Attach trigger to both ends programmed, by kind', labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers: [this.registry] })
  private readonly lookupSeconds = new Histogram({ name: 'dmm_lookup_duration_seconds', help: 'Session lookups by who answered (cache, direct, dht; none: no session; failed)', labelNames: ['source'], buckets: LATENCY_BUCKETS, registers: [this.registry] })
  private readonly exchangeSeconds = new Histogram({ name: 'dmm_pbu_pba_duration_seconds', help: 'PBU sent to PBA received', buckets: LATENCY_BUCKETS, registers: [this.registry] })
  private readonly pbas = new Counter({ name: 'dmm_pbas_total', help: 'PBAs received (as serving MAAR) and sent (as anchor), by status', labelNames: ['direction', 'status'], registers: [this.registry] })
  private readonly retransmissions = new Counter({ name: 'dmm_pbu_retransmissions_total', help: 'PBUs sent again to anchors that had not answered (RFC 5213 §6.9.4)', registers: [this.registry] })
  private readonly applySeconds = new Histogram({ name: 'dmm_dataplane_apply_duration_seconds', help: 'Data plane programming of the desired state', buckets: LATENCY_BUCKETS, registers: [this.registry] })
  private readonly commitSeconds = new Histogram({ name: 'dmm_cache_commit_duration_seconds', help: 'Synced LevelDB batches of the binding cache', buckets: LATENCY_BUCKETS, registers: [this.registry] })

  constructor () {
    const sources = this.sources
    const read = async (name: keyof MaarGauges): Promise<number | undefined> => await sources[name]?.()
    /* eslint-disable no-new -- a metric registers itself; its collect() reads the MAAR at scrape time */
    new Gauge({
      name: 'dmm_bindings',
      help: 'Binding cache entries held, by role: serving (MN attached here) or anchoring (MN served elsewhere)',
      labelNames: ['role'],
      registers: [this.registry],
      async collect () {
        for (const [role, name] of [['serving', 'bindingsServing'], ['anchoring', 'bindingsAnchoring']] as const) {
          const v = await read(name)
          if (v !== undefined) this.set({ role }, v)
        }
      }
    })
    const single = (name: string, help: string, source: keyof MaarGauges): void => {
      new Gauge({ name, help, registers: [this.registry], async collect () { const v = await read(source); if (v !== undefined) this.set(v) } })
    }
    /* eslint-enable no-new */
    single('dmm_pool_prefixes_free', 'Prefixes of this MAAR\'s pools neither delegated nor quarantined', 'prefixesFree')
    single('dmm_dht_peers', 'Domain peers connected', 'dhtPeers')
    single('dmm_dht_routing_table_peers', 'Peers in the kad-dht routing table', 'routingTableSize')
  }

  handover (kind: HandoverKind, outcome: HandoverOutcome, seconds: number): void {
    this.handovers.inc({ kind, outcome })
    this.handoverSeconds.observe({ kind }, seconds)
  }

  lookup (source: LookupSource, seconds: number): void {
    this.lookupSeconds.observe({ source }, seconds)
  }

  pbuExchange (seconds: number): void {
    this.exchangeSeconds.observe(seconds)
  }

  pba (direction: PbaDirection, status: string): void {
    this.pbas.inc({ direction, status })
  }

  retransmission (): void {
    this.retransmissions.inc()
  }

  dataplaneApply (seconds: number): void {
    this.applySeconds.observe(seconds)
  }

  cacheCommit (seconds: number): void {
    this.commitSeconds.observe(seconds)
  }

  gauges (source: Partial<MaarGauges>): void {
    Object.assign(this.sources, source)
  }

  /** The exposition text `GET /metrics` answers. */
  async text (): Promise<string> {
    return await this.registry.metrics()
  }

  get contentType (): string {
    return this.registry.contentType
  }
}
