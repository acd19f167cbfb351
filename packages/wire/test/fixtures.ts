/**
 * Hand-written codec vectors, typed from the RFC layouts (RFC 6275 §6.1/§6.2, RFC 5213 §8,
 * RFC 4283 §3, RFC 8885 §4) — never produced by the encoder. Each hex string is grouped as
 * the message is laid out: the 12 fixed octets, then option by option with its padding.
 * The one checksum below was computed separately (Python, RFC 2460 §8.1 pseudo-header).
 *
 * Fixed part used by most option vectors (RFC 6275 §6.1.7 / RFC 5213 §8.1):
 *   3b HL 05 00 | 0000 checksum | 0001 seq | 8200 flags A+P | 0384 lifetime 900 × 4 s
 */
import type { BindingAck, BindingUpdate, MobilityMessage, MobilityOption, PseudoHeader, WireErrorCode } from '../src/index.js'

export function hex (text: string): Uint8Array {
  const clean = text.replace(/[\s|]/g, '')
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex in fixture: ${text}`)
  return Uint8Array.from(clean.match(/../g) ?? [], b => parseInt(b, 16))
}

export const AP = { A: true, H: false, L: false, K: false, M: false, R: false, P: true }

export function pbu (options: MobilityOption[], over: Partial<BindingUpdate> = {}): BindingUpdate {
  return { kind: 'binding-update', sequence: 1, flags: { ...AP }, lifetime: 3600, options, ...over }
}

export function pba (options: MobilityOption[], over: Partial<BindingAck> = {}): BindingAck {
  return { kind: 'binding-ack', status: 0, sequence: 1, flags: { K: false, R: false, P: true }, lifetime: 3600, options, ...over }
}

const PBU_HEAD = (hl: string): string => `3b${hl} 0500 0000 | 0001 8200 0384 |`

export interface ValidVector {
  name: string
  hex: string
  message: MobilityMessage
  pseudo?: PseudoHeader
  /** Bytes a lenient decoder accepts but the encoder would write differently. */
  decodeOnly?: true
}

export const MAAR1 = '2001:db8:ff::1'
export const MAAR2 = '2001:db8:ff::2'

export const VALID: ValidVector[] = [
  { name: 'PBU without options: one PadN(2) fills the message to 16 octets', hex: `${PBU_HEAD('01')} 0102 0000`, message: pbu([]) },
  { name: 'PBA accepted without options (RFC 5213 §8.2, P = 0x20)', hex: '3b01 0600 0000 | 00 20 0001 0384 | 0102 0000', message: pba([]) },
  {
    name: 'PBU with the RFC 8885 D flag (0x0010)',
    hex: '3b01 0500 0000 | 0001 8210 0384 | 0102 0000',
    message: pbu([], { flags: { ...AP, D: true } })
  },
  {
    name: 'PBA status 153 with P and D flags (0x22), lifetime 0',
    hex: '3b01 0600 0000 | 99 22 0001 0000 | 0102 0000',
    message: pba([], { status: 153, flags: { K: false, R: false, P: true, D: true }, lifetime: 0 })
  },
  {
    name: 'PBU, every RFC 6275/5213 flag, sequence 65535, de-registration',
    hex: '3b01 0500 0000 | ffff fe00 0000 | 0102 0000',
    message: pbu([], { sequence: 65535, flags: { A: true, H: true, L: true, K: true, M: true, R: true, P: true }, lifetime: 0 })
  },
  {
    name: 'largest lifetime: 0xffff units = 262140 s',
    hex: '3b01 0500 0000 | 0001 8200 ffff | 0102 0000',
    message: pbu([], { lifetime: 262140 })
  },
  {
    name: 'MN Identifier, NAI "mn1@x" (RFC 4283 §3, no alignment)',
    hex: `${PBU_HEAD('02')} 0806 01 6d6e314078 | 0102 0000`,
    message: pbu([{ type: 'mn-identifier', subtype: 1, identifier: 'mn1@x' }])
  },
  {
    name: 'Home Network Prefix 2001:db8:1::/64 at 12 = 8n+4, no padding (RFC 5213 §8.3)',
    hex: `${PBU_HEAD('03')} 1612 00 40 20010db8000100000000000000000000`,
    message: pbu([{ type: 'home-network-prefix', prefix: '2001:db8:1::', prefixLength: 64 }])
  },
  {
    name: 'Handoff Indicator 3 (RFC 5213 §8.4)',
    hex: `${PBU_HEAD('01')} 1702 00 03`,
    message: pbu([{ type: 'handoff-indicator', value: 3 }])
  },
  {
    name: 'Access Technology Type 4 = 802.11 (RFC 5213 §8.5)',
    hex: `${PBU_HEAD('01')} 1802 00 04`,
    message: pbu([{ type: 'access-technology-type', value: 4 }])
  },
  {
    name: 'MN Link-layer Identifier at 8n+2 after PadN(6) (RFC 5213 §8.6)',
    hex: `${PBU_HEAD('03')} 0104 00000000 | 1908 0000 020000000001 | 0102 0000`,
    message: pbu([{ type: 'mn-link-layer-id', linkLayerId: hex('020000000001') }])
  },
  {
    name: 'Link-local Address fe80::1 at 8n+6 after PadN(2) (RFC 5213 §8.7)',
    hex: `${PBU_HEAD('03')} 0100 | 1a10 fe800000000000000000000000000001`,
    message: pbu([{ type: 'link-local-address', address: 'fe80::1' }])
  },
  {
    name: 'Timestamp 1700000000.5 s at 8n+2 (RFC 5213 §8.8: 48-bit seconds, 16-bit fraction)',
    hex: `${PBU_HEAD('03')} 0104 00000000 | 1b08 00006553f100 8000 | 0102 0000`,
    message: pbu([{ type: 'timestamp', seconds: 1700000000, fraction: 0x8000 }])
  },
  {
    name: 'Anchored Prefix 2001:db8:a::/48 (RFC 8885 §4.3, 8n+4)',
    hex: `${PBU_HEAD('03')} 4112 00 30 20010db8000a00000000000000000000`,
    message: pbu([{ type: 'anchored-prefix', prefix: '2001:db8:a::', prefixLength: 48 }])
  },
  {
    name: 'Local Prefix 2001:db8:b::/64 (RFC 8885 §4.4, 8n+4)',
    hex: `${PBU_HEAD('03')} 4212 00 40 20010db8000b00000000000000000000`,
    message: pbu([{ type: 'local-prefix', prefix: '2001:db8:b::', prefixLength: 64 }])
  },
  {
    name: 'Previous MAAR with its home network prefix (RFC 8885 §4.5, length 34, 8n+4)',
    hex: `3b05 0600 0000 | 00 20 0001 0384 | 4322 00 40 20010db800ff00000000000000000001 | 20010db8000100000000000000000000`,
    message: pba([{ type: 'previous-maar', address: MAAR1, prefix: '2001:db8:1::', prefixLength: 64 }])
  },
  {
    name: 'Previous MAAR without a prefix goes out as ::/0',
    hex: `3b05 0600 0000 | 00 20 0001 0384 | 4322 00 00 20010db800ff00000000000000000001 | 00000000000000000000000000000000`,
    message: pba([{ type: 'previous-maar', address: MAAR1 }])
  },
  {
    name: 'Serving MAAR 2001:db8:ff::2 at 8n+6 (RFC 8885 §4.6)',
    hex: `${PBU_HEAD('03')} 0100 | 4410 20010db800ff00000000000000000002`,
    message: pbu([{ type: 'serving-maar', address: MAAR2 }])
  },
  {
    name: 'DLIF Link-Local Address fe80::2 at 8n+6 (RFC 8885 §4.7)',
    hex: `${PBU_HEAD('03')} 0100 | 4510 fe800000000000000000000000000002`,
    message: pbu([{ type: 'dlif-link-local-address', address: 'fe80::2' }])
  },
  {
    name: 'DLIF Link-Layer Address 02:00:00:00:00:02, two reserved octets, 8n+2 (RFC 8885 §4.8)',
    hex: `${PBU_HEAD('03')} 0104 00000000 | 4608 0000 020000000002 | 0102 0000`,
    message: pbu([{ type: 'dlif-link-layer-address', linkLayerAddress: hex('020000000002') }])
  },
  {
    name: 'vendor-specific option 19 kept byte for byte, aligned 4n+2 after PadN(0) (RFC 5094 §3)',
    hex: `${PBU_HEAD('02')} 0100 | 1305 00007ed9 01 | 0101 00`,
    message: pbu([{ type: 'unknown', optionType: 19, data: hex('00007ed901') }])
  },
  {
    name: 'a single Pad1 between MN-ID "a@bc" (ends at 19) and an HNP at 20',
    hex: `${PBU_HEAD('04')} 0805 01 61406263 | 00 | 1612 00 40 20010db8000100000000000000000000`,
    message: pbu([{ type: 'mn-identifier', subtype: 1, identifier: 'a@bc' }, { type: 'home-network-prefix', prefix: '2001:db8:1::', prefixLength: 64 }])
  },
  {
    name: 'typical PBU with checksum over the pseudo-header 2001:db8:ff::2 -> 2001:db8:ff::1',
    hex: `3b09 0500 ce88 | 0007 8200 0384 |
      0810 01 6d6e3140646d6d2e6578616d706c65 | 0104 00000000 |
      1612 00 40 20010db8000200000000000000000000 | 1702 0003 | 1802 0004 | 0100 |
      1b08 00006553f100 8000 | 0102 0000`,
    pseudo: { source: MAAR2, destination: MAAR1 },
    message: pbu([
      { type: 'mn-identifier', subtype: 1, identifier: 'mn1@dmm.example' },
      { type: 'home-network-prefix', prefix: '2001:db8:2::', prefixLength: 64 },
      { type: 'handoff-indicator', value: 3 },
      { type: 'access-technology-type', value: 4 },
      { type: 'timestamp', seconds: 1700000000, fraction: 0x8000 }
    ], { sequence: 7 })
  },
  {
    name: 'PBA status 157 (timestamp lower than previously accepted) echoing the timestamp',
    hex: '3b03 0600 0000 | 9d 20 0007 0000 | 0104 00000000 | 1b08 00006553f100 8000 | 0102 0000',
    message: pba([{ type: 'timestamp', seconds: 1700000000, fraction: 0x8000 }], { status: 157, sequence: 7, lifetime: 0 })
  },
  // Decode only: what a lenient decoder accepts that this encoder never writes.
  { name: 'four Pad1 instead of one PadN', hex: `${PBU_HEAD('01')} 00000000`, message: pbu([]), decodeOnly: true },
  { name: 'reserved flag bits, reserved octet, checksum (no pseudo) and PadN contents are ignored', hex: '3b01 05ff abcd | 0001 820f 0384 | 0102 ffff', message: pbu([]), decodeOnly: true },
  {
    name: 'misaligned HNP (at 13) is tolerated by default',
    hex: `${PBU_HEAD('04')} 00 | 1612 00 40 20010db8000100000000000000000000 | 0105 0000000000`,
    message: pbu([{ type: 'home-network-prefix', prefix: '2001:db8:1::', prefixLength: 64 }]),
    decodeOnly: true
  },
  {
    name: 'prefix bits past the prefix length are kept as sent',
    hex: `${PBU_HEAD('03')} 4112 00 10 20010db8000100000000000000000000`,
    message: pbu([{ type: 'anchored-prefix', prefix: '2001:db8:1::', prefixLength: 16 }]),
    decodeOnly: true
  }
]

export interface ErrorVector {
  name: string
  hex: string
  code: WireErrorCode
  offset: number
  pseudo?: PseudoHeader
  strictAlignment?: true
}

export const ERRORS: ErrorVector[] = [
  { name: 'empty input', hex: '', code: 'TRUNCATED', offset: 0 },
  { name: 'one octet', hex: '3b', code: 'TRUNCATED', offset: 1 },
  { name: 'Payload Proto 58, not 59', hex: '3a01 0500 0000 0001 8200 0384 0102 0000', code: 'BAD_PROTO', offset: 0 },
  { name: 'six octets: less than the 8-octet header', hex: '3b01 0500 0000', code: 'TRUNCATED', offset: 6 },
  { name: 'Header Len says 24 octets, 16 present', hex: '3b02 0500 0000 0001 8200 0384 0102 0000', code: 'TRUNCATED', offset: 16 },
  { name: 'eight octets after the declared end', hex: '3b01 0500 0000 0001 8200 0384 0102 0000 0000 0000 0000 0000', code: 'BAD_LENGTH', offset: 16 },
  { name: 'MH type 7 (Binding Error is 7; not handled)', hex: '3b01 0700 0000 0001 8200 0384 0102 0000', code: 'UNKNOWN_TYPE', offset: 2 },
  { name: 'MH type 0 (Binding Refresh Request)', hex: '3b00 0000 0000 0000', code: 'UNKNOWN_TYPE', offset: 2 },
  { name: 'Header Len 0: a BU needs 12 octets', hex: '3b00 0500 0000 0001', code: 'BAD_LENGTH', offset: 1 },
  { name: 'PadN(3) runs one octet past the end', hex: `${PBU_HEAD('01')} 0103 0000`, code: 'OPTION_OVERRUN', offset: 12 },
  { name: 'option type in the last octet with no Length', hex: `${PBU_HEAD('01')} 000000 17`, code: 'OPTION_OVERRUN', offset: 15 },
  { name: 'HNP of length 17', hex: `${PBU_HEAD('03')} 1611 00 40 20010db80001000000000000000000 | 00`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'HNP prefix length 129', hex: `${PBU_HEAD('03')} 1612 00 81 20010db8000100000000000000000000`, code: 'BAD_VALUE', offset: 15 },
  { name: 'Timestamp of length 6', hex: `${PBU_HEAD('02')} 1b06 00006553f100 | 0102 0000`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'Handoff Indicator of length 1', hex: `${PBU_HEAD('01')} 1701 03 | 00`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'Access Technology Type of length 3', hex: `${PBU_HEAD('02')} 1803 000400 | 0105 0000000000`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'MN Identifier of length 0', hex: `${PBU_HEAD('01')} 0800 | 0100`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'MN Identifier that is not UTF-8', hex: `${PBU_HEAD('02')} 0803 01 fffe | 0105 0000000000`, code: 'BAD_VALUE', offset: 15 },
  { name: 'MN Link-layer Identifier of length 1', hex: `${PBU_HEAD('01')} 1901 00 | 00`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'Link-local Address of length 8', hex: `${PBU_HEAD('02')} 1a08 fe80000000000001 | 0100`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'Anchored Prefix of length 16', hex: `${PBU_HEAD('03')} 4110 20010db8000100000000000000000000 | 0100`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'Local Prefix length 130', hex: `${PBU_HEAD('03')} 4212 00 82 20010db8000100000000000000000000`, code: 'BAD_VALUE', offset: 15 },
  { name: 'Previous MAAR of length 18 (address only)', hex: `${PBU_HEAD('03')} 4312 00 40 20010db800ff00000000000000000001`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'Previous MAAR prefix length 200', hex: `${PBU_HEAD('05')} 4322 00 c8 20010db800ff00000000000000000001 | 20010db8000100000000000000000000`, code: 'BAD_VALUE', offset: 15 },
  { name: 'Serving MAAR of length 4', hex: `${PBU_HEAD('02')} 4404 00000000 | 0104 00000000`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'DLIF Link-Local Address of length 15', hex: `${PBU_HEAD('03')} 450f fe8000000000000000000000000000 | 0101 00`, code: 'BAD_LENGTH', offset: 13 },
  { name: 'DLIF Link-Layer Address of length 1', hex: `${PBU_HEAD('01')} 4601 00 | 00`, code: 'BAD_LENGTH', offset: 13 },
  {
    name: 'checksum off by one',
    hex: `3b09 0500 ce89 | 0007 8200 0384 | 0810 01 6d6e3140646d6d2e6578616d706c65 | 0104 00000000 |
      1612 00 40 20010db8000200000000000000000000 | 1702 0003 | 1802 0004 | 0100 | 1b08 00006553f100 8000 | 0102 0000`,
    pseudo: { source: MAAR2, destination: MAAR1 },
    code: 'BAD_CHECKSUM',
    offset: 4
  },
  {
    name: 'right checksum, other source address',
    hex: `3b09 0500 ce88 | 0007 8200 0384 | 0810 01 6d6e3140646d6d2e6578616d706c65 | 0104 00000000 |
      1612 00 40 20010db8000200000000000000000000 | 1702 0003 | 1802 0004 | 0100 | 1b08 00006553f100 8000 | 0102 0000`,
    pseudo: { source: '2001:db8:ff::3', destination: MAAR1 },
    code: 'BAD_CHECKSUM',
    offset: 4
  },
  {
    name: 'misaligned HNP (at 13) with strictAlignment',
    hex: `${PBU_HEAD('04')} 00 | 1612 00 40 20010db8000100000000000000000000 | 0105 0000000000`,
    strictAlignment: true,
    code: 'BAD_ALIGNMENT',
    offset: 13
  },
  {
    name: 'misaligned Timestamp (at 12, needs 8n+2) with strictAlignment',
    hex: `${PBU_HEAD('02')} 1b08 00006553f100 8000 | 0100`,
    strictAlignment: true,
    code: 'BAD_ALIGNMENT',
    offset: 12
  }
]

/** Messages the encoder must refuse, with the code. */
export const ENCODE_ERRORS: Array<{ name: string, message: MobilityMessage, code: WireErrorCode }> = [
  { name: 'lifetime not a multiple of 4 s', message: pbu([], { lifetime: 6 }), code: 'BAD_VALUE' },
  { name: 'lifetime above 0xffff × 4 s', message: pbu([], { lifetime: 262144 }), code: 'BAD_VALUE' },
  { name: 'negative lifetime', message: pbu([], { lifetime: -4 }), code: 'BAD_VALUE' },
  { name: 'sequence above 65535', message: pbu([], { sequence: 65536 }), code: 'BAD_VALUE' },
  { name: 'status above 255', message: pba([], { status: 256 }), code: 'BAD_VALUE' },
  { name: 'HNP with a bad address', message: pbu([{ type: 'home-network-prefix', prefix: '2001:db8::g', prefixLength: 64 }]), code: 'BAD_VALUE' },
  { name: 'prefix length 129', message: pbu([{ type: 'anchored-prefix', prefix: '2001:db8::', prefixLength: 129 }]), code: 'BAD_VALUE' },
  { name: 'MN-ID of 255 octets', message: pbu([{ type: 'mn-identifier', subtype: 1, identifier: 'x'.repeat(255) }]), code: 'BAD_VALUE' },
  { name: 'handoff indicator 256', message: pbu([{ type: 'handoff-indicator', value: 256 }]), code: 'BAD_VALUE' },
  { name: 'timestamp fraction 65536', message: pbu([{ type: 'timestamp', seconds: 1, fraction: 65536 }]), code: 'BAD_VALUE' },
  { name: 'timestamp seconds 2^48', message: pbu([{ type: 'timestamp', seconds: 2 ** 48, fraction: 0 }]), code: 'BAD_VALUE' },
  { name: 'unknown option given as PadN', message: pbu([{ type: 'unknown', optionType: 1, data: new Uint8Array(2) }]), code: 'BAD_VALUE' },
  { name: 'unknown option with an interpreted type', message: pbu([{ type: 'unknown', optionType: 22, data: new Uint8Array(18) }]), code: 'BAD_VALUE' },
  { name: 'unknown option of 256 octets', message: pbu([{ type: 'unknown', optionType: 19, data: new Uint8Array(256) }]), code: 'BAD_VALUE' },
  { name: 'previous-maar with a prefix but no length', message: pba([{ type: 'previous-maar', address: MAAR1, prefix: '2001:db8::' }]), code: 'BAD_VALUE' },
  { name: 'link-layer id of 254 octets', message: pbu([{ type: 'mn-link-layer-id', linkLayerId: new Uint8Array(254) }]), code: 'BAD_VALUE' },
  {
    name: 'more options than 2048 octets hold',
    message: pbu(Array.from({ length: 110 }, () => ({ type: 'anchored-prefix' as const, prefix: '2001:db8::', prefixLength: 64 }))),
    code: 'BAD_LENGTH'
  }
]
