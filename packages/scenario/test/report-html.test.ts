/**
 * report.html in a real browser: a report generated with known values is written to disk, opened
 * over file:// in Debian's chromium with the network cut off, and each plot must hold the run's
 * data (read back from its Vega view and counted in the drawn SVG); the tables must say what the
 * report says; hostile names from a scenario file must stay text.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { renderReportHtml, writeReportHtml } from '../src/report-html.js'
import { summarizeHandovers } from '../src/figures.js'
import type { ContenderReport, ScenarioReport } from '../src/report.js'
import { exampleReport, percentile, threeContenders } from './example-report.js'
import { chromiumMissing, CHROMIUM, launchChromium, openReport, viewData } from './report-browser.js'
import type { OpenedReport } from './report-browser.js'

const HOSTILE = '</script><script>alert(1)</script><!--'

function contender (report: ScenarioReport, name: string): ContenderReport {
  const c = report.contenders.find(c => c.name === name)
  assert.ok(c !== undefined, `no contender ${name}`)
  return c
}

function acceptedLatencies (c: ContenderReport): number[] {
  return c.handovers.filter(h => h.outcome === 'accepted').map(h => h.latencyMs).sort((a, b) => a - b)
}

async function texts (page: Page, selector: string): Promise<string[]> {
  return (await page.locator(selector).allTextContents()).map(t => t.trim())
}

/** A report whose every name a scenario file or a peer could choose is `HOSTILE`. */
function hostileReport (): ScenarioReport {
  const plan = threeContenders()
  plan.name = HOSTILE
  plan.faults = [{ t: 20_000, kind: 'down', target: HOSTILE }]
  const [dht, relay, proxy] = plan.contenders
  assert.ok(dht !== undefined && relay !== undefined && proxy !== undefined)
  dht.mns = [HOSTILE]
  dht.reason = HOSTILE
  dht.violations = [{ t: 25_000, check: HOSTILE, passed: false, violations: [HOSTILE] }]
  relay.name = HOSTILE
  relay.load = [{ node: HOSTILE, perBucket: 100 }]
  proxy.error = HOSTILE
  return exampleReport(plan)
}

const AGREEMENT_REFUSAL = 'a1 ADMINISTRATIVELY_PROHIBITED: b.example refused: agreement a-accepts-b: revoked at 2026-11-25T20:00:20.000Z'

/**
 * The example report as a federation's (report.ts `domains`, `crossBorder`, `refusals`): every
 * third handover (not a first attach) crosses from domain a into b, the others stay in a; every
 * crossing after 20 s has a refusal naming the agreement. Summaries recomputed as the runner does.
 */
function federatedReport (): ScenarioReport {
  const report = exampleReport(threeContenders())
  for (const c of report.contenders.filter(c => c.error === undefined)) {
    c.handovers.forEach((h, i) => {
      if (h.from === null) { h.domains = { from: null, to: 'a' }; return }
      h.crossBorder = i % 3 === 0
      h.domains = { from: 'a', to: h.crossBorder ? 'b' : 'a' }
      if (h.crossBorder && h.t > 20_000) h.refusals = [AGREEMENT_REFUSAL]
    })
    c.summary = summarizeHandovers(c.handovers)
  }
  return report
}

describe('report.html as text', () => {
  it('carries no </script or <!-- but its own, whatever the names in the report', () => {
    const html = renderReportHtml(hostileReport())
    assert.equal(html.match(/<\/script/gi)?.length, 3, 'three script elements: data, Vega, page script')
    assert.equal(html.match(/<!--/g), null)
    assert.ok(!html.includes('<script>alert'), 'a hostile name reached the page unescaped')
  })

  it('embeds the report itself, readable back from the JSON element', () => {
    const report = hostileReport()
    const html = renderReportHtml(report)
    const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)?.[1]
    assert.ok(json !== undefined)
    const payload = JSON.parse(json) as { report: ScenarioReport }
    assert.deepEqual(payload.report, JSON.parse(JSON.stringify(report)))
  })

  it('fetches nothing: a Content-Security-Policy allows no source but inline', () => {
    const html = renderReportHtml(exampleReport(threeContenders()))
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/)
    assert.ok(!/\ssrc=|\shref=/.test(html.replace(/<script>[\s\S]*?<\/script>/g, '')), 'an element outside the inline scripts points somewhere')
  })
})

