/** `GET /metrics` of the management API: the MAAR's Prometheus exposition (metrics.ts). */
import type { Maar } from '@dmm-mesh/maar'
import { RawAnswer } from '../live-view/http-answers.js'
import { PrometheusMetrics } from './metrics.js'

/** The exposition text; empty (no metric families, still valid) for a MAAR run without metrics. */
export async function metricsReply (maar: Maar): Promise<RawAnswer> {
  const m = maar.metrics
  if (!(m instanceof PrometheusMetrics)) return new RawAnswer('text/plain; version=0.0.4; charset=utf-8', '')
  return new RawAnswer(m.contentType, await m.text())
}
