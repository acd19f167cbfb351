/**
 * A `dmm maar` whose binding cache holds a damaged entry among many (issue 9 finding 4): the
 * daemon still becomes ready, names the damaged key in its log, serves the good rest, and never
 * delegates the prefix whose owner is in doubt.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { BindingCache } from '@dmm-mesh/binding-cache'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { api, makeDomain, startDaemon, stopDaemon, writeMaarConfig } from './daemons.js'
import type { Daemon } from './daemons.js'

const ENTRIES = 200

function entry (i: number): BindingCacheEntry {
  return {
    mnId: `mn${i}@dmm.example`,
    localPrefixes: [`2001:db8:1:${i.toString(16)}::/64`],
    attached: false,
    servingMaar: { peerId: '12D3KooWBpPAuzM5YmxgoiwRTTAFvMnBNitkAh9hP8xSVKY6BQ45', address: '2001:db8:ffff::2', multiaddrs: [] },
    remoteAnchors: [],
    lastUpdate: { sequence: 1, timestampMs: 1 },
    sessionSequence: 1,
    createdAt: 1,
    updatedAt: 1
  }
}

describe('dmm maar on a binding cache with a damaged entry', function () {
  this.timeout(120_000)
  let dir: string
  let daemon: Daemon | undefined

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'dmm-corrupt-daemon-')) })
  after(async () => {
    if (daemon !== undefined) await stopDaemon(daemon)
    await rm(dir, { recursive: true, force: true })
  })

  it('becomes ready, names the damaged key, keeps the rest and never delegates the doubtful prefix', async () => {
    const domain = await makeDomain(dir, 1)
    const config = await writeMaarConfig(domain, 1)
    const cacheDir = join(dir, 'data/maar1/binding-cache')
    // ENTRIES anchored bindings with their allocations, as a MAAR would have written them.
    const cache = await BindingCache.open(cacheDir)
    const all = Array.from({ length: ENTRIES }, (_, i) => entry(i))
    await cache.commit({ put: all, allocate: all.map(e => ({ prefix: e.localPrefixes[0] ?? '', mnId: e.mnId })) })
    await cache.close()
    // One value damaged on disk: no longer JSON of an entry.
    const damaged = entry(7)
    const db = new Level<string, string>(cacheDir)
    await db.put(`bce!${damaged.mnId}`, '{"v":1,"mnId":"mn7@dmm.example","localPref')
    await db.close()

    daemon = await startDaemon(config)
    assert.match(daemon.stderr(), new RegExp(`bce!${damaged.mnId.replace('.', '\\.')}`), 'the log names the damaged key')
    const bindings = await api(daemon, 'GET', '/bindings') as BindingCacheEntry[]
    assert.equal(bindings.length, ENTRIES - 1, 'the good rest is served')
    assert.ok(!bindings.some(e => e.mnId === damaged.mnId))
    // New MNs never get the damaged entry's prefix, nor any other delegated one.
    const held = new Set(all.flatMap(e => e.localPrefixes))
    for (let i = 0; i < 10; i++) {
      const report = await api(daemon, 'POST', '/attach', { mnId: `new${i}@dmm.example`, accessLink: 'access0', linkLayerId: '02:00:00:00:01:01' }) as { localPrefix: string }
      assert.ok(!held.has(report.localPrefix), `new${i} got ${report.localPrefix}, which was delegated already`)
    }
  })
})
