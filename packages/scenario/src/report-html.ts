/**
 * report.html: one self-contained page (no network: the Vega runtime, styles and data are inline)
 * that shows a `ScenarioReport` — header, summary table, the figures comparing the contenders, and
 * the failures and check violations. See html/ for its parts; `report.ts` for the data.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ScenarioReport } from './report.js'
import { escapeHtml, jsonForScriptElement } from './html/escape.js'
import { reportFigures } from './html/figure-specs.js'
import type { Figure } from './html/figure-specs.js'
import { contendersThatRan } from './html/figure-data.js'
import { PAGE_SCRIPT } from './html/page-script.js'
import { REPORT_STYLE } from './html/style.js'
import { errorSection, failuresSection, headerSection, summarySection } from './html/sections.js'
import { vegaRuntime } from './html/vega-runtime.js'

/** What the page's JSON element holds: the report itself and the compiled figures. */
export interface ReportPagePayload { report: ScenarioReport, figures: Figure[] }

/** The page fetches nothing: only inline scripts and styles, and images as data: URLs (Vega's PNG export). */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:"

function figureElement (f: Figure): string {
  const caption = f.caption === undefined ? '' : `<figcaption>${escapeHtml(f.caption)}</figcaption>`
  return `<figure data-plot="${f.plot}"><div class="chart"></div>${caption}</figure>`
}

export function renderReportHtml (report: ScenarioReport): string {
  const figures = contendersThatRan(report).length === 0 ? [] : reportFigures(report)
  const payload: ReportPagePayload = { report, figures }
  const plots = figures.length === 0
    ? '<p id="no-plots">No contender ran, so there is nothing to plot.</p>'
    : `<div class="figures">${figures.map(figureElement).join('\n')}</div>`
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${report.scenario.name} — dmm scenario report`)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
${headerSection(report)}
${summarySection(report)}
${errorSection(report)}
<section id="figures"><h2>Figures</h2>
${plots}
</section>
${failuresSection(contendersThatRan(report))}
<script type="application/json" id="report-data">${jsonForScriptElement(payload)}</script>
<script>${vegaRuntime()}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`
}

/** Writes `dir/report.html` for `report`, and answers its path. */
export async function writeReportHtml (dir: string, report: ScenarioReport): Promise<string> {
  const file = join(dir, 'report.html')
  await writeFile(file, renderReportHtml(report))
  return file
}
