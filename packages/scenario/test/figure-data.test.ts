/** What the figures of report.html plot, derived from a report (no browser needed). */
import assert from 'node:assert/strict'
import { busiestNode, busiestNodeLoadRows, faultRows, latencyCdfRows, outcomeRows } from '../src/html/figure-data.js'
import { renderReportHtml } from '../src/report-html.js'
import type { ContenderReport } from '../src/report.js'
import { exampleReport, threeContenders } from './example-report.js'

function contender (over: Partial<ContenderReport>): ContenderReport {
  return {
    name: 'c',
    handovers: [],
    summary: { handovers: 0, accepted: 0, failed: 0, latencyMs: { p50: 0, p95: 0, p99: 0, max: 0 }, messagesPerHandover: 0, octetsPerHandover: 0 },
    load: { bucketMs: 1000, series: [] },
    checks: [],
    faults: [],
    ...over
  }
}

const sample = { t: 0, mn: 'mn1', from: null, to: 'maar1', kind: 'handover', messages: 2, octets: 100 }

describe('figure data of report.html', () => {
  it('steps the latency CDF through accepted handovers only, sorted', () => {
    const c = contender({
      handovers: [
        { ...sample, outcome: 'accepted', latencyMs: 30 },
        { ...sample, outcome: 'failed', latencyMs: 1 },
        { ...sample, outcome: 'accepted', latencyMs: 10 },
        { ...sample, outcome: 'partial', latencyMs: 2 }
      ]
    })
    assert.deepEqual(latencyCdfRows([c]), [{ contender: 'c', latencyMs: 10, p: 0.5 }, { contender: 'c', latencyMs: 30, p: 1 }])
    assert.deepEqual(outcomeRows([c]).map(r => r.count), [1, 1])
  })

  it('picks the node with the highest total as the busiest, and plots its rate per second', () => {
    const c = contender({ load: { bucketMs: 500, series: [{ node: 'a', counts: [9, 0, 0] }, { node: 'b', counts: [3, 4, 5] }] } })
    assert.deepEqual(busiestNode(c), { contender: 'c', node: 'b', total: 12 })
    assert.deepEqual(busiestNodeLoadRows([c]).map(r => [r.tS, r.messagesPerS]), [[0, 6], [0.5, 8], [1, 10]])
  })

  it('plots no load when nothing was counted or the bucket length is not positive', () => {
    assert.equal(busiestNode(contender({})), undefined)
    assert.deepEqual(busiestNodeLoadRows([contender({})]), [])
    assert.deepEqual(busiestNodeLoadRows([contender({ load: { bucketMs: 0, series: [{ node: 'a', counts: [1] }] } })]), [])
  })

  it('marks a fault that several contenders report once', () => {
    const faults = [{ t: 2000, kind: 'up', target: 'cmd' }, { t: 1000, kind: 'down', target: 'cmd' }]
    assert.deepEqual(faultRows([contender({ faults }), contender({ faults })]), [{ tS: 1, label: 'down cmd' }, { tS: 2, label: 'up cmd' }])
  })

  it('renders a report read back from report.json, where NaN latencies became null', () => {
    const report = exampleReport(threeContenders())
    const html = renderReportHtml(JSON.parse(JSON.stringify(report)))
    assert.match(html, /<tr data-contender="dht">.*<td data-field="p50">\d+\.\d<\/td>/)
    const none = contender({ name: 'idle' })
    none.summary.latencyMs.p50 = null as unknown as number
    report.contenders = [none]
    assert.match(renderReportHtml(report), /<td data-field="p50">—<\/td>/)
  })
})
