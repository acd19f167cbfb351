/**
 * Draws lookup latency and hops against N from bench/results/scale.json (bench/scale.ts) as an
 * SVG, and renders it to doc/scale.png with chromium (playwright-core) for the README.
 *
 *   npx tsc -b bench && npx node bench/dist/scale-plot.js [--results bench/results/scale.json] [--out doc/scale.png]
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'

interface Size { maars: number, lookup: { latencyMs: { median: number, p95: number }, hops: { mean: number, p95: number }, share: Record<string, number> } }

const { values } = parseArgs({ options: { results: { type: 'string', default: 'bench/results/scale.json' }, out: { type: 'string', default: 'doc/scale.png' } } })
const body = JSON.parse(await readFile(values.results ?? '', 'utf8')) as { date: string, figures: { sizes: Size[] } }
const sizes = body.figures.sizes
if (sizes.length === 0) throw new Error(`${values.results ?? ''}: no sizes to plot`)

const W = 420
const H = 300
const M = { left: 56, right: 16, top: 34, bottom: 44 }

/** One panel: x = N on a log scale, one polyline per series. */
function panel (title: string, unit: string, series: Array<{ name: string, color: string, values: number[] }>, logY: boolean): string {
  const xs = sizes.map(s => Math.log10(s.maars))
  const all = series.flatMap(s => s.values).filter(v => Number.isFinite(v) && v > 0)
  const fy = (v: number): number => logY ? Math.log10(Math.max(v, 0.1)) : v
  const yMin = logY ? Math.floor(Math.log10(Math.min(...all))) : 0
  const yMax = logY ? Math.ceil(Math.log10(Math.max(...all))) : Math.ceil(Math.max(...all) + 0.5)
  const xMin = Math.min(...xs) - 0.1
  const xMax = Math.max(...xs) + 0.1
  const px = (x: number): number => M.left + (x - xMin) / (xMax - xMin) * (W - M.left - M.right)
  const py = (y: number): number => H - M.bottom - (y - yMin) / Math.max(1e-9, yMax - yMin) * (H - M.top - M.bottom)
  const ticksY = logY ? Array.from({ length: yMax - yMin + 1 }, (_, i) => yMin + i) : Array.from({ length: yMax + 1 }, (_, i) => i)
  const grid = ticksY.map(t => `<line x1="${M.left}" x2="${W - M.right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/><text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end" font-size="11">${logY ? String(10 ** t) : String(t)}</text>`).join('')
  const xTicks = sizes.map((s, i) => `<text x="${px(xs[i] ?? 0)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${s.maars}</text>`).join('')
  const lines = series.map((s, k) => {
    const pts = s.values.map((v, i) => `${px(xs[i] ?? 0)},${py(fy(v))}`).join(' ')
    const dots = s.values.map((v, i) => `<circle cx="${px(xs[i] ?? 0)}" cy="${py(fy(v))}" r="3" fill="${s.color}"/>`).join('')
    return `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots}<text x="${M.left + 8}" y="${M.top + 14 + 14 * k}" font-size="11" fill="${s.color}">${s.name}</text>`
  }).join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${title}</text>${grid}${xTicks}${lines}
<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">MAARs (N, log scale)</text>
<text x="14" y="${H / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 14 ${H / 2})">${unit}</text></svg>`
}

const latency = panel('Session lookup latency', 'ms (log scale)', [
  { name: 'median', color: '#1f77b4', values: sizes.map(s => s.lookup.latencyMs.median) },
  { name: 'p95', color: '#d62728', values: sizes.map(s => s.lookup.latencyMs.p95) }
], true)
const hops = panel('Lookup hops (round trips)', 'hops', [
  { name: 'mean', color: '#1f77b4', values: sizes.map(s => s.lookup.hops.mean) },
  { name: 'p95', color: '#d62728', values: sizes.map(s => s.lookup.hops.p95) }
], false)
const html = `<!doctype html><html><body style="margin:0;background:#fff"><div id="c" style="display:inline-flex;gap:8px;padding:8px">${latency}${hops}</div>
<div style="font:11px sans-serif;padding:0 12px 8px">bench/scale.ts, ${body.date.slice(0, 10)}; shares direct/walk/fallback: ${sizes.map(s => `N=${s.maars}: ${Math.round(100 * (s.lookup.share.direct ?? 0))}/${Math.round(100 * (s.lookup.share.walk ?? 0))}/${Math.round(100 * (s.lookup.share.fallback ?? 0))} %`).join('; ')}</div></body></html>`

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] })
try {
  const page = await browser.newPage({ viewport: { width: 2 * W + 40, height: H + 60 } })
  await page.setContent(html)
  await page.screenshot({ path: values.out ?? 'doc/scale.png', fullPage: true })
} finally {
  await browser.close()
}
process.stderr.write(`wrote ${values.out ?? ''}\n`)
