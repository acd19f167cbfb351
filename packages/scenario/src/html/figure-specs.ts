/**
 * The figures of report.html as Vega-Lite specs, compiled to Vega here (in Node, at render time)
 * so the page needs only the Vega runtime and every spec is checked by the compiler before a
 * browser sees it. Specs are plain JSON with the data inline (named datasets), so the page can
 * hand each one to `new vega.View(vega.parse(spec))` and a test can read `view.data(name)` back.
 * Report data only ever enters as data values, never into titles or expressions.
 */
import { compile } from 'vega-lite'
import type { TopLevelSpec } from 'vega-lite'
import type { ScenarioReport } from '../report.js'
import { borderCdfRows, busiestNode, busiestNodeLoadRows, contendersThatRan, costRows, faultRows, hasBorders, latencyCdfRows, outcomeRows } from './figure-data.js'
import type { CostRow } from './figure-data.js'

/** What each plot element is called (`data-plot` in the page, and the key of its view for tests). */
export type PlotName = 'latency-cdf' | 'border-latency-cdf' | 'messages-per-handover' | 'octets-per-handover' | 'busiest-node-load' | 'failed-handovers'

export interface Figure {
  plot: PlotName
  /** A line of text under the plot that the chart cannot say itself (e.g. which node was busiest). */
  caption?: string
  /** The compiled Vega spec, data included. */
  vega: ReturnType<typeof compile>['spec']
}

const WIDTH = 460
const HEIGHT = 260
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json'

/** What every figure starts with: its title, size and (named, inline) datasets. */
function frame (title: string, datasets: NonNullable<TopLevelSpec['datasets']>) {
  return { $schema: SCHEMA, title, width: WIDTH, height: HEIGHT, datasets }
}

/** Contenders along the x axis, in report order. */
function contenderAxis (names: string[]) {
  return { field: 'contender', type: 'nominal', title: 'contender', sort: names, axis: { labelAngle: 0 } } as const
}

/** One colour per contender, the same in every figure (the domain fixes the order). */
function contenderColour (names: string[]) {
  return { field: 'contender', type: 'nominal', title: 'contender', scale: { domain: names } } as const
}

function costBars (title: string, field: keyof CostRow, axisTitle: string, rows: CostRow[], names: string[]): TopLevelSpec {
  return {
    ...frame(title, { cost: rows }),
    data: { name: 'cost' },
    mark: { type: 'bar', width: { band: 0.5 } },
    encoding: {
      x: contenderAxis(names),
      y: { field, type: 'quantitative', title: axisTitle },
      color: contenderColour(names),
      tooltip: [{ field: 'contender' }, { field, type: 'quantitative', format: ',.1f', title: axisTitle }]
    }
  }
}

/** The axes of a latency CDF (a fresh object each time: Vega-Lite's types want mutable arrays). */
function cdfAxes () {
  return {
    x: { field: 'latencyMs', type: 'quantitative' as const, title: 'handover latency (ms)' },
    y: { field: 'p', type: 'quantitative' as const, title: 'share of accepted handovers ≤ latency', axis: { format: '.0%' }, scale: { domain: [0, 1] } }
  }
}
const CDF_TOOLTIP = [{ field: 'latencyMs', type: 'quantitative', format: ',.1f', title: 'latency (ms)' }, { field: 'p', type: 'quantitative', format: '.1%', title: 'share ≤ latency' }] as const
// step-after: the share holds from one handover's latency to the next one's.
const CDF_MARK = { type: 'line', interpolate: 'step-after', point: true } as const

function latencyCdf (report: ScenarioReport, names: string[]): TopLevelSpec {
  return {
    ...frame('Handover latency CDF (accepted handovers)', { cdf: latencyCdfRows(contendersThatRan(report)) }),
    data: { name: 'cdf' },
    mark: CDF_MARK,
    encoding: { ...cdfAxes(), color: contenderColour(names), tooltip: [{ field: 'contender' }, ...CDF_TOOLTIP] }
  }
}

/** A federation's handovers: across a border (solid) beside within a domain (dashed), per contender. */
function borderLatencyCdf (report: ScenarioReport, names: string[]): TopLevelSpec {
  return {
    ...frame('Handover latency CDF: cross-border beside intra-domain', { border: borderCdfRows(contendersThatRan(report)) }),
    data: { name: 'border' },
    mark: CDF_MARK,
    encoding: {
      ...cdfAxes(),
      color: contenderColour(names),
      strokeDash: { field: 'border', type: 'nominal', title: 'handover', scale: { domain: ['cross-border', 'intra-domain'], range: [[1, 0], [5, 3]] }, legend: { symbolType: 'stroke', symbolStrokeWidth: 2 } },
      tooltip: [{ field: 'contender' }, { field: 'border', title: 'handover' }, ...CDF_TOOLTIP]
    }
  }
}

