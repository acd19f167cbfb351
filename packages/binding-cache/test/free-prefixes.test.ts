/**
 * FreePrefixes (free-prefixes.ts): the lowest free delegated prefix kept as allocations come and
 * go, as a first attach draws it (RFC 8885 §3.1). It must hand out what a scan of every
 * allocation would: the lowest free index, pool after pool, a released prefix before any higher,
 * quarantined prefixes never; and say when the pool is exhausted.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Level } from 'level'
import { BindingCache, FreePrefixes, PoolExhaustedError, PrefixPool } from '../src/index.js'
import { attachedEntry, tempDirs } from './fixtures.js'

/** The sixteen /64 of 2001:db8:1::/60, in index order. */
const ALL = Array.from({ length: 16 }, (_, i) => i === 0 ? '2001:db8:1::/64' : `2001:db8:1:${i.toString(16)}::/64`)

describe('FreePrefixes', () => {
  it('hands out the lowest free prefix, a released one again before any higher, pool after pool', () => {
    const free = new FreePrefixes(new PrefixPool(['2001:db8:1::/63', '2001:db8:2::/64']))
    assert.equal(free.lowest(), '2001:db8:1::/64')
    assert.equal(free.lowest(), '2001:db8:1::/64', 'lowest() alone takes nothing')
    free.take('2001:db8:1::/64')
    free.take('2001:db8:1:1::/64')
    assert.equal(free.lowest(), '2001:db8:2::/64', 'the first pool full: the second one')
    free.release('2001:db8:1:1::/64')
    assert.equal(free.lowest(), '2001:db8:1:1::/64', 'back to the first pool once one of it is released')
    free.release('2001:db8:1::/64')
    assert.equal(free.lowest(), '2001:db8:1::/64', 'the lowest of two released ones first')
  })

  it('throws PoolExhaustedError naming the pools when every prefix is taken, and serves a released one after', () => {
    const free = new FreePrefixes(new PrefixPool(['2001:db8:1::/63']), ['2001:db8:1::/64', '2001:db8:1:1::/64'])
    assert.throws(() => free.lowest(), (err: unknown) => err instanceof PoolExhaustedError && err.message.includes('2001:db8:1::/63') && err.size === 2)
    free.release('2001:db8:1:1::/64')
    assert.equal(free.lowest(), '2001:db8:1:1::/64')
  })

  it('ignores texts outside the pool, of another length or unparsable; reads non-canonical text; a double release or a release of a free prefix changes nothing', () => {
    const free = new FreePrefixes(new PrefixPool(['2001:db8:1::/62']), ['2001:db8:9::/64', '2001:db8:1::/56', 'garbage', '2001:DB8:0001:0000::/64'])
    assert.equal(free.lowest(), '2001:db8:1:1::/64')
    free.release('2001:db8:1:3::/64') // never taken
    free.release('junk')
    free.take('2001:db8:1:1::/64')
    free.release('2001:db8:1:1::/64')
    free.release('2001:db8:1:1::/64')
    free.take('2001:db8:1:1::/64')
    assert.equal(free.lowest(), '2001:db8:1:2::/64', 'the twice-released prefix, taken again, is not handed out')
  })

  it('a prefix taken above the lowest free one (another path allocated it) is skipped when reached', () => {
    const free = new FreePrefixes(new PrefixPool(['2001:db8:1::/60']))
    free.take('2001:db8:1:1::/64')
    free.take('2001:db8:1:2::/64')
    assert.equal(free.lowest(), '2001:db8:1::/64')
    free.take('2001:db8:1::/64')
    assert.equal(free.lowest(), '2001:db8:1:3::/64')
  })

  it('property: after any sequence of takes and releases, lowest() is the lowest prefix not taken (or exhaustion)', () => {
    const pool = new PrefixPool(['2001:db8:1::/60'])
    const op = fc.oneof(
      fc.record({ kind: fc.constant('draw' as const) }),
      fc.record({ kind: fc.constantFrom('take' as const, 'release' as const), index: fc.nat(15) })
    )
    fc.assert(fc.property(fc.subarray(ALL), fc.array(op, { maxLength: 60 }), (initial, ops) => {
      const free = new FreePrefixes(pool, initial)
      const taken = new Set(initial)
      const check = (): string | undefined => {
        const expected = ALL.find(p => !taken.has(p))
        if (expected === undefined) {
          assert.throws(() => free.lowest(), PoolExhaustedError)
          return undefined
        }
        assert.equal(free.lowest(), expected)
        assert.equal(pool.nextFree(taken), expected, 'nextFree answers the same')
        return expected
      }
      for (const o of ops) {
        if (o.kind === 'draw') {
          const got = check()
          if (got !== undefined) { free.take(got); taken.add(got) }
        } else {
          const p = ALL[o.index] as string
          if (o.kind === 'take') { free.take(p); taken.add(p) } else { free.release(p); taken.delete(p) }
        }
      }
      check()
    }))
  })
})

describe('BindingCache.freePrefixes (real LevelDB on disk)', function () {
  const freshDir = tempDirs('dmm-free-prefixes')

  it('follows commits, skips quarantined prefixes even once released, and starts again after a repair', async () => {
    const dir = freshDir()
    const pool = new PrefixPool(['2001:db8:1::/62'])
    await (await BindingCache.open(dir)).close()
    // An allocation record LevelDB holds but cannot decode: its prefix is quarantined at open.
    const raw = new Level<string, string>(dir)
    await raw.put('alloc!2001:db8:1:1::/64', 'garbage', { sync: true })
    await raw.close()
    const cache = await BindingCache.open(dir)
    try {
      const free = cache.freePrefixes(pool)
      const attach = async (mnId: string): Promise<string> => {
        const prefix = free.lowest()
        assert.equal(prefix, pool.nextFree(new Set((await cache.allocations()).keys())), 'the same as a scan of allocations()')
        await cache.commit({ put: [attachedEntry(mnId, [prefix])], allocate: [{ prefix, mnId }] })
        return prefix
      }
      assert.equal(await attach('a'), '2001:db8:1::/64')
      assert.equal(await attach('b'), '2001:db8:1:2::/64', 'the quarantined 2001:db8:1:1::/64 is skipped')
      assert.equal(await attach('c'), '2001:db8:1:3::/64')
      assert.throws(() => free.lowest(), PoolExhaustedError)
      await cache.commit({ delete: ['a'], release: ['2001:db8:1::/64'] })
      await cache.commit({ release: ['2001:db8:1:1::/64'] })
      assert.equal(free.lowest(), '2001:db8:1::/64', 'the released prefix again; the quarantined one stays out')
      assert.equal(await attach('d'), '2001:db8:1::/64')
      assert.throws(() => free.lowest(), PoolExhaustedError, 'a released quarantined prefix is still out of the pool')
      // A refused commit takes nothing.
      await assert.rejects(cache.commit({ put: [attachedEntry('e', ['2001:db8:1:2::/64'])], allocate: [{ prefix: '2001:db8:1:2::/64', mnId: 'e' }] }))
      await cache.commit({ delete: ['b'], release: ['2001:db8:1:2::/64'] })
      assert.equal(free.lowest(), '2001:db8:1:2::/64')
      // The repair frees the quarantined prefix; the index starts again from what the repair left.
      await cache.repair({ releaseQuarantined: true })
      assert.equal(free.lowest(), pool.nextFree(new Set((await cache.allocations()).keys())))
      assert.equal(free.lowest(), '2001:db8:1:1::/64')
    } finally { await cache.close() }
  })
})
