/**
 * Opening a report.html in Debian's chromium (driven by playwright-core), offline: every request
 * that is not for a file:// URL is recorded and aborted, and every dialog (alert, …) is recorded
 * and dismissed, so a test can assert that the page neither reached out nor ran injected script.
 */
import { access } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
/** How long a page may take to draw its plots before a test gives up (a hang guard, not a speed check). */
const HANG_GUARD_MS = 30_000

export async function chromiumMissing (): Promise<boolean> {
  try {
    await access(CHROMIUM)
    return false
  } catch {
    return true
  }
}

export async function launchChromium (): Promise<Browser> {
  // Runs as root in CI, where chromium refuses its sandbox; no background fetches of its own.
  return await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] })
}

export interface OpenedReport {
  page: Page
  /** URLs the page tried to fetch from anywhere but file:// (all aborted). */
  offsite: string[]
  /** Messages of the dialogs the page opened (all dismissed). */
  dialogs: string[]
  /** What `body[data-rendered]` became: "true" when every plot was drawn. */
  rendered: string | null
}

export async function openReport (browser: Browser, file: string, viewport = { width: 1280, height: 900 }): Promise<OpenedReport> {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  const offsite: string[] = []
  const dialogs: string[] = []
  await context.route('**/*', async route => {
    const url = route.request().url()
    if (url.startsWith('file:')) return await route.continue()
    offsite.push(url)
    await route.abort()
  })
  page.on('dialog', d => { dialogs.push(d.message()); void d.dismiss() })
  await page.goto(pathToFileURL(file).href)
  await page.waitForSelector('body[data-rendered]', { timeout: HANG_GUARD_MS })
  return { page, offsite, dialogs, rendered: await page.getAttribute('body', 'data-rendered') }
}

/** The rows a plot's view holds in its dataset `name` (Vega's own ids dropped by serialisation). */
export async function viewData (page: Page, plot: string, name: string): Promise<Array<Record<string, unknown>>> {
  return await page.evaluate(`window.reportViews[${JSON.stringify(plot)}].data(${JSON.stringify(name)}).map(d => ({ ...d }))`)
}