function busiestLoad (report: ScenarioReport, names: string[]): TopLevelSpec {
  const ran = contendersThatRan(report)
  return {
    ...frame('Load on the busiest node over time (faults marked)', { load: busiestNodeLoadRows(ran), faults: faultRows(ran) }),
    encoding: { x: { field: 'tS', type: 'quantitative', title: 'time since the start of the run (s)' } },
    layer: [
      {
        data: { name: 'load' },
        mark: { type: 'line', interpolate: 'step-after', point: true },
        encoding: {
          y: { field: 'messagesPerS', type: 'quantitative', title: 'messages handled per second (sent + received)' },
          color: contenderColour(names),
          tooltip: [{ field: 'contender' }, { field: 'node' }, { field: 'tS', type: 'quantitative', title: 'bucket from (s)' }, { field: 'messagesPerS', type: 'quantitative', format: ',.1f', title: 'messages / s' }]
        }
      },
      { data: { name: 'faults' }, mark: { type: 'rule', color: '#666', strokeDash: [4, 3] }, encoding: { tooltip: { field: 'label', title: 'fault' } } },
      { data: { name: 'faults' }, mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, y: 2, color: '#444', fontSize: 10 }, encoding: { text: { field: 'label' } } }
    ]
  }
}

function failedHandovers (report: ScenarioReport, names: string[]): TopLevelSpec {
  return {
    ...frame('Failed and partial handovers', { outcomes: outcomeRows(contendersThatRan(report)) }),
    data: { name: 'outcomes' },
    mark: { type: 'bar', width: { band: 0.5 } },
    encoding: {
      x: contenderAxis(names),
      y: { field: 'count', type: 'quantitative', title: 'handovers', stack: 'zero', axis: { tickMinStep: 1 } },
      color: { field: 'outcome', type: 'nominal', title: 'outcome', scale: { domain: ['failed', 'partial'], range: ['#d62728', '#ff9f1c'] } },
      tooltip: [{ field: 'contender' }, { field: 'outcome' }, { field: 'count', type: 'quantitative' }]
    }
  }
}

function busiestCaption (report: ScenarioReport): string {
  const parts = contendersThatRan(report).map(c => {
    const b = busiestNode(c)
    return b === undefined ? `${c.name}: no load counted` : `${c.name}: ${b.node} (${b.total.toLocaleString('en')} messages)`
  })
  return `Busiest node — ${parts.join('; ')}.`
}

function borderCaption (report: ScenarioReport): string {
  const parts = contendersThatRan(report).flatMap(c => {
    const b = c.summary.byBorder
    return b === undefined ? [] : [`${c.name}: ${b.crossBorder.accepted} cross-border (p50 ${b.crossBorder.latencyMs.p50} ms), ${b.intraDomain.accepted} intra-domain (p50 ${b.intraDomain.latencyMs.p50} ms)`]
  })
  return `Accepted handovers — ${parts.join('; ')}. First attaches are in neither.`
}

/** Every figure of the report, in page order. */
export function reportFigures (report: ScenarioReport): Figure[] {
  const ran = contendersThatRan(report)
  const names = ran.map(c => c.name)
  const costs = costRows(ran)
  const specs: Array<{ plot: PlotName, spec: TopLevelSpec, caption?: string }> = [
    { plot: 'latency-cdf', spec: latencyCdf(report, names) },
    ...(hasBorders(ran) ? [{ plot: 'border-latency-cdf' as const, spec: borderLatencyCdf(report, names), caption: borderCaption(report) }] : []),
    { plot: 'busiest-node-load', spec: busiestLoad(report, names), caption: busiestCaption(report) },
    { plot: 'messages-per-handover', spec: costBars('Messages per handover', 'messagesPerHandover', 'messages per handover', costs, names) },
    { plot: 'octets-per-handover', spec: costBars('Octets per handover', 'octetsPerHandover', 'octets per handover (bytes)', costs, names) },
    { plot: 'failed-handovers', spec: failedHandovers(report, names) }
  ]
  return specs.map(({ plot, spec, caption }) => ({ plot, vega: compile(spec).spec, ...(caption === undefined ? {} : { caption }) }))
}
