import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { Level } from 'level'
import { AllocationConflictError, BindingCache, CorruptEntryError, InvalidEntryError, QUARANTINED } from '../src/index.js'
import type { BindingCacheEntry } from '../src/index.js'

function entry (mnId: string, over: Partial<BindingCacheEntry> = {}): BindingCacheEntry {
  return {
    mnId,
    localPrefixes: ['2001:db8:1::/64'],
    attached: true,
    access: { link: 'access0', linkLayerId: '02:00:00:00:00:01', accessTechnology: 3 },
    remoteAnchors: [{ prefix: '2001:db8:2:5::/64', peerId: '12D3KooWpeer2', address: '2001:db8:ffff::2', multiaddrs: ['/ip4/127.0.0.1/tcp/4002'] }],
    lastUpdate: { sequence: 3, timestampMs: 1_700_000_000_000 },
    sessionSequence: 3,
    expiresAt: 1_700_000_060_000,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_500,
    ...over
  }
}

describe('BindingCache (real LevelDB in a temp dir)', function () {
  let root: string
  let n = 0
  const freshDir = (): string => join(root, `db${n++}`)

  before(async () => { root = await mkdtemp(join(tmpdir(), 'dmm-bc-test-')) })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  it('round-trips entries, optional fields absent or present', async () => {
    const cache = await BindingCache.open(freshDir())
    try {
      const anchor = entry('anchor@x', { attached: false, servingMaar: { peerId: 'p3', address: '2001:db8:ffff::3', multiaddrs: [] }, remoteAnchors: [] })
      delete anchor.access
      delete anchor.expiresAt
      await cache.commit({ put: [entry('alice@x'), anchor] })
      assert.deepEqual(await cache.get('alice@x'), entry('alice@x'))
      assert.deepEqual(await cache.get('anchor@x'), anchor)
      assert.ok(!('expiresAt' in ((await cache.get('anchor@x')) ?? {})), 'a stopped timer stays absent')
      assert.equal(await cache.get('nobody@x'), undefined)
      assert.deepEqual((await cache.list()).map(e => e.mnId), ['alice@x', 'anchor@x'])
    } finally { await cache.close() }
  })

  it('stores prefixes and addresses in canonical text', async () => {
    const cache = await BindingCache.open(freshDir())
    try {
      await cache.commit({ put: [entry('a', { localPrefixes: ['2001:DB8:0001:0000::/64'] })], allocate: [{ prefix: '2001:0db8:1::/64', mnId: 'a' }] })
      assert.deepEqual((await cache.get('a'))?.localPrefixes, ['2001:db8:1::/64'])
      assert.deepEqual([...(await cache.allocations()).entries()], [['2001:db8:1::/64', 'a']])
    } finally { await cache.close() }
  })

  it('property: any valid entry reads back equal', async () => {
    const cache = await BindingCache.open(freshDir())
    const nat = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
    const prefix = fc.integer({ min: 1, max: 0xffff }).map(i => `2001:db8:${i.toString(16)}::/64`)
    const peer = fc.record({ peerId: fc.string({ minLength: 1 }), address: fc.constantFrom('2001:db8:ffff::1', 'fe80::1'), multiaddrs: fc.array(fc.string({ minLength: 1 }), { maxLength: 3 }) }, { noNullPrototype: true })
    const arb = fc.record({
      mnId: fc.string({ minLength: 1 }),
      localPrefixes: fc.array(prefix, { maxLength: 4 }),
      attached: fc.boolean(),
      access: fc.record({ link: fc.string({ minLength: 1 }), linkLayerId: fc.string({ minLength: 1 }), accessTechnology: fc.integer({ min: 0, max: 255 }) }),
      servingMaar: peer,
      remoteAnchors: fc.array(fc.record({ prefix, peerId: fc.string({ minLength: 1 }), address: fc.constant('2001:db8:ffff::2'), multiaddrs: fc.array(fc.string({ minLength: 1 }), { maxLength: 2 }) }), { maxLength: 3 }),
      lastUpdate: fc.record({ sequence: nat, timestampMs: nat }),
      sessionSequence: nat,
      expiresAt: nat,
      createdAt: nat,
      updatedAt: nat
    }, { noNullPrototype: true, requiredKeys: ['mnId', 'localPrefixes', 'attached', 'remoteAnchors', 'lastUpdate', 'sessionSequence', 'createdAt', 'updatedAt'] })
    try {
      await fc.assert(fc.asyncProperty(arb, async e => {
        await cache.commit({ put: [e] })
        assert.deepEqual(await cache.get(e.mnId), JSON.parse(JSON.stringify(e)))
      }), { numRuns: 100 })
    } finally { await cache.close() }
  })

  it('commit is atomic: a conflicting allocation or an invalid entry writes nothing', async () => {
    const cache = await BindingCache.open(freshDir())
    try {
      await cache.commit({ put: [entry('a')], allocate: [{ prefix: '2001:db8:1::/64', mnId: 'a' }] })
      await assert.rejects(cache.commit({ put: [entry('b', { localPrefixes: ['2001:db8:1::/64'] })], allocate: [{ prefix: '2001:db8:1::/64', mnId: 'b' }] }),
        (err: unknown) => err instanceof AllocationConflictError && err.message.includes('2001:db8:1::/64') && err.message.includes('"a"'))
      assert.equal(await cache.get('b'), undefined, 'the entry of the refused commit was not written')
      await assert.rejects(cache.commit({ put: [entry('c'), entry('d', { localPrefixes: ['2001:db8:1::1/64'] })] }),
        (err: unknown) => err instanceof InvalidEntryError && err.message.includes('put[1]') && err.message.includes('localPrefixes[0]'))
      assert.equal(await cache.get('c'), undefined, 'the valid entry of the refused commit was not written')
      await assert.rejects(cache.commit({ put: [entry('e')], delete: ['e'] }), InvalidEntryError)
      await assert.rejects(cache.commit({ allocate: [{ prefix: '2001:db8:9::/64', mnId: 'e' }], release: ['2001:db8:9::/64'] }), InvalidEntryError)
      await assert.rejects(cache.commit({ release: ['not-a-prefix'] }), (err: unknown) => err instanceof InvalidEntryError && err.message.includes('not-a-prefix'))
      assert.deepEqual((await cache.list()).map(e => e.mnId), ['a'])
      assert.deepEqual([...(await cache.allocations()).keys()], ['2001:db8:1::/64'])
    } finally { await cache.close() }
  })

  it('deletes and releases together, and re-allocating to the same MN is accepted', async () => {
    const cache = await BindingCache.open(freshDir())
    try {
      await cache.commit({ put: [entry('a'), entry('b', { localPrefixes: ['2001:db8:1:1::/64'] })], allocate: [{ prefix: '2001:db8:1::/64', mnId: 'a' }, { prefix: '2001:db8:1:1::/64', mnId: 'b' }] })
      await cache.commit({ allocate: [{ prefix: '2001:db8:1::/64', mnId: 'a' }] })
      await cache.commit({ delete: ['a'], release: ['2001:db8:1::/64'] })
      assert.deepEqual((await cache.list()).map(e => e.mnId), ['b'])
      assert.deepEqual([...(await cache.allocations()).entries()], [['2001:db8:1:1::/64', 'b']])
    } finally { await cache.close() }
  })

  it('allocations() read while commits run agrees with what is on disk', async () => {
    const dir = freshDir()
    const cache = await BindingCache.open(dir)
    const reads: Array<Promise<Map<string, string>>> = []
    const writes: Array<Promise<void>> = []
    for (let i = 0; i < 20; i++) {
      const prefix = `2001:db8:1:${(i + 1).toString(16)}::/64`
      writes.push(cache.commit({ put: [entry(`mn${i}`, { localPrefixes: [prefix] })], allocate: [{ prefix, mnId: `mn${i}` }] }))
      if (i % 3 === 0) reads.push(cache.allocations())
      if (i % 4 === 0) writes.push(cache.commit({ delete: [`mn${i}`], release: [prefix] }))
    }
    await Promise.all([...writes, ...reads])
    const inMemory = await cache.allocations()
    await cache.close()
    const reopened = await BindingCache.open(dir)
    try {
      assert.deepEqual(inMemory, await reopened.allocations())
      assert.equal(inMemory.size, 15)
    } finally { await reopened.close() }
  })

  it('concurrent commits allocating the same prefix: exactly one wins', async () => {
    const cache = await BindingCache.open(freshDir())
    try {
      const results = await Promise.allSettled(['x', 'y', 'z'].map(async mnId => await cache.commit({ put: [entry(mnId)], allocate: [{ prefix: '2001:db8:1::/64', mnId }] })))
      assert.equal(results.filter(r => r.status === 'fulfilled').length, 1)
      assert.ok(results.filter(r => r.status === 'rejected').every(r => r.reason instanceof AllocationConflictError))
      assert.equal((await cache.allocations()).size, 1)
      assert.equal((await cache.list()).length, 1)
    } finally { await cache.close() }
  })

  it('reopening the directory after close keeps entries and allocations (restart)', async () => {
    const dir = freshDir()
    const first = await BindingCache.open(dir)
    await first.commit({ put: [entry('alice@x')], allocate: [{ prefix: '2001:db8:1::/64', mnId: 'alice@x' }] })
    await first.close()
    await first.close() // idempotent
    const second = await BindingCache.open(dir)
    try {
      assert.deepEqual(await second.get('alice@x'), entry('alice@x'))
      assert.deepEqual([...(await second.allocations()).entries()], [['2001:db8:1::/64', 'alice@x']])
    } finally { await second.close() }
  })

  it('a commit that resolved survives the process being killed right after (no close)', async () => {
    const dir = freshDir()
    const index = fileURLToPath(new URL('../src/index.js', import.meta.url))
    const script = `
      const { BindingCache } = await import(${JSON.stringify(index)})
      const cache = await BindingCache.open(${JSON.stringify(dir)})
      await cache.commit({ put: [${JSON.stringify(entry('crash@x'))}], allocate: [{ prefix: '2001:db8:1::/64', mnId: 'crash@x' }] })
      process.kill(process.pid, 'SIGKILL')`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    assert.equal(child.signal, 'SIGKILL', `child died by SIGKILL after the commit (stderr: ${child.stderr})`)
    const cache = await BindingCache.open(dir)
    try {
      assert.deepEqual(await cache.get('crash@x'), entry('crash@x'))
      assert.equal((await cache.allocations()).get('2001:db8:1::/64'), 'crash@x')
    } finally { await cache.close() }
  })

  describe('corrupt values', () => {
    let dir: string
    before(async () => {
      dir = freshDir()
      const cache = await BindingCache.open(dir)
      await cache.commit({ put: [entry('good')], allocate: [{ prefix: '2001:db8:1::/64', mnId: 'good' }] })
      await cache.close()
      const raw = new Level<string, string>(dir)
      await raw.put('bce!garbage', '{not json')
      await raw.put('bce!badfield', JSON.stringify({ v: 1, ...entry('badfield'), localPrefixes: ['2001:db8::zz/64'] }))
      await raw.put('bce!future', JSON.stringify({ v: 99, ...entry('future') }))
      await raw.put('alloc!2001:db8:1:1::/64', '[]')
      await raw.close()
    })

    const corrupt = (key: string, ...words: string[]) => (err: unknown): boolean => {
      assert.ok(err instanceof CorruptEntryError, String(err))
      assert.equal(err.key, key)
      for (const w of words) assert.ok(err.message.includes(w), `${err.message} mentions ${w}`)
      return true
    }

    it('get names the key and the reason, for bad JSON, a bad field and another schema version', async () => {
      const cache = await BindingCache.open(dir)
      try {
        await assert.rejects(cache.get('garbage'), corrupt('bce!garbage', 'not JSON'))
        await assert.rejects(cache.get('badfield'), corrupt('bce!badfield', 'localPrefixes[0]', '2001:db8::zz'))
        await assert.rejects(cache.get('future'), corrupt('bce!future', 'schema version 99'))
        assert.deepEqual(await cache.get('good'), entry('good'), 'good entries still read')
      } finally { await cache.close() }
    })

    it('list and allocations keep the good rest; the report names every bad key', async () => {
      const cache = await BindingCache.open(dir)
      try {
        assert.deepEqual((await cache.list()).map(e => e.mnId), ['good'])
        const bad = cache.report.problems.filter(p => p.kind === 'undecodable').map(p => p.key).sort()
        assert.deepEqual(bad, ['alloc!2001:db8:1:1::/64', 'bce!badfield', 'bce!future', 'bce!garbage'])
        assert.ok(cache.report.problems.some(p => p.key === 'alloc!2001:db8:1:1::/64' && p.message.includes('expected an object')))
        // The unreadable allocation has no claimant: its owner is in doubt, so it is quarantined.
        assert.deepEqual([...(await cache.allocations()).entries()], [['2001:db8:1::/64', 'good'], ['2001:db8:1:1::/64', QUARANTINED]])
      } finally { await cache.close() }
    })

    it('a corrupt schema record refuses to open', async () => {
      const d = freshDir()
      const raw = new Level<string, string>(d)
      await raw.put('meta!schema', '{"v":2}')
      await raw.close()
      await assert.rejects(BindingCache.open(d), corrupt('meta!schema', 'schema version 2'))
      // The database was closed again: a raw open works.
      const again = new Level<string, string>(d)
      await again.open()
      await again.close()
    })
  })

  it('uses an injected Level instance (a sublevel) and leaves closing it to the owner', async () => {
    const db = new Level<string, string>(freshDir())
    const sub = db.sublevel('cache')
    const cache = await BindingCache.open('unused', { level: sub })
    await cache.commit({ put: [entry('a')] })
    await cache.close()
    assert.equal(db.status, 'open')
    assert.ok((await sub.get('bce!a'))?.includes('"mnId":"a"'))
    assert.equal(await db.get('bce!a'), undefined, 'the cache stayed inside its sublevel')
    await db.close()
  })

  it('rejects bad arguments', async () => {
    const cache = await BindingCache.open(freshDir())
    try {
      await assert.rejects(cache.get(''), InvalidEntryError)
      await assert.rejects(cache.commit({ put: [{ ...entry('a'), attached: 'yes' } as unknown as BindingCacheEntry] }), /attached: expected a boolean/)
      await assert.rejects(cache.commit({ put: [entry('a', { lastUpdate: { sequence: -1, timestampMs: 0 } })] }), /lastUpdate.sequence/)
      await assert.rejects(cache.commit({ put: [entry('a', { servingMaar: { peerId: 'p', address: 'nowhere', multiaddrs: [] } })] }), /servingMaar.address/)
      await assert.rejects(cache.commit({ allocate: [{ prefix: '2001:db8:1::/64', mnId: '' }] }), InvalidEntryError)
      assert.deepEqual(await cache.list(), [])
    } finally { await cache.close() }
  })
})
