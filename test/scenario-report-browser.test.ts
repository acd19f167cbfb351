/**
 * The report.html of a real run (issue 12): `dmm scenario run` as a separate process on a short
 * scenario with two contenders, then its report.html opened over file:// in Debian's chromium
 * with the network cut off (packages/scenario/test/report-browser.ts). The latency CDF must hold
 * exactly the accepted latencies of report.json per contender, the summary table the report's
 * numbers, and the legends the contenders' names.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import type { ContenderReport, ScenarioReport } from '@dmm-mesh/scenario'
import { chromiumMissing, CHROMIUM, launchChromium, openReport, viewData } from '@dmm-mesh/scenario/report-browser'
import { dmm } from './daemons.js'

const FIXTURE = resolve(fileURLToPath(import.meta.url), '../../fixtures/scenario-two-contenders.yaml')

/** A figure of report.json as the summary table prints it (English digits, `digits` decimals). */
const printed = (v: number, digits: number): string => v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits })

describe('report.html of a real `dmm scenario run`, in chromium', function () {
  this.timeout(300_000)
  let dir: string
  let report: ScenarioReport
  let browser: Browser | undefined
  let page: Page

  before(async function () {
    if (await chromiumMissing()) {
      console.log(`    skipped: ${CHROMIUM} is missing (Debian package chromium; .ci/run installs it)`)
      this.skip()
    }
    dir = await mkdtemp(join(tmpdir(), 'dmm-report-real-'))
    const out = join(dir, 'out')
    const run = await dmm(['scenario', 'run', FIXTURE, '--out', out], 240_000)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /written: .*report\.json, .*report\.html/)
    report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as ScenarioReport
    browser = await launchChromium()
    const opened = await openReport(browser, join(out, 'report.html'))
    assert.equal(opened.rendered, 'true', `the plots were not drawn: ${String(await opened.page.getAttribute('body', 'data-render-error'))}`)
    assert.deepEqual(opened.offsite, [], 'the page tried to fetch from the network')
    page = opened.page
  })

  after(async () => {
    await browser?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  const ran = (): ContenderReport[] => report.contenders

  it('ran both contenders of the file, each with accepted handovers', () => {
    assert.deepEqual(ran().map(c => c.name), ['dht', 'relay'])
    for (const c of ran()) {
      assert.equal(c.error, undefined)
      assert.ok(c.summary.accepted > 0, `${c.name} accepted no handover`)
    }
  })

  it('plots exactly the accepted latencies of report.json on the CDF, per contender', async () => {
    const rows = await viewData(page, 'latency-cdf', 'cdf')
    for (const c of ran()) {
      const accepted = c.handovers.filter(h => h.outcome === 'accepted').map(h => h.latencyMs).sort((a, b) => a - b)
      const mine = rows.filter(r => r.contender === c.name)
      assert.deepEqual(mine.map(r => r.latencyMs), accepted, `${c.name}: latencies on the CDF`)
      assert.deepEqual(mine.map(r => r.p), accepted.map((_, i) => (i + 1) / accepted.length), `${c.name}: CDF steps`)
    }
    // Drawn, not only held: one point per accepted handover, one line per contender.
    const total = ran().reduce((n, c) => n + c.summary.accepted, 0)
    assert.equal(await page.locator('[data-plot="latency-cdf"] g.mark-symbol.role-mark path').count(), total)
    assert.equal(await page.locator('[data-plot="latency-cdf"] g.mark-line.role-mark path').count(), ran().length)
  })

  it('shows the report\'s numbers in the summary table', async () => {
    for (const c of ran()) {
      const row = page.locator(`#summary-table tr[data-contender="${c.name}"]`)
      const shown = async (field: string): Promise<string> => await row.locator(`[data-field="${field}"]`).innerText()
      const s = c.summary
      assert.equal(await shown('handovers'), printed(s.handovers, 0), `${c.name} handovers`)
      assert.equal(await shown('accepted'), printed(s.accepted, 0), `${c.name} accepted`)
      assert.equal(await shown('failed'), printed(s.failed, 0), `${c.name} failed`)
      for (const q of ['p50', 'p95', 'p99', 'max'] as const) assert.equal(await shown(q), printed(s.latencyMs[q], 1), `${c.name} ${q}`)
      assert.equal(await shown('messages'), printed(s.messagesPerHandover, 1), `${c.name} messages per handover`)
      assert.equal(await shown('octets'), printed(s.octetsPerHandover, 0), `${c.name} octets per handover`)
      assert.equal(await row.locator('[data-field="checks"]').innerText(), `${c.checks.filter(k => k.passed).length} / ${c.checks.length}`)
    }
    assert.equal(await page.locator('#scenario-name').innerText(), report.scenario.name)
    assert.equal(await page.locator('[data-fact="seed"]').innerText(), String(report.scenario.seed))
  })

  it('names the contenders in the legends', async () => {
    for (const plot of ['latency-cdf', 'busiest-node-load', 'messages-per-handover', 'octets-per-handover']) {
      assert.deepEqual((await page.locator(`[data-plot="${plot}"] g.role-legend-label text`).allTextContents()).map(t => t.trim()), ['dht', 'relay'], `${plot} legend`)
    }
  })

  it('marks the run\'s fault on the load plot', async () => {
    const faults = (await page.locator('[data-plot="busiest-node-load"] g.mark-text.role-mark text').allTextContents()).map(t => t.trim())
    assert.ok(faults.includes('maar-down maar4') && faults.includes('maar-up maar4'), faults.join(', '))
  })
})
