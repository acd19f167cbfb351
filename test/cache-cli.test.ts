/**
 * `dmm cache check` / `dmm cache repair` as separate OS processes against a MAAR data directory
 * (`<dataDir>/binding-cache`, as `dmm maar` lays it out) holding a real LevelDB cache.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { BindingCache } from '@dmm-mesh/binding-cache'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { dmm } from './daemons.js'

function entry (mnId: string, prefix: string): BindingCacheEntry {
  return { mnId, localPrefixes: [prefix], attached: true, remoteAnchors: [], lastUpdate: { sequence: 1, timestampMs: 1 }, sessionSequence: 1, createdAt: 1, updatedAt: 1 }
}

describe('dmm cache (separate processes, real LevelDB)', function () {
  let root: string
  let n = 0
  /** A MAAR data dir whose cache holds MNs mn0..mn(count-1) on 2001:db8:7:<i>::/64. */
  async function dataDir (count: number): Promise<{ data: string, cacheDir: string }> {
    const data = join(root, `maar${n++}`)
    const cacheDir = join(data, 'binding-cache')
    const cache = await BindingCache.open(cacheDir)
    for (let i = 0; i < count; i++) {
      const prefix = `2001:db8:7:${i.toString(16)}::/64`
      await cache.commit({ put: [entry(`mn${i}`, prefix)], allocate: [{ prefix, mnId: `mn${i}` }] })
    }
    await cache.close()
    return { data, cacheDir }
  }

  before(async () => { root = await mkdtemp(join(tmpdir(), 'dmm-cache-cli-')) })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  it('check prints one problem per line by key and exits 1; repair fixes; release frees; check then exits 0', async () => {
    const { data, cacheDir } = await dataDir(3)
    const clean = await dmm(['cache', 'check', '--data-dir', data])
    assert.equal(clean.code, 0, clean.stderr)
    assert.equal(clean.stdout, 'binding cache is consistent\n')

    const raw = new Level<string, string>(cacheDir)
    await raw.put('bce!mn1', '{"v":1,"mnId":"mn1",\u0007', { sync: true })
    await raw.put('alloc!2001:db8:7:f::/64', '{"v":1,"mnId":"ghost"}', { sync: true })
    await raw.close()

    const check = await dmm(['cache', 'check', '--data-dir', data])
    assert.equal(check.code, 1, check.stderr)
    const lines = check.stdout.trim().split('\n')
    assert.ok(lines.some(l => l.startsWith('undecodable bce!mn1: entry left out')), check.stdout)
    assert.ok(lines.some(l => l.startsWith('orphan-allocation alloc!2001:db8:7:1::/64:')), check.stdout)
    assert.ok(lines.some(l => l.startsWith('orphan-allocation alloc!2001:db8:7:f::/64: allocated to "ghost"')), check.stdout)
    assert.match(lines.at(-1) ?? '', /^3 problems, 2 prefixes quarantined/)

    const repair = await dmm(['cache', 'repair', '--data-dir', data])
    assert.equal(repair.code, 1, 'quarantined prefixes remain a problem until released')
    assert.ok(repair.stdout.includes('changed: deleted bce!mn1: undecodable entry'), repair.stdout)
    assert.ok(repair.stdout.includes('changed: quarantined 2001:db8:7:1::/64'), repair.stdout)
    const after = await dmm(['cache', 'check', '--data-dir', data])
    assert.equal(after.code, 1)
    assert.deepEqual(after.stdout.trim().split('\n').slice(0, -1).map(l => l.split(':')[0]).sort(), ['quarantined quarantine!2001', 'quarantined quarantine!2001'])

    const release = await dmm(['cache', 'repair', '--data-dir', data, '--release-quarantined'])
    assert.equal(release.code, 0, release.stdout)
    assert.ok(release.stdout.includes('changed: released 2001:db8:7:f::/64 from quarantine back to the pool'), release.stdout)
    const final = await dmm(['cache', 'check', '--data-dir', data])
    assert.equal(final.code, 0, final.stdout)
  })

  it('check names the damaged write-ahead log and the prefixes lost with it', async () => {
    const { data, cacheDir } = await dataDir(12)
    const log = (await readdir(cacheDir)).find(f => /^\d+\.log$/.test(f)) ?? ''
    const bytes = await readFile(join(cacheDir, log))
    const at = Math.floor(bytes.length / 3)
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at)
    await writeFile(join(cacheDir, log), bytes)
    const check = await dmm(['cache', 'check', '--data-dir', data])
    assert.equal(check.code, 1, check.stderr)
    assert.ok(check.stdout.includes(`wal-corruption ${log}: at an open, LevelDB dropped`), check.stdout)
    assert.match(check.stdout, /lost-delegation alloc!2001:db8:7:[0-9a-f]+::\/64: delegated to "mn\d+" per the ledger/)
  })

  it('refuses a cache held by a running process with one line, and usage errors exit 2', async () => {
    const { data, cacheDir } = await dataDir(1)
    const held = await BindingCache.open(cacheDir)
    try {
      for (const action of ['check', 'repair']) {
        const r = await dmm(['cache', action, '--data-dir', data])
        assert.equal(r.code, 2)
        assert.equal(r.stdout, '')
        assert.match(r.stderr, /^dmm: binding cache .*binding-cache is in use \(LevelDB LOCK held, a MAAR is running on it\); stop that MAAR first\n$/)
      }
    } finally { await held.close() }
    for (const args of [['cache'], ['cache', 'check'], ['cache', 'fix', '--data-dir', data], ['cache', 'check', '--data-dir', join(root, 'nowhere')], ['cache', 'check', '--data-dir', data, '--release-quarantined']]) {
      const r = await dmm(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /^dmm: .+\n$/)
    }
  })
})
