/**
 * Properties: every message survives encode/decode unchanged, and no input — random or a
 * mutated valid encoding — makes the decoder throw anything but a WireError (or hang: every
 * run is bounded and the decoder's loop always advances).
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MAX_MESSAGE_LENGTH, WireError, decodeMobilityMessage, encodeMobilityMessage } from '../src/index.js'
import { ipv6, message } from './arbitraries.js'

// WIRE_FUZZ_RUNS=100000 runs a deep search; the default keeps the suite quick.
const SCALE = Math.max(1, Number(process.env.WIRE_FUZZ_RUNS ?? 0) / 2000)
const RUNS = { numRuns: Math.round(400 * SCALE) }

/** Decodes, returning the message or the WireError; any other exception fails the property. */
function decodeOrWireError (bytes: Uint8Array, strictAlignment = false): ReturnType<typeof decodeMobilityMessage> | WireError {
  try {
    return decodeMobilityMessage(bytes, { strictAlignment })
  } catch (err) {
    if (err instanceof WireError) {
      assert.ok(err.offset >= -1 && err.offset <= bytes.length, `offset ${err.offset} outside the input (${bytes.length})`)
      return err
    }
    throw err
  }
}

/** Anything that decodes must re-encode to a message that decodes the same. */
function stable (bytes: Uint8Array): void {
  for (const strict of [false, true]) {
    const r = decodeOrWireError(bytes, strict)
    if (r instanceof WireError) continue
    assert.deepEqual(decodeMobilityMessage(encodeMobilityMessage(r), { strictAlignment: true }), r)
  }
}

/** Random bytes that at least get past the first checks: proto 59, a consistent Header Len, MH type 5 or 6. */
const plausible = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.constantFrom(5, 6), fc.uint8Array({ minLength: 8 * 13, maxLength: 8 * 13 }))
  .map(([units, type, body]) => {
    const b = body.slice(0, (units + 1) * 8)
    b[0] = 59; b[1] = units; b[2] = type
    return b
  })

describe('wire: properties (fast-check)', function () {
  this.timeout(120000)

  it('decode(encode(m)) deep-equals m, with checksum and strict alignment', () => {
    fc.assert(fc.property(message, ipv6, ipv6, (m, source, destination) => {
      const bytes = encodeMobilityMessage(m, { source, destination })
      assert.equal(bytes.length % 8, 0)
      assert.ok(bytes.length <= MAX_MESSAGE_LENGTH)
      assert.equal((bytes[1]! + 1) * 8, bytes.length)
      assert.deepEqual(decodeMobilityMessage(bytes, { pseudo: { source, destination }, strictAlignment: true }), m)
    }), RUNS)
  })

  it('encode(decode(bytes)) gives back the same bytes', () => {
    fc.assert(fc.property(message, m => {
      const bytes = encodeMobilityMessage(m)
      assert.deepEqual(encodeMobilityMessage(decodeMobilityMessage(bytes)), bytes)
    }), RUNS)
  })

  it('random bytes only ever give a message or a WireError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), stable), { numRuns: Math.round(1000 * SCALE) })
  })

  it('plausible-looking random messages only ever give a message or a WireError', () => {
    fc.assert(fc.property(plausible, stable), { numRuns: Math.round(2000 * SCALE) })
  })

  it('mutated valid encodings only ever give a message or a WireError', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('grow' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 16 }) })
    )
    fc.assert(fc.property(message, fc.array(mutation, { minLength: 1, maxLength: 6 }), (m, mutations) => {
      let bytes = encodeMobilityMessage(m)
      for (const mu of mutations) {
        if (mu.kind === 'set' && bytes.length > 0) { bytes = bytes.slice(); bytes[mu.at % bytes.length] = mu.value }
        if (mu.kind === 'cut') bytes = bytes.subarray(0, mu.at % (bytes.length + 1))
        if (mu.kind === 'grow') { const b = new Uint8Array(bytes.length + mu.extra.length); b.set(bytes); b.set(mu.extra, bytes.length); bytes = b }
      }
      stable(bytes)
    }), { numRuns: Math.round(2000 * SCALE) })
  })

  it('the encoder refuses an MN-ID with a lone surrogate instead of sending U+FFFD', () => {
    assert.throws(() => encodeMobilityMessage({
      kind: 'binding-update', sequence: 0, flags: { A: false, H: false, L: false, K: false, M: false, R: false, P: true }, lifetime: 0,
      options: [{ type: 'mn-identifier', subtype: 1, identifier: 'mn\uD800@x' }]
    }), (err: unknown) => err instanceof WireError && err.code === 'BAD_VALUE')
  })
})
