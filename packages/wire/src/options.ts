/**
 * Mobility option codecs (RFC 6275 §6.2): one entry per interpreted option type with its layout,
 * its length rule and its alignment requirement "xn+y" (the option's Type octet must sit at an
 * offset ≡ y mod x from the start of the Mobility Header; RFC 6275 §6.2.1).
 *
 * Decode reads every field byte by byte, so a misaligned option is still read correctly; the
 * message codec decides whether to tolerate it (default) or reject it (strictAlignment).
 */
import { WireError } from './errors.js'
import type { OptionOfType } from './find.js'
import { cachedIpv6 } from './address-cache.js'
import { formatIpv6 } from './ipv6.js'
import { OPTION_TYPE } from './types.js'
import type {
  AccessTechnologyTypeOption, AddressOption, DlifLinkLayerAddressOption, HandoffIndicatorOption,
  MnIdentifierOption, MnLinkLayerIdOption, MobilityOption, PrefixOption, PreviousMaarOption,
  TimestampOption
} from './types.js'

/** An option ready to be written: its data length and a writer for the data octets. */
export interface PreparedOption {
  optionType: number
  align: Alignment | undefined
  dataLength: number
  /** Writes the option data (after Type and Length) at `at`. */
  write: (out: Uint8Array, at: number) => void
}

/** Alignment requirement xn+y (RFC 6275 §6.2.1). */
export interface Alignment { x: number, y: number }

interface OptionCodec<O extends MobilityOption> {
  code: number
  align?: Alignment
  /** Which RFC section lays it out, for error messages. */
  rfc: string
  /** Checks the option object and returns its data length and writer; throws BAD_VALUE. */
  prepare: (o: O) => { dataLength: number, write: (out: Uint8Array, at: number) => void }
  /** Reads the option data `data`, which starts at message offset `at`; throws WireError. */
  read: (data: Uint8Array, at: number) => O
}

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

function bad (what: string): WireError {
  return new WireError('BAD_VALUE', -1, what)
}

function address (text: unknown, what: string): Uint8Array {
  try {
    return cachedIpv6(text as string)
  } catch {
    throw bad(`${what}: not an IPv6 address: ${JSON.stringify(text)}`)
  }
}

function byteField (value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0xff) throw bad(`${what} must be an integer 0..255, got ${String(value)}`)
  return value as number
}

function prefixLengthField (value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 128) throw bad(`${what} prefix length must be 0..128, got ${String(value)}`)
  return value as number
}

function bytesField (value: unknown, max: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw bad(`${what} must be a Uint8Array`)
  if (value.length > max) throw bad(`${what} is ${value.length} octets, at most ${max} fit in the option`)
  return value
}

function expectLength (data: Uint8Array, at: number, want: number, name: string): void {
  // `at - 1` is the option's Length octet.
  if (data.length !== want) throw new WireError('BAD_LENGTH', at - 1, `${name} option length ${data.length}, must be ${want}`)
}

function expectMinLength (data: Uint8Array, at: number, min: number, name: string): void {
  if (data.length < min) throw new WireError('BAD_LENGTH', at - 1, `${name} option length ${data.length}, must be at least ${min}`)
}

function readPrefixLength (data: Uint8Array, index: number, at: number, name: string): number {
  const length = data[index]!
  if (length > 128) throw new WireError('BAD_VALUE', at + index, `${name} prefix length ${length} > 128`)
  return length
}

/**
 * Home Network Prefix (RFC 5213 §8.3), Anchored Prefix (RFC 8885 §4.3), Local Prefix
 * (RFC 8885 §4.4): Reserved, Prefix Length, 16-octet prefix; length 18; alignment 8n+4.
 * The prefix octets are kept as sent (bits past the prefix length are not cleared), so that
 * re-encoding gives the same bytes.
 */
