/**
 * The Vendor-Specific Mobility Option (RFC 5094 §3, type 19): a 4-octet vendor id (an IANA
 * enterprise number), a 1-octet sub-type, then data. The codec keeps type 19 as raw bytes
 * (options.ts aligns it 4n+2); these helpers give its fields a shape, and encode the one vendor
 * option dmm-mesh defines: the MAAR locator that follows an RFC 8885 §4.5 Previous MAAR option
 * in a referral (doc/ARCHITECTURE.md "When the record is stale").
 */
import type { MaarRef } from './maar-ref.js'
import type { MobilityOption, UnknownOption } from './types.js'

export const VENDOR_SPECIFIC_OPTION_TYPE = 19
/** IANA enterprise number reserved for documentation (RFC 5612). */
export const DMM_MESH_VENDOR_ID = 32473
export const SUBTYPE_MAAR_LOCATOR = 1

/** The option's 8-bit length bounds the data: 255 minus vendor id and sub-type. */
const MAX_VENDOR_DATA = 255 - 5
/** Locator payloads stay well inside one option. */
const MAX_LOCATOR_BYTES = 240

export interface VendorSpecific { vendorId: number, subtype: number, data: Uint8Array }

export function encodeVendorSpecific (v: VendorSpecific): UnknownOption {
  if (v.data.length > MAX_VENDOR_DATA) throw new RangeError(`vendor-specific data of ${v.data.length} octets; at most ${MAX_VENDOR_DATA} fit (RFC 5094 §3)`)
  const data = new Uint8Array(5 + v.data.length)
  new DataView(data.buffer).setUint32(0, v.vendorId)
  data[4] = v.subtype
  data.set(v.data, 5)
  return { type: 'unknown', optionType: VENDOR_SPECIFIC_OPTION_TYPE, data }
}

/** The option's fields, or undefined when it is not a well-formed Vendor-Specific option. */
export function decodeVendorSpecific (option: MobilityOption): VendorSpecific | undefined {
  if (option.type !== 'unknown' || option.optionType !== VENDOR_SPECIFIC_OPTION_TYPE) return undefined
  const data = option.data
  if (data.length < 5) return undefined
  return { vendorId: new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0), subtype: data[4] ?? 0, data: data.subarray(5) }
}

function locatorBody (ref: MaarRef, multiaddrs: string[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ p: ref.peerId, a: ref.address, m: multiaddrs }))
}

/**
 * How to reach a MAAR over libp2p, which a Previous MAAR option (an address only) cannot say.
 * Keeps the multiaddrs that fit: the first one is enough to dial.
 */
export function encodeMaarLocator (ref: MaarRef): UnknownOption {
  let multiaddrs = [...ref.multiaddrs]
  let body = locatorBody(ref, multiaddrs)
  while (body.length > MAX_LOCATOR_BYTES && multiaddrs.length > 0) {
    multiaddrs = multiaddrs.slice(0, -1)
    body = locatorBody(ref, multiaddrs)
  }
  return encodeVendorSpecific({ vendorId: DMM_MESH_VENDOR_ID, subtype: SUBTYPE_MAAR_LOCATOR, data: body })
}

/** The locator, or undefined when the option is not ours or is malformed (never throws). */
export function decodeMaarLocator (option: MobilityOption): MaarRef | undefined {
  const v = decodeVendorSpecific(option)
  if (v === undefined || v.vendorId !== DMM_MESH_VENDOR_ID || v.subtype !== SUBTYPE_MAAR_LOCATOR || v.data.length === 0) return undefined
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(v.data))
    if (typeof parsed !== 'object' || parsed === null) return undefined
    const { p, a, m } = parsed as Record<string, unknown>
    if (typeof p !== 'string' || typeof a !== 'string' || !Array.isArray(m) || !m.every(x => typeof x === 'string')) return undefined
    return { peerId: p, address: a, multiaddrs: m as string[] }
  } catch {
    return undefined
  }
}

/**
 * Set by a CMD in locator mode on the PBU it forwards (draft-bernardos-dmm-pmip §3.3): the P-MAAR
 * also answers the serving MAAR named by the locator directly. No data.
 */
export const SUBTYPE_ANSWER_SERVING_MAAR = 2
/**
 * In a CMD's PBA to a serving MAAR: the MN's session sequence as the CMD keeps it (4 octets),
 * which the serving MAAR's session record must exceed; the PBA's own Sequence Number only echoes
 * the PBU's 16 bits (RFC 5213 §8.2).
 */
export const SUBTYPE_SESSION_SEQUENCE = 3

/**
 * Inside a Previous MAAR option's group in a CMD's PBA: that P-MAAR has not acknowledged yet, its
 * Anchored Prefixes are what the CMD knows it anchors (pending, RFC 5213 §6.9.4). No data.
 */
export const SUBTYPE_PENDING = 4

