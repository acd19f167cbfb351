import assert from 'node:assert/strict'
import { KnownDomain } from '../src/known-domain.js'

describe('known domain: when a publication may skip its kad-dht walk', () => {
  let now = 0
  const clock = (): number => now
  beforeEach(() => { now = 1000 })

  it('a walk that ended on fewer than k members, all known, proves the domain known', () => {
    const view = new KnownDomain(4, 30_000, clock)
    assert.equal(view.covers(['a', 'b', 'c']), false, 'no walk yet: nothing proven')
    view.walked(['a', 'b', 'c'], ['a', 'b', 'c'])
    assert.equal(view.covers(['a', 'b', 'c']), true)
    assert.equal(view.covers(['a', 'b']), true, 'a member that left leaves the rest known')
  })

  it('a walk that met a member this MAAR did not know proves nothing', () => {
    const view = new KnownDomain(4, 30_000, clock)
    view.walked(['a', 'b', 'x'], ['a', 'b', 'c'])
    assert.equal(view.covers(['a', 'b', 'c']), false)
  })

  it('a walk that ended on k members may have left others out', () => {
    const view = new KnownDomain(3, 30_000, clock)
    view.walked(['a', 'b', 'c'], ['a', 'b', 'c'])
    assert.equal(view.covers(['a', 'b', 'c']), false)
  })

  it('the proof ends with its validity and when a member joins the view; the next walk renews it', () => {
    const view = new KnownDomain(4, 30_000, clock)
    view.walked(['a', 'b'], ['a', 'b'])
    assert.equal(view.covers(['a', 'b', 'n']), false, 'n joined after the walk')
    now += 30_000
    assert.equal(view.covers(['a', 'b']), false, 'expired')
    view.walked(['a', 'b', 'n'], ['a', 'b', 'n'])
    assert.equal(view.covers(['a', 'b', 'n']), true)
  })
})
