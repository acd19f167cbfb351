/**
 * The text parts of report.html, written here as static HTML (readable without script): the
 * header, the summary table, the contenders that could not run, and the tables of failures and
 * check violations. Every string from the report goes through `escapeHtml`.
 */
import type { BorderSummary, ContenderReport, ScenarioReport } from '../report.js'
import { escapeHtml } from './escape.js'

/** `value` with `digits` decimals, or a dash when it is not a number (NaN becomes null in report.json). */
export function formatNumber (value: number | null | undefined, digits: number): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—'
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** A length of time as people read it: 850 ms, 12.3 s, 4 min 05 s. */
export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${formatNumber(ms / 1000, 1)} s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
}

function seconds (ms: number): string {
  return formatNumber(ms / 1000, 1)
}

function row (cells: string[], attributes = ''): string {
  return `<tr${attributes}>${cells.join('')}</tr>`
}

function cell (field: string, text: string): string {
  return `<td data-field="${field}">${escapeHtml(text)}</td>`
}

function table (id: string, headings: string[], rows: string[]): string {
  return `<table id="${id}"><thead><tr>${headings.map(h => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`
}

export function headerSection (report: ScenarioReport): string {
  const { scenario, run } = report
  const runMs = Date.parse(run.finishedAt) - Date.parse(run.startedAt)
  const facts: Array<[string, string]> = [
    ['file', scenario.file],
    ['seed', String(scenario.seed)],
    ['MAARs', String(scenario.maars)],
    ['MNs', String(scenario.mns)],
    ['trace', formatDuration(scenario.durationMs)],
    ['contenders', report.contenders.map(c => c.name).join(', ')],
    ['run', `${run.startedAt} (took ${formatDuration(runMs)})`],
    ['host', `${run.host}, Node ${run.node}`]
  ]
  return `<header>
<h1 id="scenario-name">${escapeHtml(scenario.name)}</h1>
${scenario.description === undefined ? '' : `<p id="scenario-description">${escapeHtml(scenario.description)}</p>`}
<dl id="scenario-facts">${facts.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd data-fact="${escapeHtml(k)}">${escapeHtml(v)}</dd></div>`).join('')}</dl>
</header>`
}

const SUMMARY_HEADINGS = ['contender', 'handovers', 'accepted', 'failed', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'max (ms)', 'messages / handover', 'octets / handover', 'checks passed']

function summaryRow (c: ContenderReport): string {
  const attributes = ` data-contender="${escapeHtml(c.name)}"`
  const name = cell('contender', c.name)
  if (c.error !== undefined) {
    return row([name, `<td class="error" data-field="error" colspan="${SUMMARY_HEADINGS.length - 1}">could not run: ${escapeHtml(c.error)}</td>`], attributes)
  }
  const s = c.summary
  const passed = c.checks.filter(k => k.passed).length
  return row([
    name,
    cell('handovers', formatNumber(s.handovers, 0)),
    cell('accepted', formatNumber(s.accepted, 0)),
    cell('failed', formatNumber(s.failed, 0)),
    cell('p50', formatNumber(s.latencyMs.p50, 1)),
    cell('p95', formatNumber(s.latencyMs.p95, 1)),
    cell('p99', formatNumber(s.latencyMs.p99, 1)),
    cell('max', formatNumber(s.latencyMs.max, 1)),
    cell('messages', formatNumber(s.messagesPerHandover, 1)),
    cell('octets', formatNumber(s.octetsPerHandover, 0)),
    cell('checks', `${passed} / ${c.checks.length}`)
  ], attributes)
}

const BORDER_HEADINGS = ['contender', 'across the border: handovers', 'accepted', 'refused', 'p50 (ms)', 'p95 (ms)', 'within a domain: handovers', 'accepted', 'refused', 'p50 (ms)', 'p95 (ms)']

/** A federation's handovers across a border beside those within a domain (report.ts `byBorder`). */
function borderTable (report: ScenarioReport): string {
  const rows = report.contenders.flatMap(c => {
    const b = c.summary.byBorder
    if (c.error !== undefined || b === undefined) return []
    const side = (prefix: string, x: BorderSummary): string[] => [
      cell(`${prefix}-handovers`, formatNumber(x.handovers, 0)), cell(`${prefix}-accepted`, formatNumber(x.accepted, 0)), cell(`${prefix}-refused`, formatNumber(x.refused, 0)),
      cell(`${prefix}-p50`, formatNumber(x.latencyMs.p50, 1)), cell(`${prefix}-p95`, formatNumber(x.latencyMs.p95, 1))
    ]
    return [row([cell('contender', c.name), ...side('cross', b.crossBorder), ...side('intra', b.intraDomain)], ` data-contender="${escapeHtml(c.name)}"`)]
  })
  if (rows.length === 0) return ''
  return `<p>Handovers between MAARs of different domains beside those within one (first attaches in neither); refused: a P-MAAR or a border lookup refused part of it.</p>