function prefixCodec (type: PrefixOption['type'], code: number, rfc: string): OptionCodec<PrefixOption> {
  return {
    code,
    rfc,
    align: { x: 8, y: 4 },
    prepare: o => {
      const prefix = address(o.prefix, type)
      const length = prefixLengthField(o.prefixLength, type)
      return {
        dataLength: 18,
        write: (out, at) => { out[at] = 0; out[at + 1] = length; out.set(prefix, at + 2) }
      }
    },
    read: (data, at) => {
      expectLength(data, at, 18, type)
      const prefixLength = readPrefixLength(data, 1, at, type)
      return { type, prefix: formatIpv6(data.subarray(2, 18)), prefixLength }
    }
  }
}

/**
 * Link-local Address (RFC 5213 §8.7), Serving MAAR (RFC 8885 §4.6), DLIF Link-Local Address
 * (RFC 8885 §4.7): a bare 16-octet address; length 16; alignment 8n+6.
 */
function addressCodec (type: AddressOption['type'], code: number, rfc: string): OptionCodec<AddressOption> {
  return {
    code,
    rfc,
    align: { x: 8, y: 6 },
    prepare: o => {
      const bytes = address(o.address, type)
      return { dataLength: 16, write: (out, at) => { out.set(bytes, at) } }
    },
    read: (data, at) => {
      expectLength(data, at, 16, type)
      return { type, address: formatIpv6(data) }
    }
  }
}

/** One-octet value after a reserved octet: Handoff Indicator (§8.4), Access Technology Type (§8.5). */
function byteValueCodec<O extends HandoffIndicatorOption | AccessTechnologyTypeOption> (type: O['type'], code: number, rfc: string): OptionCodec<O> {
  return {
    code,
    rfc,
    prepare: o => {
      const value = byteField(o.value, type)
      return { dataLength: 2, write: (out, at) => { out[at] = 0; out[at + 1] = value } }
    },
    read: (data, at) => {
      expectLength(data, at, 2, type)
      return { type, value: data[1]! } as O
    }
  }
}

/**
 * Two reserved octets then a link-layer address of any width: MN Link-layer Identifier
 * (RFC 5213 §8.6, alignment 8n+2) and DLIF Link-Layer Address (RFC 8885 §4.8, drawn the same
 * way; we give it the same 8n+2).
 */
function linkLayerCodec<O extends MnLinkLayerIdOption | DlifLinkLayerAddressOption> (
  type: O['type'], code: number, rfc: string, field: 'linkLayerId' | 'linkLayerAddress'
): OptionCodec<O> {
  return {
    code,
    rfc,
    align: { x: 8, y: 2 },
    prepare: o => {
      const value = bytesField((o as unknown as Record<string, unknown>)[field], 253, `${type} ${field}`)
      return { dataLength: 2 + value.length, write: (out, at) => { out[at] = 0; out[at + 1] = 0; out.set(value, at + 2) } }
    },
    read: (data, at) => {
      expectMinLength(data, at, 2, type)
      return { type, [field]: data.slice(2) } as unknown as O
    }
  }
}

const mnIdentifier: OptionCodec<MnIdentifierOption> = {
  // RFC 4283 §3: Subtype, Identifier; no alignment requirement. Identifiers are UTF-8 text (an
  // NAI, RFC 4282); an identifier that is not valid UTF-8 is rejected as BAD_VALUE.
  code: OPTION_TYPE.MN_IDENTIFIER,
  rfc: 'RFC 4283 §3',
  prepare: o => {
    const subtype = byteField(o.subtype, 'mn-identifier subtype')
    if (typeof o.identifier !== 'string') throw bad('mn-identifier identifier must be a string')
    // A lone surrogate has no UTF-8 form: TextEncoder would silently send U+FFFD instead.
    if (/[\uD800-\uDFFF]/u.test(o.identifier)) throw bad('mn-identifier holds a lone surrogate (not encodable as UTF-8)')
    const id = utf8.encode(o.identifier)
    if (id.length > 254) throw bad(`mn-identifier is ${id.length} octets, at most 254 fit`)
    return { dataLength: 1 + id.length, write: (out, at) => { out[at] = subtype; out.set(id, at + 1) } }
  },
  read: (data, at) => {
    expectMinLength(data, at, 1, 'mn-identifier')
    let identifier: string
    try {
      identifier = utf8Strict.decode(data.subarray(1))
    } catch {
      throw new WireError('BAD_VALUE', at + 1, 'mn-identifier is not valid UTF-8')
    }
    return { type: 'mn-identifier', subtype: data[0]!, identifier }
  }
}

