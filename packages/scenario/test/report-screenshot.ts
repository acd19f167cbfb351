/**
 * The README's picture of a report: renders the example report of the tests (generated values,
 * not a measurement) and saves a screenshot of its page in chromium.
 * Run: `npx tsc -b && node packages/scenario/dist/test/report-screenshot.js doc/report.png`
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { writeReportHtml } from '../src/report-html.js'
import { exampleReport, threeContenders } from './example-report.js'
import { launchChromium, openReport } from './report-browser.js'

async function main (out: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dmm-report-png-'))
  const browser = await launchChromium()
  try {
    const { page, rendered, offsite } = await openReport(browser, await writeReportHtml(dir, exampleReport(threeContenders())), { width: 1240, height: 900 })
    if (rendered !== 'true' || offsite.length > 0) throw new Error(`the report did not render offline (rendered=${String(rendered)}, fetched ${offsite.join(', ')})`)
    await page.screenshot({ path: out, fullPage: true })
    console.log(`wrote ${out}`)
  } finally {
    await browser.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const out = process.argv[2]
if (out === undefined) {
  console.error('usage: node packages/scenario/dist/test/report-screenshot.js OUT.png')
  process.exitCode = 2
} else {
  await main(resolve(out))
}
