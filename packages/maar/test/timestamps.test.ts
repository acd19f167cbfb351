import assert from 'node:assert/strict'
import { decodeMobilityMessage, encodeMobilityMessage } from '@dmm-mesh/wire'
import { TimestampSource } from '../src/timestamps.js'
import { buildPbu, readPbu } from '../src/messages.js'

describe('maar: TimestampSource (RFC 5213 §5.5, §8.8)', () => {
  const NOW = 1_763_800_000_123
  const pseudo = { source: '2001:db8:ffff::2', destination: '2001:db8:ffff::1' }
  const viaWire = (timestampMs: number): number => readPbu(decodeMobilityMessage(encodeMobilityMessage(
    buildPbu({ mnId: 'mn@dmm.example', sequence: 1, lifetime: 3600, timestampMs, anchoredPrefixes: [], servingAddress: pseudo.source }), pseudo), { pseudo }) as never).timestampMs

  it('stamps 50 registrations in one millisecond in order, without running past the next millisecond', () => {
    const source = new TimestampSource(() => NOW)
    const stamps = Array.from({ length: 50 }, () => source.next())
    for (let i = 1; i < stamps.length; i++) assert.ok((stamps[i] as number) > (stamps[i - 1] as number))
    // Whole-ms steps would have reached NOW + 49: a peer whose clock reads NOW would see the future.
    assert.ok((stamps[49] as number) < NOW + 1, `the 50th stamp ${stamps[49]} ran ahead of the clock (${NOW})`)
  })

  it('every stamp arrives as it was sent, so the peer orders them as the sender did', () => {
    const source = new TimestampSource(() => NOW)
    let previous = -1
    for (let i = 0; i < 50; i++) {
      const sent = source.next()
      const received = viaWire(sent)
      assert.equal(received, sent)
      assert.ok(received > previous, `stamp ${i} arrived not after the one before`)
      previous = received
    }
  })

  it('stamps after the newest known timestamp of the MN, even one ahead of this clock', () => {
    const source = new TimestampSource(() => NOW)
    const after = NOW + 5.5
    const t = source.next(after)
    assert.ok(t > after)
    assert.ok(t < NOW + 6)
  })

  it('follows the clock when it moves on, and a fractional clock is stamped as the wire carries it', () => {
    let now = NOW
    const source = new TimestampSource(() => now)
    source.next(); source.next()
    now = NOW + 10
    assert.equal(source.next(), NOW + 10)
    now = NOW + 20.3
    const t = source.next()
    assert.equal(viaWire(t), t)
    assert.ok(Math.abs(t - (NOW + 20.3)) < 0.01)
  })
})
