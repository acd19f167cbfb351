import assert from 'node:assert/strict'
import {
  BINDING_ACK_STATUS, LINKTYPE_IPV6, WireError, decodeMobilityMessage, findOption, findOptions, macFromBytes,
  macToBytes, statusName, timestampAfter, timestampFromMillis, timestampToMillis, writePcap
} from '../src/index.js'
import fc from 'fast-check'
import { MAAR1, MAAR2, pbu } from './fixtures.js'

describe('wire: helpers', () => {
  describe('timestamps (RFC 5213 §8.8)', () => {
    it('converts a known instant', () => {
      assert.deepEqual(timestampFromMillis(1700000000500), { type: 'timestamp', seconds: 1700000000, fraction: 32768 })
      assert.equal(timestampToMillis({ type: 'timestamp', seconds: 1700000000, fraction: 32768 }), 1700000000500)
    })
    it('every millisecond of a second survives the round trip', () => {
      for (let ms = 0; ms < 1000; ms++) assert.equal(timestampToMillis(timestampFromMillis(1700000000000 + ms)), 1700000000000 + ms)
    })
    it('is monotonic in the fraction', () => {
      let last = -1
      for (let ms = 0; ms < 1000; ms++) {
        const f = timestampFromMillis(ms).fraction
        assert.ok(f > last && f <= 0xffff)
        last = f
      }
    })
    it('every timestamp until 2514 survives millis and back, so a stamp sent is the stamp compared', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 34 }), fc.integer({ min: 0, max: 0xffff }), (seconds, fraction) => {
        const t = { type: 'timestamp' as const, seconds, fraction }
        assert.deepEqual(timestampFromMillis(timestampToMillis(t)), t)
      }))
    })
    it('steps by 1/65536 s: 65 stamps in one millisecond stay in order and below the next', () => {
      let ms = 1_763_800_000_123
      const stamps = [ms]
      for (let i = 0; i < 64; i++) stamps.push(ms = timestampAfter(ms))
      for (let i = 1; i < stamps.length; i++) assert.ok((stamps[i] as number) > (stamps[i - 1] as number), `stamp ${i} not after the one before`)
      assert.ok(ms < 1_763_800_000_124 + 0.02, `65 steps ran ahead to ${ms}`)
      assert.equal(new Set(stamps.map(s => JSON.stringify(timestampFromMillis(s)))).size, stamps.length, 'two stamps share a wire timestamp')
    })
    it('orders a stamp after the end of a second into the next second', () => {
      const last = timestampToMillis({ type: 'timestamp', seconds: 7, fraction: 0xffff })
      assert.deepEqual(timestampFromMillis(timestampAfter(last)), { type: 'timestamp', seconds: 8, fraction: 0 })
    })
    it('refuses negative, non-finite and too-large times', () => {
      for (const bad of [-1, NaN, Infinity, 2 ** 48 * 1000]) assert.throws(() => timestampFromMillis(bad), WireError)
    })
  })

  describe('findOption / findOptions', () => {
    const m = pbu([
      { type: 'anchored-prefix', prefix: '2001:db8:1::', prefixLength: 64 },
      { type: 'mn-identifier', subtype: 1, identifier: 'a@b' },
      { type: 'anchored-prefix', prefix: '2001:db8:2::', prefixLength: 64 }
    ])
    it('finds the first of a type, and all of them in order', () => {
      assert.equal(findOption(m, 'mn-identifier')?.identifier, 'a@b')
      assert.equal(findOption(m, 'anchored-prefix')?.prefix, '2001:db8:1::')
      assert.deepEqual(findOptions(m, 'anchored-prefix').map(o => o.prefix), ['2001:db8:1::', '2001:db8:2::'])
    })
    it('returns undefined / [] when absent', () => {
      assert.equal(findOption(m, 'timestamp'), undefined)
      assert.deepEqual(findOptions(m, 'local-prefix'), [])
    })
  })

  describe('statusName', () => {
    it('names every status in the table and falls back for others', () => {
      for (const [name, code] of Object.entries(BINDING_ACK_STATUS)) assert.equal(statusName(code), name)
      assert.equal(statusName(0), 'ACCEPTED')
      assert.equal(statusName(153), 'NOT_LMA_FOR_THIS_MOBILE_NODE')
      assert.equal(statusName(42), 'STATUS_42')
    })
  })

  describe('MAC text', () => {
    it('round-trips EUI-48 and EUI-64, lower-casing', () => {
      assert.deepEqual([...macToBytes('02:00:00:00:00:01')], [2, 0, 0, 0, 0, 1])
      assert.equal(macFromBytes(macToBytes('02-AB-00-00-00-FF')), '02:ab:00:00:00:ff')
      assert.equal(macFromBytes(macToBytes('00:11:22:33:44:55:66:77')), '00:11:22:33:44:55:66:77')
    })
    it('refuses malformed text', () => {
      for (const bad of ['', '02:00:00:00:00', '02:00:00:00:00:0g', '2:0:0:0:0:1', '02:00:00:00:00:01:02']) {
        assert.throws(() => macToBytes(bad), (err: unknown) => err instanceof WireError && err.code === 'BAD_VALUE')
      }
    })
  })

  describe('writePcap', () => {
    it('writes a pcap of IPv6 packets whose MH checksums verify', () => {
      const file = writePcap([
        { message: pbu([], { sequence: 3 }), source: MAAR2, destination: MAAR1, timeMs: 1700000000250 },
        { message: Uint8Array.of(1, 2, 3), source: MAAR1, destination: MAAR2, timeMs: 1700000001000 }
      ])
      const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
      assert.equal(view.getUint32(0, true), 0xa1b2c3d4)
      assert.equal(view.getUint32(20, true), LINKTYPE_IPV6)
      // First record.
      assert.equal(view.getUint32(24, true), 1700000000)
      assert.equal(view.getUint32(28, true), 250000)
      const caplen = view.getUint32(32, true)
      assert.equal(caplen, 40 + 16)
      const ip = file.subarray(40, 40 + caplen)
      assert.equal(ip[0]! >> 4, 6)
      assert.equal((ip[4]! << 8) | ip[5]!, 16) // payload length
      assert.equal(ip[6], 135) // next header: Mobility Header
      const mh = ip.subarray(40)
      assert.equal(decodeMobilityMessage(mh, { pseudo: { source: MAAR2, destination: MAAR1 } }).sequence, 3)
      // Second record: raw bytes kept as given.
      const second = 40 + caplen
      assert.equal(view.getUint32(second + 8, true), 43)
      assert.deepEqual([...file.subarray(second + 16 + 40)], [1, 2, 3])
      assert.equal(file.length, second + 16 + 43)
    })
  })
})