const MAX_SECONDS_48 = 2 ** 48 - 1

const timestamp: OptionCodec<TimestampOption> = {
  // RFC 5213 §8.8: 64-bit timestamp, 48-bit seconds since 1970-01-01 UTC + 16-bit 1/65536
  // fractions; length 8; alignment 8n+2.
  code: OPTION_TYPE.TIMESTAMP,
  rfc: 'RFC 5213 §8.8',
  align: { x: 8, y: 2 },
  prepare: o => {
    const { seconds, fraction } = o
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_SECONDS_48) throw bad(`timestamp seconds must be an integer 0..2^48-1, got ${String(seconds)}`)
    if (!Number.isInteger(fraction) || fraction < 0 || fraction > 0xffff) throw bad(`timestamp fraction must be an integer 0..65535, got ${String(fraction)}`)
    return {
      dataLength: 8,
      write: (out, at) => {
        const high = Math.floor(seconds / 0x100000000)
        const low = seconds >>> 0
        out[at] = high >>> 8; out[at + 1] = high & 0xff
        out[at + 2] = low >>> 24; out[at + 3] = (low >>> 16) & 0xff; out[at + 4] = (low >>> 8) & 0xff; out[at + 5] = low & 0xff
        out[at + 6] = fraction >>> 8; out[at + 7] = fraction & 0xff
      }
    }
  },
  read: (data, at) => {
    expectLength(data, at, 8, 'timestamp')
    const high = (data[0]! << 8) | data[1]!
    const low = ((data[2]! << 24) | (data[3]! << 16) | (data[4]! << 8) | data[5]!) >>> 0
    return { type: 'timestamp', seconds: high * 0x100000000 + low, fraction: (data[6]! << 8) | data[7]! }
  }
}

const previousMaar: OptionCodec<PreviousMaarOption> = {
  // RFC 8885 §4.5: Reserved, Prefix Length, Previous MAAR's global address (16), Home Network
  // Prefix (16); length 34; alignment 8n+4 (addresses on 8-octet boundaries, as for the HNP).
  code: OPTION_TYPE.PREVIOUS_MAAR,
  rfc: 'RFC 8885 §4.5',
  align: { x: 8, y: 4 },
  prepare: o => {
    const maar = address(o.address, 'previous-maar address')
    if ((o.prefix === undefined) !== (o.prefixLength === undefined)) throw bad('previous-maar needs both prefix and prefixLength, or neither')
    const prefix = o.prefix === undefined ? new Uint8Array(16) : address(o.prefix, 'previous-maar prefix')
    const length = o.prefixLength === undefined ? 0 : prefixLengthField(o.prefixLength, 'previous-maar')
    return {
      dataLength: 34,
      write: (out, at) => { out[at] = 0; out[at + 1] = length; out.set(maar, at + 2); out.set(prefix, at + 18) }
    }
  },
  read: (data, at) => {
    expectLength(data, at, 34, 'previous-maar')
    const prefixLength = readPrefixLength(data, 1, at, 'previous-maar')
    const address = formatIpv6(data.subarray(2, 18))
    const prefix = formatIpv6(data.subarray(18, 34))
    // ::/0 stands for "no prefix given" (see PreviousMaarOption).
    if (prefixLength === 0 && prefix === '::') return { type: 'previous-maar', address }
    return { type: 'previous-maar', address, prefix, prefixLength }
  }
}

type Codecs = { [K in Exclude<MobilityOption['type'], 'unknown'>]: OptionCodec<OptionOfType<K>> }

