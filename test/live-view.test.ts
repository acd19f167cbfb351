/**
 * The live view in a real browser: two `dmm maar` processes, MNs attached through the management
 * API, and maar1's page (GET /) opened in Debian's chromium driven by playwright-core. The page
 * must show what the API created and follow later changes over its event stream, without reload.
 */
import assert from 'node:assert/strict'
import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { api, dialable, makeDomain, maarAddress, sessionVisible, startDaemon, stopDaemon, writeMaarConfig } from './daemons.js'
import type { Daemon } from './daemons.js'

const CHROMIUM = '/usr/bin/chromium'
/** How long the page may take to show a change before the test gives up (a hang guard). */
const HANG_GUARD_MS = 15_000

/** The text of the row of `mnId` in the page's table `section`, once it is there. */
async function rowText (page: Page, section: string, mnId: string): Promise<string> {
  const row = page.locator(`#${section} tr[data-key="${mnId}"]`)
  await row.waitFor({ timeout: HANG_GUARD_MS })
  return await row.innerText()
}

describe('the live view (GET /) in chromium', function () {
  this.timeout(120_000)
  let dir: string
  const daemons: Daemon[] = []
  let browser: Browser | undefined

  before(async function () {
    try {
      await access(CHROMIUM)
    } catch {
      console.log(`    skipped: ${CHROMIUM} is missing (Debian package chromium; .ci/run installs it)`)
      this.skip()
    }
    dir = await mkdtemp(join(tmpdir(), 'dmm-live-view-'))
    const domain = await makeDomain(dir, 2)
    for (let i = 1; i <= 2; i++) daemons.push(await startDaemon(await writeMaarConfig(domain, i, { bootstrap: daemons.map(dialable) })))
    // CI runs as root, where chromium refuses its sandbox.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  })

  after(async () => {
    await browser?.close()
    for (const d of daemons) await stopDaemon(d)
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('shows a binding created through the API, then follows attaches and a handover live', async () => {
    const [maar1, maar2] = daemons
    assert.ok(maar1 !== undefined && maar2 !== undefined && browser !== undefined)
    const alice = { mnId: 'alice@dmm.example', accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' }
    const bob = { mnId: 'bob@dmm.example', accessLink: 'access0', linkLayerId: '02:00:00:00:00:02' }
    const first = await api(maar1, 'POST', '/attach', alice)

    const page = await browser.newPage()
    const requests: string[] = []
    page.on('request', r => { requests.push(r.url()) })
    let loads = 0
    page.on('load', () => { loads++ })
    await page.goto(maar1.api + '/')

    // The binding the API created: the MN and the prefix maar1 delegated to it.
    const aliceServing = await rowText(page, 'serving', alice.mnId)
    assert.ok(aliceServing.includes(first.localPrefix), `serving row of alice lacks ${String(first.localPrefix)}: ${aliceServing}`)
    assert.equal(await page.locator('#name').innerText(), 'maar1')
    assert.equal(await page.locator('#peer-id').innerText(), maar1.peerId)
    const handover = await page.locator('#handovers tr', { hasText: alice.mnId }).first().innerText()
    assert.ok(handover.includes('first-attach') && handover.includes(first.localPrefix), handover)

    // A second MN appears without a reload: the event stream pushed it.
    const second = await api(maar1, 'POST', '/attach', bob)
    const bobServing = await rowText(page, 'serving', bob.mnId)
    assert.ok(bobServing.includes(second.localPrefix), `serving row of bob lacks ${String(second.localPrefix)}: ${bobServing}`)

    // alice moves to maar2: maar1 keeps her prefix as its anchor, down the tunnel to maar2.
    assert.ok(await sessionVisible(maar2, alice.mnId, first.sessionSequence), 'alice\'s session never reached maar2')
    const moved = await api(maar2, 'POST', '/attach', alice)
    assert.equal(moved.kind, 'handover')
    const aliceAnchored = await rowText(page, 'anchored', alice.mnId)
    assert.ok(aliceAnchored.includes(first.localPrefix) && aliceAnchored.includes(maarAddress(2)), aliceAnchored)
    await page.locator(`#serving tr[data-key="${alice.mnId}"]`).waitFor({ state: 'detached', timeout: HANG_GUARD_MS })
    // maar2 is a peer maar1 met over PBU/PBA: its tunnel address is known.
    const peer = await rowText(page, 'peers', maar2.peerId)
    assert.ok(peer.includes(maarAddress(2)), peer)

    assert.equal(loads, 1, 'the page was reloaded')
    const origin = new URL(maar1.api).origin
    assert.deepEqual(requests.filter(u => !u.startsWith(origin)), [], 'the page fetched something from elsewhere')
    await page.close()
  })
})