export function encodePending (): UnknownOption {
  return encodeVendorSpecific({ vendorId: DMM_MESH_VENDOR_ID, subtype: SUBTYPE_PENDING, data: new Uint8Array(0) })
}

export function encodeAnswerServingMaar (): UnknownOption {
  return encodeVendorSpecific({ vendorId: DMM_MESH_VENDOR_ID, subtype: SUBTYPE_ANSWER_SERVING_MAAR, data: new Uint8Array(0) })
}

export function encodeSessionSequence (sequence: number): UnknownOption {
  const data = new Uint8Array(4)
  new DataView(data.buffer).setUint32(0, sequence)
  return encodeVendorSpecific({ vendorId: DMM_MESH_VENDOR_ID, subtype: SUBTYPE_SESSION_SEQUENCE, data })
}

/** The dmm-mesh vendor option of `subtype` among `options`, if any (never throws). */
export function findDmmVendor (options: MobilityOption[], subtype: number): VendorSpecific | undefined {
  for (const o of options) {
    const v = decodeVendorSpecific(o)
    if (v !== undefined && v.vendorId === DMM_MESH_VENDOR_ID && v.subtype === subtype) return v
  }
  return undefined
}

export function decodeSessionSequence (options: MobilityOption[]): number | undefined {
  const v = findDmmVendor(options, SUBTYPE_SESSION_SEQUENCE)
  return v !== undefined && v.data.length === 4 ? new DataView(v.data.buffer, v.data.byteOffset, 4).getUint32(0) : undefined
}

/**
 * In a PBA that refuses: why, as UTF-8 text (cut to fit one option), so that the serving MAAR's
 * handover report can name the agreement or policy that refused it (doc/ARCHITECTURE.md
 * "Federation"); the Status field alone (RFC 5213 §8.2) cannot.
 */
export const SUBTYPE_REASON = 5
const MAX_REASON_BYTES = 240

/** The reason as UTF-8, cut to MAX_REASON_BYTES on a character boundary. */
function reasonBytes (reason: string): Uint8Array {
  const bytes = new TextEncoder().encode(reason)
  if (bytes.length <= MAX_REASON_BYTES) return bytes
  // A UTF-8 continuation octet is 10xxxxxx.
  let end = MAX_REASON_BYTES
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
  return bytes.subarray(0, end)
}

/** UTF-8 text, or undefined when it is not UTF-8 (never throws). */
function utf8 (data: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data)
  } catch {
    return undefined
  }
}

export function encodeReason (reason: string): UnknownOption {
  return encodeVendorSpecific({ vendorId: DMM_MESH_VENDOR_ID, subtype: SUBTYPE_REASON, data: reasonBytes(reason) })
}

/** The reason text, or undefined when absent or not UTF-8 (never throws). */
export function decodeReason (options: MobilityOption[]): string | undefined {
  const v = findDmmVendor(options, SUBTYPE_REASON)
  return v === undefined ? undefined : utf8(v.data)
}

/**
 * Inside a Previous MAAR option's group in a CMD's PBA: that P-MAAR refused the relayed PBU. One
 * octet, its PBA's RFC 5213 §8.2 status (128 or above), then its reason as UTF-8 text (sub-type
 * 5's), so that the serving MAAR reports and acts on the refusal as when it signals the P-MAAR
 * itself (doc/ARCHITECTURE.md "The CMD").
 */
export const SUBTYPE_REFUSED = 6

export interface Refusal { status: number, reason?: string }

export function encodeRefusal (r: Refusal): UnknownOption {
  if (!Number.isInteger(r.status) || r.status < 128 || r.status > 255) throw new RangeError(`refusal status ${r.status}: a PBA refuses with 128..255 (RFC 5213 §8.2)`)
  const text = r.reason !== undefined ? reasonBytes(r.reason) : new Uint8Array(0)
  const data = new Uint8Array(1 + text.length)
  data[0] = r.status
  data.set(text, 1)
  return encodeVendorSpecific({ vendorId: DMM_MESH_VENDOR_ID, subtype: SUBTYPE_REFUSED, data })
}

/**
 * The refusal an option carries, or undefined when it is not one of ours or is malformed (no
 * status, a status below 128 that would read as an acceptance); never throws. A reason that is
 * not UTF-8 is left out, the status kept.
 */
export function decodeRefusal (option: MobilityOption): Refusal | undefined {
  const v = decodeVendorSpecific(option)
  if (v === undefined || v.vendorId !== DMM_MESH_VENDOR_ID || v.subtype !== SUBTYPE_REFUSED) return undefined
  const status = v.data[0]
  if (status === undefined || status < 128) return undefined
  const reason = v.data.length > 1 ? utf8(v.data.subarray(1)) : undefined
  return { status, ...(reason !== undefined ? { reason } : {}) }
}