describe('report.html in chromium', function () {
  this.timeout(120_000)
  let dir: string
  let browser: Browser | undefined

  before(async function () {
    if (await chromiumMissing()) {
      console.log(`    skipped: ${CHROMIUM} is missing (Debian package chromium; .ci/run installs it)`)
      this.skip()
    }
    dir = await mkdtemp(join(tmpdir(), 'dmm-report-html-'))
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  async function open (name: string, report: ScenarioReport): Promise<OpenedReport> {
    assert.ok(browser !== undefined)
    const sub = join(dir, name)
    await mkdir(sub)
    const opened = await openReport(browser, await writeReportHtml(sub, report))
    assert.equal(opened.rendered, 'true', `the plots were not drawn: ${String(await opened.page.getAttribute('body', 'data-render-error'))}`)
    assert.deepEqual(opened.offsite, [], 'the page tried to fetch from the network')
    return opened
  }

  describe('with three contenders (one that could not run)', () => {
    const report = exampleReport(threeContenders())
    const ran = ['dht', 'relay']
    let page: Page

    before(async function () {
      if (browser === undefined) this.skip()
      page = (await open('three', report)).page
    })

    it('draws every figure in its data-plot element, each with a title', async () => {
      for (const plot of ['latency-cdf', 'busiest-node-load', 'messages-per-handover', 'octets-per-handover', 'failed-handovers']) {
        assert.equal(await page.locator(`[data-plot="${plot}"] svg`).count(), 1, `${plot} has no chart`)
        const title = await texts(page, `[data-plot="${plot}"] g.role-title-text text`)
        assert.equal(title.length, 1, `${plot} has no title`)
      }
    })

    it('plots each accepted handover of each contender on the latency CDF', async () => {
      const rows = await viewData(page, 'latency-cdf', 'cdf')
      for (const name of ran) {
        const expected = acceptedLatencies(contender(report, name))
        const mine = rows.filter(r => r.contender === name)
        assert.deepEqual(mine.map(r => r.latencyMs), expected, `${name}: latencies on the CDF`)
        assert.deepEqual(mine.map(r => r.p), expected.map((_, i) => (i + 1) / expected.length), `${name}: CDF steps`)
      }
      // …and drawn: one point per accepted handover, one line per contender.
      const accepted = ran.reduce((n, name) => n + acceptedLatencies(contender(report, name)).length, 0)
      assert.equal(await page.locator('[data-plot="latency-cdf"] g.mark-symbol.role-mark path').count(), accepted)
      assert.equal(await page.locator('[data-plot="latency-cdf"] g.mark-line.role-mark path').count(), ran.length)
    })

    it('names every contender that ran in the legends, and not the one that could not', async () => {
      for (const plot of ['latency-cdf', 'busiest-node-load', 'messages-per-handover', 'octets-per-handover']) {
        const legend = await texts(page, `[data-plot="${plot}"] g.role-legend-label text`)
        assert.deepEqual(legend, ran, `${plot} legend`)
      }
    })

    it('plots messages and octets per handover as the summaries say, one bar each', async () => {
      for (const [plot, field] of [['messages-per-handover', 'messagesPerHandover'], ['octets-per-handover', 'octetsPerHandover']] as const) {
        const rows = await viewData(page, plot, 'cost')
        assert.deepEqual(rows.map(r => [r.contender, r[field]]), ran.map(name => [name, contender(report, name).summary[field]]))
        assert.equal(await page.locator(`[data-plot="${plot}"] g.mark-rect.role-mark path`).count(), ran.length)
      }
    })

    it('plots the load of the busiest node of each contender, and marks the faults', async () => {
      const rows = await viewData(page, 'busiest-node-load', 'load')
      for (const [name, busiest] of [['dht', 'maar4'], ['relay', 'cmd']] as const) {
        const c = contender(report, name)
        const series = c.load.series.find(s => s.node === busiest)
        assert.ok(series !== undefined)
        const mine = rows.filter(r => r.contender === name)
        assert.ok(mine.every(r => r.node === busiest), `${name}: busiest node should be ${busiest}`)
        assert.deepEqual(mine.map(r => r.messagesPerS), series.counts.map(n => n / (c.load.bucketMs / 1000)))
      }
      const faults = await texts(page, '[data-plot="busiest-node-load"] g.mark-text.role-mark text')
      assert.deepEqual(faults, ['down maar2', 'up maar2'])
      assert.equal(await page.locator('[data-plot="busiest-node-load"] g.mark-rule.role-mark line').count(), 2)
      assert.match(await page.locator('[data-plot="busiest-node-load"] figcaption').innerText(), /relay: cmd/)
    })

    it('counts failed and partial handovers per contender', async () => {
      const rows = await viewData(page, 'failed-handovers', 'outcomes')
      assert.deepEqual(rows.map(r => [r.contender, r.outcome, r.count]), [['dht', 'failed', 2], ['dht', 'partial', 1], ['relay', 'failed', 0], ['relay', 'partial', 0]])
    })

    it('shows each contender\'s latency percentiles and counts in the summary table', async () => {
      for (const name of ran) {
        const c = contender(report, name)
        const latencies = acceptedLatencies(c)
        const row = page.locator(`#summary-table tr[data-contender="${name}"]`)
        assert.equal(await row.locator('[data-field="p50"]').innerText(), percentile(latencies, 0.5).toFixed(1))
        assert.equal(await row.locator('[data-field="p95"]').innerText(), percentile(latencies, 0.95).toFixed(1))
        assert.equal(await row.locator('[data-field="accepted"]').innerText(), String(latencies.length))
        assert.equal(await row.locator('[data-field="failed"]').innerText(), String(c.handovers.filter(h => h.outcome === 'failed').length))
      }
      assert.equal(await page.locator('#scenario-name').innerText(), 'campus')
      assert.equal(await page.locator('[data-fact="seed"]').innerText(), '12')
      assert.match(await page.locator('[data-fact="run"]').innerText(), /took 2 min 05 s/)
    })

    it('lists the check violations and the reasons handovers failed', async () => {
      assert.deepEqual(await texts(page, '#violations [data-field="violation"]'), ['mn3@dmm.example: 2001:db8:2:1::/64 held by maar2 and maar3'])
      assert.deepEqual(await texts(page, '#violations [data-field="check"]'), ['no-prefix-held-twice'])
      const reasons = await texts(page, '#failure-reasons tbody tr')
      assert.equal(reasons.length, 2, 'one line per outcome and reason')
      assert.ok(reasons.every(r => r.includes('previous anchor maar2 did not answer the PBU')), reasons.join('\n'))
    })

    it('shows the error of the contender that could not run instead of plots', async () => {
      const error = 'CMD did not start: listen EADDRINUSE 127.0.0.1:5436'
      assert.equal(await page.locator('.contender-error[data-contender="proxy"] pre').innerText(), error)
      assert.equal(await page.locator('#summary-table tr[data-contender="proxy"] [data-field="error"]').innerText(), `could not run: ${error}`)
      assert.equal(await page.locator('#summary-table tr[data-contender="proxy"] [data-field="p50"]').count(), 0)
    })
  })

  it('has no cross-border figure or table when no handover is marked with domains', async function () {
    if (browser === undefined) this.skip()
    const { page } = await open('no-borders', exampleReport(threeContenders()))
    assert.equal(await page.locator('[data-plot="border-latency-cdf"]').count(), 0)
    assert.equal(await page.locator('#border-table').count(), 0)
    assert.equal(await page.locator('#refusals').count(), 0)
  })

  describe('of a federation (handovers marked cross-border or intra-domain)', () => {
    const report = federatedReport()
    const ran = ['dht', 'relay']
    let page: Page

    before(async function () {
      if (browser === undefined) this.skip()
      page = (await open('federation', report)).page
    })

    it('plots cross-border latencies beside intra-domain ones, per contender, each from its handovers', async () => {
      const rows = await viewData(page, 'border-latency-cdf', 'border')
      for (const name of ran) {
        for (const [border, crossBorder] of [['cross-border', true], ['intra-domain', false]] as const) {
          const expected = contender(report, name).handovers.filter(h => h.crossBorder === crossBorder && h.outcome === 'accepted').map(h => h.latencyMs).sort((a, b) => a - b)
          assert.ok(expected.length > 0)
          const mine = rows.filter(r => r.contender === name && r.border === border)
          assert.deepEqual(mine.map(r => r.latencyMs), expected, `${name} ${border}`)
          assert.deepEqual(mine.map(r => r.p), expected.map((_, i) => (i + 1) / expected.length), `${name} ${border}: CDF steps`)
        }
      }
      // One line per contender and side, one point per accepted handover that is not a first attach.
      assert.equal(await page.locator('[data-plot="border-latency-cdf"] g.mark-line.role-mark path').count(), 2 * ran.length)
      assert.equal(await page.locator('[data-plot="border-latency-cdf"] g.mark-symbol.role-mark path').count(), rows.length)
      const legend = await texts(page, '[data-plot="border-latency-cdf"] g.role-legend-label text')
      assert.deepEqual(legend, [...ran, 'cross-border', 'intra-domain'])
      assert.match(await page.locator('[data-plot="border-latency-cdf"] figcaption').innerText(), /dht: \d+ cross-border \(p50 [\d.]+ ms\), \d+ intra-domain/)
    })

    it('shows the border summary of each contender in a table', async () => {
      for (const name of ran) {
        const b = contender(report, name).summary.byBorder
        assert.ok(b !== undefined)
        const row = page.locator(`#border-table tr[data-contender="${name}"]`)
        assert.equal(await row.locator('[data-field="cross-handovers"]').innerText(), String(b.crossBorder.handovers))
        assert.equal(await row.locator('[data-field="cross-refused"]').innerText(), String(b.crossBorder.refused))
        assert.equal(await row.locator('[data-field="intra-p50"]').innerText(), b.intraDomain.latencyMs.p50.toFixed(1))
      }
    })

    it('lists the refusals, naming the agreement, with how many handovers each', async () => {
      const rows = await texts(page, '#refusals [data-field="refusal"]')
      assert.deepEqual(rows, ran.map(() => AGREEMENT_REFUSAL))
      const counts = await texts(page, '#refusals [data-field="count"]')
      assert.deepEqual(counts, ran.map(name => String(contender(report, name).handovers.filter(h => h.refusals !== undefined).length)))
    })
  })

  it('keeps hostile names as text: the page renders and runs no injected script', async function () {
    if (browser === undefined) this.skip()
    const { page, dialogs } = await open('hostile', hostileReport())
    assert.deepEqual(dialogs, [])
    assert.equal(await page.locator('#scenario-name').innerText(), HOSTILE)
    assert.equal(await page.title(), `${HOSTILE} — dmm scenario report`)
    // Vega cuts long legend labels short (with …): the start shows as text, the whole is in the data.
    const legend = await texts(page, '[data-plot="latency-cdf"] g.role-legend-label text')
    assert.equal(legend[0], 'dht')
    assert.ok(legend[1]?.startsWith('</script><script>') === true, `legend: ${legend.join(', ')}`)
    assert.ok((await viewData(page, 'latency-cdf', 'cdf')).some(r => r.contender === HOSTILE))
    assert.deepEqual(await texts(page, '#violations [data-field="violation"]'), [HOSTILE])
    assert.equal(await page.locator('.contender-error pre').innerText(), HOSTILE)
    assert.deepEqual(await texts(page, '[data-plot="busiest-node-load"] g.mark-text.role-mark text'), [`down ${HOSTILE}`])
  })

  it('says so when no contender ran, and still renders', async function () {
    if (browser === undefined) this.skip()
    const plan = threeContenders()
    plan.contenders = plan.contenders.filter(c => c.error !== undefined)
    const { page } = await open('none-ran', exampleReport(plan))
    assert.equal(await page.locator('#no-plots').count(), 1)
    assert.equal(await page.locator('.contender-error').count(), 1)
  })
})
