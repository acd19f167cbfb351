import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { BindingCache, CacheLockedError, LEDGER_FILE, PoolExhaustedError, PrefixPool, QUARANTINED, QuarantinedPrefixError, repairCache } from '../src/index.js'
import type { BindingCacheEntry, CacheProblemKind } from '../src/index.js'
import { attachedEntry } from './fixtures.js'

const entry = attachedEntry

/** What the MAAR does on an attach: nextFree over allocations(), then one commit. */
async function attach (cache: BindingCache, pool: PrefixPool, mnId: string): Promise<string> {
  const prefix = pool.nextFree(new Set((await cache.allocations()).keys()))
  await cache.commit({ put: [entry(mnId, [prefix])], allocate: [{ prefix, mnId }] })
  return prefix
}

async function rawPut (dir: string, records: Record<string, string>): Promise<void> {
  const raw = new Level<string, string>(dir)
  await raw.batch(Object.entries(records).map(([key, value]) => ({ type: 'put' as const, key, value })), { sync: true })
  await raw.close()
}

function kinds (cache: BindingCache): Array<[CacheProblemKind, string]> {
  return cache.report.problems.map(p => [p.kind, p.key])
}

describe('BindingCache integrity (real LevelDB on disk)', function () {
  let root: string
  let n = 0
  const freshDir = (): string => join(root, `db${n++}`)
  before(async () => { root = await mkdtemp(join(tmpdir(), 'dmm-bc-integrity-')) })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  it('a byte flipped in the write-ahead log: the open reports it, and no lost prefix is delegated again', async () => {
    const dir = freshDir()
    const pool = new PrefixPool(['2001:db8:1::/48'])
    const cache = await BindingCache.open(dir)
    const delegated = new Map<string, string>()
    for (let i = 0; i < 20; i++) delegated.set(await attach(cache, pool, `mn${i}@x`), `mn${i}@x`)
    await cache.close()

    const log = (await readdir(dir)).find(f => /^\d+\.log$/.test(f))
    assert.ok(log !== undefined, 'the commits are still in the write-ahead log')
    const bytes = await readFile(join(dir, log))
    const at = Math.floor(bytes.length / 2)
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x5a, at)
    await writeFile(join(dir, log), bytes)

    const reopened = await BindingCache.open(dir)
    try {
      const survived = await reopened.allocations()
      const lost = [...delegated.keys()].filter(p => survived.get(p) !== delegated.get(p))
      assert.ok(lost.length > 0, 'LevelDB dropped the damaged record and what followed it')
      assert.ok(kinds(reopened).some(([kind, key]) => kind === 'wal-corruption' && key === log), `the report names ${log}: ${JSON.stringify(kinds(reopened))}`)
      const lostReported = reopened.report.problems.filter(p => p.kind === 'lost-delegation')
      assert.deepEqual(lostReported.map(p => p.prefix).sort(), lost.sort(), 'every lost prefix is named')
      assert.deepEqual(lostReported.map(p => p.mnIds?.[0]).sort(), lost.map(p => delegated.get(p)).sort(), 'with the MN it was delegated to')
      // The next ten MNs get prefixes never delegated before (the finding: 6 of 10 got taken ones).
      for (let i = 20; i < 30; i++) {
        const prefix = await attach(reopened, pool, `mn${i}@x`)
        assert.ok(!delegated.has(prefix), `${prefix} was already delegated to ${delegated.get(prefix) ?? ''}`)
      }
    } finally { await reopened.close() }

    // The incident stays visible at the next open (LevelDB has deleted the damaged log by now).
    const again = await BindingCache.open(dir)
    try {
      assert.ok(kinds(again).some(([kind, key]) => kind === 'wal-corruption' && key === log))
      assert.ok((await readdir(dir)).some(f => f.startsWith('corrupt-wal-')), 'the damaged log is kept for inspection')
    } finally { await again.close() }
  })

  it('724 entries with one corrupt value: opens, 723 usable, the report names the key, its prefix is quarantined', async () => {
    const dir = freshDir()
    const pool = new PrefixPool(['2001:db8:2::/48'])
    const cache = await BindingCache.open(dir)
    const prefixOf = new Map<string, string>()
    for (let i = 0; i < 724; i += 50) {
      const put: BindingCacheEntry[] = []
      const allocate: Array<{ prefix: string, mnId: string }> = []
      for (let j = i; j < Math.min(i + 50, 724); j++) {
        const prefix = pool.nextFree(new Set([...prefixOf.values()]))
        prefixOf.set(`mn${j}`, prefix)
        put.push(entry(`mn${j}`, [prefix]))
        allocate.push({ prefix, mnId: `mn${j}` })
      }
      await cache.commit({ put, allocate })
    }
    await cache.close()
    await rawPut(dir, { 'bce!mn333': '{"v":1,"mnId":"mn333","localPref\u0000' })

    const reopened = await BindingCache.open(dir)
    try {
      const list = await reopened.list()
      assert.equal(list.length, 723)
      assert.ok(!list.some(e => e.mnId === 'mn333'))
      assert.deepEqual(kinds(reopened), [['undecodable', 'bce!mn333'], ['orphan-allocation', `alloc!${prefixOf.get('mn333') ?? ''}`]])
      assert.deepEqual([...reopened.report.quarantined.keys()], [prefixOf.get('mn333')])
      const next = pool.nextFree(new Set((await reopened.allocations()).keys()))
      assert.ok(![...prefixOf.values()].includes(next), `${next} is fresh`)
    } finally { await reopened.close() }
  })

  it('orphan allocation, entry without allocation, prefix claimed twice, allocation to another MN', async () => {
    const dir = freshDir()
    await (await BindingCache.open(dir)).close()
    await rawPut(dir, {
      // orphan: allocated to an MN without a BCE
      'alloc!2001:db8:3:1::/64': '{"v":1,"mnId":"ghost"}',
      // missing allocation: a BCE nobody else claims (owner is certain: healed in memory)
      'bce!solo': JSON.stringify({ v: 1, ...entry('solo', ['2001:db8:3:2::/64']) }),
      // two BCEs list one prefix
      'bce!twin-a': JSON.stringify({ v: 1, ...entry('twin-a', ['2001:db8:3:3::/64']) }),
      'bce!twin-b': JSON.stringify({ v: 1, ...entry('twin-b', ['2001:db8:3:3::/64']) }),
      'alloc!2001:db8:3:3::/64': '{"v":1,"mnId":"twin-a"}',
      // allocation names one MN, the BCE of another lists it
      'bce!claimer': JSON.stringify({ v: 1, ...entry('claimer', ['2001:db8:3:4::/64']) }),
      'alloc!2001:db8:3:4::/64': '{"v":1,"mnId":"holder"}'
    })
    const cache = await BindingCache.open(dir)
    try {
      assert.deepEqual(kinds(cache).sort(), [
        ['conflicting-owners', 'alloc!2001:db8:3:3::/64'],
        ['conflicting-owners', 'alloc!2001:db8:3:4::/64'],
        ['missing-allocation', 'bce!solo'],
        ['orphan-allocation', 'alloc!2001:db8:3:1::/64']
      ])
      assert.deepEqual([...(await cache.allocations()).entries()].sort(), [
        ['2001:db8:3:1::/64', QUARANTINED],
        ['2001:db8:3:2::/64', 'solo'],
        ['2001:db8:3:3::/64', QUARANTINED],
        ['2001:db8:3:4::/64', QUARANTINED]
      ])
      assert.equal((await cache.list()).length, 4, 'every decodable entry is still served')
      await assert.rejects(cache.commit({ put: [entry('new', ['2001:db8:3:3::/64'])], allocate: [{ prefix: '2001:db8:3:3::/64', mnId: 'new' }] }),
        (err: unknown) => err instanceof QuarantinedPrefixError && err.message.includes('2001:db8:3:3::/64'))
      await assert.rejects(cache.commit({ allocate: [{ prefix: '2001:db8:3:2::/64', mnId: 'new' }] }), /already allocated to "solo"/)
      // Releasing a quarantined prefix deletes its record but it stays out of the pool.
      await cache.commit({ delete: ['twin-a'], release: ['2001:db8:3:3::/64'] })
      assert.equal((await cache.allocations()).get('2001:db8:3:3::/64'), QUARANTINED)
    } finally { await cache.close() }
  })

  it('quarantined prefixes are never returned by nextFree, even when the pool runs out', async () => {
    const dir = freshDir()
    const pool = new PrefixPool(['2001:db8:4::/62'])
    await (await BindingCache.open(dir)).close()
    await rawPut(dir, { 'alloc!2001:db8:4::/64': '{"v":1,"mnId":"ghost"}', 'alloc!2001:db8:4:2::/64': 'garbage' })
    const cache = await BindingCache.open(dir)
    try {
      assert.equal(await attach(cache, pool, 'a'), '2001:db8:4:1::/64')
      assert.equal(await attach(cache, pool, 'b'), '2001:db8:4:3::/64')
      await assert.rejects(attach(cache, pool, 'c'), PoolExhaustedError)
    } finally { await cache.close() }
    const reopened = await BindingCache.open(dir)
    try {
      await assert.rejects(attach(reopened, pool, 'c'), PoolExhaustedError, 'still quarantined after a restart')
    } finally { await reopened.close() }
  })

  it('repair rewrites a consistent cache, keeps quarantine, and frees it only when told', async () => {
    const dir = freshDir()
    const pool = new PrefixPool(['2001:db8:5::/48'])
    const cache = await BindingCache.open(dir)
    for (const mn of ['a', 'b', 'c']) await attach(cache, pool, mn)
    await cache.close()
    await rawPut(dir, {
      'bce!b': 'not json',
      'bce!solo': JSON.stringify({ v: 1, ...entry('solo', ['2001:db8:5:9::/64']) })
    })

    const first = await repairCache(dir)
    assert.ok(first.changes.some(c => c.startsWith('deleted bce!b')), first.changes.join('\n'))
    assert.ok(first.changes.some(c => c.startsWith('wrote alloc!2001:db8:5:9::/64 -> "solo"')))
    assert.ok(first.changes.some(c => c.startsWith('quarantined 2001:db8:5:1::/64')))
    assert.deepEqual(first.report.problems.map(p => p.kind), ['quarantined'])

    const after = await BindingCache.open(dir)
    try {
      assert.deepEqual(kinds(after), [['quarantined', 'quarantine!2001:db8:5:1::/64']])
      assert.deepEqual((await after.list()).map(e => e.mnId), ['a', 'c', 'solo'])
      assert.notEqual(await attach(after, pool, 'd'), '2001:db8:5:1::/64')
    } finally { await after.close() }

    const released = await repairCache(dir, { releaseQuarantined: true })
    assert.ok(released.changes.includes('released 2001:db8:5:1::/64 from quarantine back to the pool'), released.changes.join('\n'))
    assert.deepEqual(released.report.problems, [])
    const freed = await BindingCache.open(dir)
    try {
      assert.equal(await attach(freed, pool, 'e'), '2001:db8:5:1::/64')
    } finally { await freed.close() }
  })

  it('a lost ledger line is reported by line; a torn last line (crash mid-append) is cut silently', async () => {
    const dir = freshDir()
    const pool = new PrefixPool(['2001:db8:6::/48'])
    const cache = await BindingCache.open(dir)
    for (const mn of ['a', 'b']) await attach(cache, pool, mn)
    await cache.close()
    const ledger = join(dir, LEDGER_FILE)
    const text = await readFile(ledger, 'utf8')
    await writeFile(ledger, `${text.replace('"a"', '"A"')}{"op":"+","pre`)
    const reopened = await BindingCache.open(dir)
    try {
      assert.deepEqual(kinds(reopened), [['ledger-corruption', `${LEDGER_FILE}:1`]])
      assert.ok((await readFile(ledger, 'utf8')).endsWith('\n'), 'the torn tail was cut before appending')
    } finally { await reopened.close() }
  })

  it('a second open of a held cache is refused with CacheLockedError', async () => {
    const dir = freshDir()
    const cache = await BindingCache.open(dir)
    try {
      await assert.rejects(BindingCache.open(dir), (err: unknown) => err instanceof CacheLockedError && err.message.includes(dir))
      await assert.rejects(repairCache(dir), CacheLockedError)
    } finally { await cache.close() }
  })
})