const CODECS: Codecs = {
  'mn-identifier': mnIdentifier,
  'home-network-prefix': prefixCodec('home-network-prefix', OPTION_TYPE.HOME_NETWORK_PREFIX, 'RFC 5213 §8.3'),
  'handoff-indicator': byteValueCodec('handoff-indicator', OPTION_TYPE.HANDOFF_INDICATOR, 'RFC 5213 §8.4'),
  'access-technology-type': byteValueCodec('access-technology-type', OPTION_TYPE.ACCESS_TECHNOLOGY_TYPE, 'RFC 5213 §8.5'),
  'mn-link-layer-id': linkLayerCodec('mn-link-layer-id', OPTION_TYPE.MN_LINK_LAYER_ID, 'RFC 5213 §8.6', 'linkLayerId'),
  'link-local-address': addressCodec('link-local-address', OPTION_TYPE.LINK_LOCAL_ADDRESS, 'RFC 5213 §8.7'),
  timestamp,
  'anchored-prefix': prefixCodec('anchored-prefix', OPTION_TYPE.ANCHORED_PREFIX, 'RFC 8885 §4.3'),
  'local-prefix': prefixCodec('local-prefix', OPTION_TYPE.LOCAL_PREFIX, 'RFC 8885 §4.4'),
  'previous-maar': previousMaar,
  'serving-maar': addressCodec('serving-maar', OPTION_TYPE.SERVING_MAAR, 'RFC 8885 §4.6'),
  'dlif-link-local-address': addressCodec('dlif-link-local-address', OPTION_TYPE.DLIF_LINK_LOCAL_ADDRESS, 'RFC 8885 §4.7'),
  'dlif-link-layer-address': linkLayerCodec('dlif-link-layer-address', OPTION_TYPE.DLIF_LINK_LAYER_ADDRESS, 'RFC 8885 §4.8', 'linkLayerAddress')
}

const BY_CODE = new Map<number, OptionCodec<MobilityOption>>(
  Object.values(CODECS).map(c => [c.code, c as unknown as OptionCodec<MobilityOption>])
)

/**
 * Alignment of option types this codec carries as raw bytes but whose RFC sets a rule:
 * the Vendor-Specific Mobility Option (type 19) is aligned 4n+2 (RFC 5094 §3).
 */
const RAW_ALIGNMENT = new Map<number, Alignment>([[19, { x: 4, y: 2 }]])

/** Alignment requirement of an option type, undefined for none or unknown types. */
export function optionAlignment (optionType: number): Alignment | undefined {
  return BY_CODE.get(optionType)?.align ?? RAW_ALIGNMENT.get(optionType)
}

/** Validates one option object and returns how to write it; throws WireError BAD_VALUE. */
export function prepareOption (o: MobilityOption): PreparedOption {
  if (o === null || typeof o !== 'object') throw bad('option must be an object')
  if (o.type === 'unknown') {
    const optionType = byteField(o.optionType, 'unknown option type')
    // Pad1/PadN are the encoder's business, and an interpreted type must use its typed form,
    // or decode would not give the same object back.
    if (optionType === OPTION_TYPE.PAD1 || optionType === OPTION_TYPE.PADN) throw bad('padding options are inserted by the encoder, not given')
    if (BY_CODE.has(optionType)) throw bad(`option type ${optionType} is interpreted: give it in its typed form`)
    const data = bytesField(o.data, 255, `unknown option ${optionType} data`)
    return { optionType, align: RAW_ALIGNMENT.get(optionType), dataLength: data.length, write: (out, at) => { out.set(data, at) } }
  }
  const codec = (CODECS as unknown as Record<string, OptionCodec<MobilityOption> | undefined>)[o.type]
  if (codec === undefined) throw bad(`unknown option kind ${JSON.stringify((o as { type: unknown }).type)}`)
  const { dataLength, write } = codec.prepare(o)
  return { optionType: codec.code, align: codec.align, dataLength, write }
}

/** Decodes one option's data (Pad1/PadN already handled by the caller). */
export function readOption (optionType: number, data: Uint8Array, at: number): MobilityOption {
  const codec = BY_CODE.get(optionType)
  // Unknown options are kept byte for byte (RFC 6275 §6.2.1: skip what is not understood).
  if (codec === undefined) return { type: 'unknown', optionType, data: data.slice() }
  return codec.read(data, at)
}
