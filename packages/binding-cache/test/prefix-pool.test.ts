import assert from 'node:assert/strict'
import fc from 'fast-check'
import { InvalidPoolError, PoolExhaustedError, PrefixPool } from '../src/index.js'

describe('PrefixPool', () => {
  it('hands out the lowest free index first, pool after pool', () => {
    const pool = new PrefixPool(['2001:db8:1::/62', '2001:db8:2::/63'])
    assert.equal(pool.size(), 6)
    assert.equal(pool.nextFree(new Set()), '2001:db8:1::/64')
    assert.equal(pool.nextFree(new Set(['2001:db8:1::/64'])), '2001:db8:1:1::/64')
    assert.equal(pool.nextFree(new Set(['2001:db8:1:1::/64'])), '2001:db8:1::/64', 'a released low prefix is reused first')
    const firstPoolFull = new Set(['2001:db8:1::/64', '2001:db8:1:1::/64', '2001:db8:1:2::/64', '2001:db8:1:3::/64'])
    assert.equal(pool.nextFree(firstPoolFull), '2001:db8:2::/64')
  })

  it('ignores allocations outside the pool or of another length, and reads non-canonical text', () => {
    const pool = new PrefixPool(['2001:db8:1::/63'])
    assert.equal(pool.nextFree(new Set(['2001:db8:9::/64', '2001:db8:1::/56', 'garbage', '2001:DB8:0001:0000::/64'])), '2001:db8:1:1::/64')
  })

  it('throws PoolExhaustedError when every prefix is taken', () => {
    const pool = new PrefixPool(['2001:db8:1::/63'])
    assert.throws(() => pool.nextFree(new Set(['2001:db8:1::/64', '2001:db8:1:1::/64'])),
      (err: unknown) => err instanceof PoolExhaustedError && err.message.includes('2001:db8:1::/63') && err.message.includes('2'))
  })

  it('property: nextFree is never allocated and is the lowest free one', () => {
    const pool = new PrefixPool(['2001:db8:1::/60'])
    const all = Array.from({ length: 16 }, (_, i) => `2001:db8:1:${i.toString(16)}::/64`.replace(':0::', '::'))
    fc.assert(fc.property(fc.subarray(all), taken => {
      const set = new Set(taken)
      if (set.size === all.length) {
        assert.throws(() => pool.nextFree(set), PoolExhaustedError)
        return
      }
      const got = pool.nextFree(set)
      assert.ok(!set.has(got))
      assert.equal(got, all.find(p => !set.has(p)))
    }))
  })

  it('works with large pools and other delegated lengths', () => {
    const pool = new PrefixPool(['2001:db8::/32'], 56)
    assert.equal(pool.size(), 2 ** 24)
    assert.equal(pool.nextFree(new Set(['2001:db8::/56'])), '2001:db8:0:100::/56')
    const allLast = new PrefixPool(['2001:db8::/32'])
    assert.equal(allLast.size(), 2 ** 32)
  })

  it('contains only its own sub-prefixes', () => {
    const pool = new PrefixPool(['2001:db8:1::/48'])
    assert.ok(pool.contains('2001:db8:1:5::/64'))
    assert.ok(!pool.contains('2001:db8:2:5::/64'))
    assert.ok(!pool.contains('2001:db8:1::/48'))
    assert.ok(!pool.contains('2001:db8:1:5::1/128'))
    assert.ok(!pool.contains('junk'))
  })

  it('rejects overlapping pools, bad prefixes and bad lengths with a message naming them', () => {
    assert.throws(() => new PrefixPool(['2001:db8:1::/48', '2001:db8:1:8000::/49']), (err: unknown) => err instanceof InvalidPoolError && /2001:db8:1:8000::\/49.*overlaps pool 2001:db8:1::\/48/.test(err.message))
    assert.throws(() => new PrefixPool(['2001:db8:1::/48', '2001:db8::/32']), /overlaps/)
    assert.throws(() => new PrefixPool(['2001:db8:1::/48', '2001:db8:1::/48']), /overlaps/)
    assert.throws(() => new PrefixPool(['2001:db8:1::1/48']), (err: unknown) => err instanceof InvalidPoolError && err.message.includes('2001:db8:1::1/48') && err.message.includes('host bits'))
    assert.throws(() => new PrefixPool(['2001:db8:zz::/48']), /2001:db8:zz::\/48/)
    assert.throws(() => new PrefixPool(['2001:db8:1::']), /prefix needs/)
    assert.throws(() => new PrefixPool(['2001:db8:1::/72']), /cannot be cut into \/64/)
    assert.throws(() => new PrefixPool(['2001:db8:1::/48'], 0), /bad delegated prefix length/)
    assert.throws(() => new PrefixPool([]), /at least one pool/)
  })
})
