/**
 * The README's picture of a report: the report.json of a run (or, without one, the example
 * report of the tests: generated values, not a measurement) rendered as report.html and
 * saved as a screenshot of its page, from the top to the end of the figures, in chromium.
 * Run: `npx tsc -b && node packages/scenario/dist/test/report-screenshot.js doc/report.png [OUT/report.json]`
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { ScenarioReport } from '../src/report.js'
import { writeReportHtml } from '../src/report-html.js'
import { exampleReport, threeContenders } from './example-report.js'
import { launchChromium, openReport } from './report-browser.js'

async function main (out: string, reportJson: string | undefined): Promise<void> {
  const report = reportJson === undefined ? exampleReport(threeContenders()) : JSON.parse(await readFile(reportJson, 'utf8')) as ScenarioReport
  const dir = await mkdtemp(join(tmpdir(), 'dmm-report-png-'))
  const browser = await launchChromium()
  try {
    const { page, rendered, offsite } = await openReport(browser, await writeReportHtml(dir, report), { width: 1240, height: 900 })
    if (rendered !== 'true' || offsite.length > 0) throw new Error(`the report did not render offline (rendered=${String(rendered)}, fetched ${offsite.join(', ')})`)
    // Down to the end of the figures: the tables of failures below can run for pages.
    const figures = await page.locator('#figures').boundingBox()
    await page.screenshot({ path: out, fullPage: true, ...(figures === null ? {} : { clip: { x: 0, y: 0, width: 1240, height: Math.ceil(figures.y + figures.height + 16) } }) })
    console.log(`wrote ${out}`)
  } finally {
    await browser.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const [out, reportJson] = process.argv.slice(2)
if (out === undefined) {
  console.error('usage: node packages/scenario/dist/test/report-screenshot.js OUT.png [REPORT.json]')
  process.exitCode = 2
} else {
  await main(resolve(out), reportJson === undefined ? undefined : resolve(reportJson))
}
