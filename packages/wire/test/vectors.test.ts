import assert from 'node:assert/strict'
import { decodeMobilityMessage, encodeMobilityMessage, WireError } from '../src/index.js'
import { ENCODE_ERRORS, ERRORS, VALID, hex } from './fixtures.js'

function hexOf (b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

describe('wire: hand-written RFC vectors', () => {
  describe('valid messages', () => {
    for (const v of VALID) {
      if (v.decodeOnly !== true) {
        it(`encodes: ${v.name}`, () => {
          assert.equal(hexOf(encodeMobilityMessage(v.message, v.pseudo)), hexOf(hex(v.hex)))
        })
      }
      it(`decodes: ${v.name}`, () => {
        // What the encoder writes is aligned, so it must pass the strict decoder too.
        const strictAlignment = v.decodeOnly !== true
        assert.deepEqual(decodeMobilityMessage(hex(v.hex), { ...(v.pseudo !== undefined ? { pseudo: v.pseudo } : {}), strictAlignment }), v.message)
      })
    }
  })

  describe('bytes that must be refused, with code and offset', () => {
    for (const v of ERRORS) {
      it(`${v.code} at ${v.offset}: ${v.name}`, () => {
        assert.throws(
          () => decodeMobilityMessage(hex(v.hex), { ...(v.pseudo !== undefined ? { pseudo: v.pseudo } : {}), ...(v.strictAlignment === true ? { strictAlignment: true } : {}) }),
          (err: unknown) => {
            assert.ok(err instanceof WireError, `not a WireError: ${String(err)}`)
            assert.equal(err.code, v.code, err.message)
            assert.equal(err.offset, v.offset, err.message)
            assert.match(err.message, new RegExp(`^${v.code} at offset ${v.offset}: `))
            return true
          })
      })
    }
  })

  describe('messages the encoder must refuse', () => {
    for (const v of ENCODE_ERRORS) {
      it(`${v.code}: ${v.name}`, () => {
        assert.throws(() => encodeMobilityMessage(v.message), (err: unknown) => err instanceof WireError && err.code === v.code)
      })
    }
  })

  it('a checksummed vector decodes without a pseudo-header too (checksum ignored)', () => {
    const v = VALID.find(x => x.pseudo !== undefined)
    assert.ok(v !== undefined)
    assert.deepEqual(decodeMobilityMessage(hex(v.hex)), v.message)
  })

  it('without a pseudo-header the encoder leaves the checksum 0', () => {
    const v = VALID.find(x => x.pseudo !== undefined)
    assert.ok(v !== undefined)
    const bytes = encodeMobilityMessage(v.message)
    assert.equal(bytes[4], 0)
    assert.equal(bytes[5], 0)
  })

  it('refuses non-byte input with a WireError', () => {
    assert.throws(() => decodeMobilityMessage('3b01' as unknown as Uint8Array), (err: unknown) => err instanceof WireError && err.code === 'BAD_VALUE')
  })

  it('a pseudo-header with a bad address is a BAD_VALUE WireError', () => {
    const v = VALID[0]
    assert.ok(v !== undefined)
    assert.throws(() => decodeMobilityMessage(hex(v.hex), { pseudo: { source: 'nope', destination: '::1' } }), (err: unknown) => err instanceof WireError && err.code === 'BAD_VALUE')
    assert.throws(() => encodeMobilityMessage(v.message, { source: '::1', destination: '1::2::3' }), (err: unknown) => err instanceof WireError && err.code === 'BAD_VALUE')
  })
})
