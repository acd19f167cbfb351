/** The Vendor-Specific Mobility Option (RFC 5094 §3) and the MAAR locator carried in it. */
import assert from 'node:assert/strict'
import { DMM_MESH_VENDOR_ID, SUBTYPE_REFUSED, decodeMaarLocator, decodeMobilityMessage, decodeRefusal, encodeMaarLocator, encodeMobilityMessage, encodeRefusal, encodeVendorSpecific } from '../src/index.js'
import type { BindingAck, MobilityOption } from '../src/index.js'

describe('Vendor-Specific option: the MAAR locator of referrals', () => {
  it('ignores locators that are not ours or are malformed, never throwing', () => {
    const good = encodeMaarLocator({ peerId: 'p', address: '2001:db8::1', multiaddrs: [] })
    assert.deepEqual(decodeMaarLocator(good), { peerId: 'p', address: '2001:db8::1', multiaddrs: [] })
    const vendor = (id: number, sub: number, body: string): MobilityOption => {
      const data = new Uint8Array(5 + body.length)
      new DataView(data.buffer).setUint32(0, id)
      data[4] = sub
      data.set(new TextEncoder().encode(body), 5)
      return { type: 'unknown', optionType: 19, data }
    }
    assert.equal(decodeMaarLocator(vendor(1234, 1, '{"p":"x","a":"y","m":[]}')), undefined, 'other vendor')
    assert.equal(decodeMaarLocator(vendor(DMM_MESH_VENDOR_ID, 2, '{"p":"x","a":"y","m":[]}')), undefined, 'other subtype')
    assert.equal(decodeMaarLocator(vendor(DMM_MESH_VENDOR_ID, 1, '{"p":1}')), undefined, 'bad fields')
    assert.equal(decodeMaarLocator(vendor(DMM_MESH_VENDOR_ID, 1, '{not json')), undefined, 'bad JSON')
    assert.equal(decodeMaarLocator({ type: 'unknown', optionType: 19, data: new Uint8Array(3) }), undefined, 'short')
  })

  it('keeps a locator inside one option by dropping multiaddrs that do not fit', () => {
    const many = Array.from({ length: 20 }, (_, i) => `/ip4/127.0.0.1/tcp/${4000 + i}/p2p/12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`)
    const opt = encodeMaarLocator({ peerId: 'p', address: '2001:db8::1', multiaddrs: many })
    assert.ok(opt.type === 'unknown' && opt.data.length <= 255)
    const back = decodeMaarLocator(opt)
    assert.ok(back !== undefined && back.multiaddrs.length >= 1 && back.multiaddrs.length < many.length)
  })

  it('lays the option out as RFC 5094 §3 says: vendor id, sub-type, data, aligned 4n+2', () => {
    const opt = encodeMaarLocator({ peerId: 'p', address: '2001:db8::1', multiaddrs: [] })
    assert.ok(opt.type === 'unknown')
    assert.equal(new DataView(opt.data.buffer, opt.data.byteOffset).getUint32(0), DMM_MESH_VENDOR_ID)
    assert.equal(opt.data[4], 1)
    const pba: BindingAck = { kind: 'binding-ack', status: 0, sequence: 1, flags: { K: false, R: false, P: true, D: true }, lifetime: 4, options: [opt] }
    const pseudo = { source: '2001:db8::1', destination: '2001:db8::2' }
    const bytes = encodeMobilityMessage(pba, pseudo)
    const at = bytes.indexOf(19, 12) // the option type after the 12-octet PBA header
    assert.equal(at % 4, 2, 'type 19 starts at 4n+2')
    const back = decodeMobilityMessage(bytes, { pseudo }) as BindingAck
    assert.deepEqual(decodeMaarLocator(back.options.find(o => o.type === 'unknown') ?? opt), { peerId: 'p', address: '2001:db8::1', multiaddrs: [] })
  })

  it('carries a P-MAAR\'s refusal (status, reason) and ignores a malformed one, never throwing', () => {
    assert.deepEqual(decodeRefusal(encodeRefusal({ status: 129, reason: 'agreement b-accepts-a: policy drop' })), { status: 129, reason: 'agreement b-accepts-a: policy drop' })
    assert.deepEqual(decodeRefusal(encodeRefusal({ status: 128 })), { status: 128 })
    const long = decodeRefusal(encodeRefusal({ status: 130, reason: 'é'.repeat(200) }))
    assert.ok(long !== undefined && long.reason !== undefined && long.reason.length > 0 && /^é+$/.test(long.reason), 'cut on a character boundary')
    assert.throws(() => encodeRefusal({ status: 0 }), /128\.\.255/)
    const refused = (data: number[]): ReturnType<typeof decodeRefusal> => decodeRefusal(encodeVendorSpecific({ vendorId: DMM_MESH_VENDOR_ID, subtype: SUBTYPE_REFUSED, data: new Uint8Array(data) }))
    assert.equal(refused([]), undefined, 'no status')
    assert.equal(refused([0]), undefined, 'a status that reads as an acceptance')
    assert.deepEqual(refused([129, 0xff, 0xfe]), { status: 129 }, 'a reason that is not UTF-8 is left out')
    assert.equal(decodeRefusal(encodeVendorSpecific({ vendorId: 1234, subtype: SUBTYPE_REFUSED, data: new Uint8Array([129]) })), undefined, 'other vendor')
  })
})