${table('border-table', BORDER_HEADINGS, rows)}`
}

export function summarySection (report: ScenarioReport): string {
  return `<section id="summary"><h2>Summary</h2>
<p>Latencies are of accepted handovers; messages and octets count the signalling each handover caused.</p>
${table('summary-table', SUMMARY_HEADINGS, report.contenders.map(summaryRow))}
${borderTable(report)}</section>`
}

/** The contenders that could not run, each with its error, where their plots would be. */
export function errorSection (report: ScenarioReport): string {
  const failed = report.contenders.filter(c => c.error !== undefined)
  if (failed.length === 0) return ''
  return `<section id="contender-errors"><h2>Contenders that could not run</h2>
${failed.map(c => `<div class="contender-error" data-contender="${escapeHtml(c.name)}"><h3>${escapeHtml(c.name)}</h3><pre>${escapeHtml(c.error ?? '')}</pre></div>`).join('\n')}</section>`
}

function violationsTable (ran: ContenderReport[]): string {
  const rows = ran.flatMap(c => c.checks.filter(k => !k.passed).flatMap(k => k.violations.map(v =>
    row([cell('contender', c.name), cell('t', seconds(k.t)), cell('check', k.check), cell('violation', v)]))))
  const runs = ran.reduce((n, c) => n + c.checks.length, 0)
  if (rows.length === 0) return `<p id="no-violations">No check found a violation (${runs} check runs).</p>`
  return table('violations', ['contender', 't (s)', 'check', 'violation'], rows)
}

/** Failed and partial handovers grouped by their reason, so one cause repeated 100 times is one line. */
function failureReasonsTable (ran: ContenderReport[]): string {
  const rows = ran.flatMap(c => {
    const groups = new Map<string, { outcome: string, reason: string, count: number, firstT: number }>()
    for (const h of c.handovers.filter(h => h.outcome !== 'accepted')) {
      const reason = h.reason ?? '(no reason given)'
      const key = `${h.outcome}\u0000${reason}`
      const g = groups.get(key)
      if (g === undefined) groups.set(key, { outcome: h.outcome, reason, count: 1, firstT: h.t })
      else g.count++
    }
    return [...groups.values()].map(g => row([cell('contender', c.name), cell('outcome', g.outcome), cell('reason', g.reason), cell('count', String(g.count)), cell('first', seconds(g.firstT))]))
  })
  if (rows.length === 0) return '<p id="no-failures">Every handover was accepted.</p>'
  return table('failure-reasons', ['contender', 'outcome', 'reason', 'handovers', 'first at (s)'], rows)
}

/** What refused parts of handovers (each naming its agreement or policy), grouped by contender and text. */
function refusalsTable (ran: ContenderReport[]): string {
  const rows = ran.flatMap(c => {
    const groups = new Map<string, { count: number, firstT: number }>()
    for (const h of c.handovers) {
      for (const r of h.refusals ?? []) {
        const g = groups.get(r)
        if (g === undefined) groups.set(r, { count: 1, firstT: h.t })
        else g.count++
      }
    }
    return [...groups].map(([refusal, g]) => row([cell('contender', c.name), cell('refusal', refusal), cell('count', String(g.count)), cell('first', seconds(g.firstT))]))
  })
  if (rows.length === 0) return ''
  return `<h3>Refusals</h3>
${table('refusals', ['contender', 'refusal', 'handovers', 'first at (s)'], rows)}`
}

export function failuresSection (ran: ContenderReport[]): string {
  return `<section id="failures"><h2>Failures and check violations</h2>
<h3>Check violations</h3>
${violationsTable(ran)}
<h3>Failed and partial handovers</h3>
${failureReasonsTable(ran)}
${refusalsTable(ran)}</section>`
}
