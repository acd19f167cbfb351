/**
 * Mobility Header codec for the Proxy Binding Update and Acknowledgement (RFC 6275 §6.1,
 * RFC 5213 §8.1–8.2, RFC 8885 §4.1–4.2).
 *
 *   0: Payload Proto (59)  1: Header Len (8-octet units, not counting the first 8)
 *   2: MH Type             3: Reserved            4–5: Checksum
 *   BU  6–7: Sequence #    8–9: A H L K M R P F T B S D + reserved bits   10–11: Lifetime (4 s units)
 *   BA  6: Status          7: K R P T B S D + reserved bit   8–9: Sequence #   10–11: Lifetime
 *   12…: mobility options, padded so the whole message is a multiple of 8 octets.
 *
 * Decode policy: misaligned options are tolerated by default (RFC 6275 §6.2.1 puts alignment
 * on the sender, and every field is read octet by octet, so nothing is misread); pass
 * `strictAlignment: true` to reject them with BAD_ALIGNMENT. Encode always aligns. Pad1/PadN
 * contents are not checked. Flag bits other than those in the types are ignored (RFC 6275
 * §6.1.7: reserved bits are ignored by the receiver).
 */
import { checksumValid, mobilityChecksum } from './checksum.js'
import { WireError } from './errors.js'
import { prepareOption, optionAlignment, readOption } from './options.js'
import type { PreparedOption } from './options.js'
import { MH_TYPE, OPTION_TYPE } from './types.js'
import type { BindingAckFlags, BindingUpdateFlags, MobilityMessage, MobilityOption, PseudoHeader } from './types.js'

/** RFC 6275 §6.1.1: "IPv6 no next header" in Payload Proto. */
export const MH_PAYLOAD_PROTO = 59
/** Octets before the first option of a BU or BA. */
const FIXED_LENGTH = 12
/** Header Len is 8 bits of 8-octet units: (255 + 1) * 8. */
export const MAX_MESSAGE_LENGTH = 2048

// RFC 6275 §6.1.7, RFC 5213 §8.1, RFC 8885 §4.1 (IANA "Binding Update Flags").
const BU_FLAG_BITS = { A: 0x8000, H: 0x4000, L: 0x2000, K: 0x1000, M: 0x0800, R: 0x0400, P: 0x0200 } as const
const BU_D = 0x0010
// RFC 6275 §6.1.8, RFC 5213 §8.2, RFC 8885 §4.2 (IANA "Binding Acknowledgment Flags").
const BA_FLAG_BITS = { K: 0x80, R: 0x40, P: 0x20 } as const
const BA_D = 0x02

export interface DecodeOptions {
  /** Addresses of the carrying IPv6 packet: when given the checksum is verified. */
  pseudo?: PseudoHeader
  /** Reject options that break their alignment rule (default: tolerate). */
  strictAlignment?: boolean
}

function bad (what: string, offset = -1): WireError {
  return new WireError('BAD_VALUE', offset, what)
}

function u16Field (value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0xffff) throw bad(`${what} must be an integer 0..65535, got ${String(value)}`)
  return value as number
}

/** Seconds (a multiple of 4, RFC 6275 §6.1.7 "one time unit is 4 seconds") to wire units. */
function lifetimeUnits (seconds: unknown): number {
  if (!Number.isInteger(seconds) || (seconds as number) < 0 || (seconds as number) > 0xffff * 4) throw bad(`lifetime must be an integer 0..${0xffff * 4} seconds, got ${String(seconds)}`)
  if ((seconds as number) % 4 !== 0) throw bad(`lifetime ${String(seconds)} s is not a multiple of 4 s`)
  return (seconds as number) / 4
}

function flagBits (flags: object | undefined, bits: Record<string, number>, d: number, what: string): number {
  if (flags === null || typeof flags !== 'object') throw bad(`${what} flags missing`)
  const f = flags as Record<string, unknown>
  let v = 0
  for (const [name, bit] of Object.entries(bits)) if (f[name] === true) v |= bit
  if (f.D === true) v |= d
  return v
}

function padding (out: Uint8Array, at: number, count: number): void {
  // RFC 6275 §6.2.2 Pad1 / §6.2.3 PadN (zero-filled; Uint8Array starts zeroed).
  if (count === 1) out[at] = OPTION_TYPE.PAD1
  else if (count >= 2) { out[at] = OPTION_TYPE.PADN; out[at + 1] = count - 2 }
}

/** Octets of padding needed so an option starting after them sits at xn+y. */
function padBefore (offset: number, align: PreparedOption['align']): number {
  if (align === undefined) return 0
  return (((align.y - offset) % align.x) + align.x) % align.x
}

/** Encodes a PBU/PBA; with `pseudo` the checksum is filled in, otherwise it is left 0. */
export function encodeMobilityMessage (msg: MobilityMessage, pseudo?: PseudoHeader): Uint8Array {
  if (msg === null || typeof msg !== 'object') throw bad('message must be an object')
  if (!Array.isArray(msg.options)) throw bad('options must be an array')
  const prepared = msg.options.map(prepareOption)
  // Lay the options out first so the buffer is allocated once.
  let offset = FIXED_LENGTH
  const starts: number[] = []
  for (const p of prepared) {
    offset += padBefore(offset, p.align)
    starts.push(offset)
    offset += 2 + p.dataLength
  }
  const length = Math.ceil(offset / 8) * 8
  if (length > MAX_MESSAGE_LENGTH) throw new WireError('BAD_LENGTH', offset, `message would be ${length} octets, the Header Len field allows ${MAX_MESSAGE_LENGTH}`)
  const out = new Uint8Array(length)
  out[0] = MH_PAYLOAD_PROTO
  out[1] = length / 8 - 1
  if (msg.kind === 'binding-update') {
    out[2] = MH_TYPE.BINDING_UPDATE
    const seq = u16Field(msg.sequence, 'sequence')
    const flags = flagBits(msg.flags, BU_FLAG_BITS, BU_D, 'binding update')
    const lifetime = lifetimeUnits(msg.lifetime)
    out[6] = seq >>> 8; out[7] = seq & 0xff
    out[8] = flags >>> 8; out[9] = flags & 0xff
    out[10] = lifetime >>> 8; out[11] = lifetime & 0xff
  } else if (msg.kind === 'binding-ack') {
    out[2] = MH_TYPE.BINDING_ACK
    const status = u16Field(msg.status, 'status')
    if (status > 0xff) throw bad(`status must be 0..255, got ${status}`)
    const seq = u16Field(msg.sequence, 'sequence')
    const lifetime = lifetimeUnits(msg.lifetime)
    out[6] = status
    out[7] = flagBits(msg.flags, BA_FLAG_BITS, BA_D, 'binding ack')
    out[8] = seq >>> 8; out[9] = seq & 0xff
    out[10] = lifetime >>> 8; out[11] = lifetime & 0xff
  } else {
    throw bad(`unknown message kind ${JSON.stringify((msg as { kind: unknown }).kind)}`)
  }
  let at = FIXED_LENGTH
  prepared.forEach((p, i) => {
    const start = starts[i]!
    padding(out, at, start - at)
    out[start] = p.optionType
    out[start + 1] = p.dataLength
    p.write(out, start + 2)
    at = start + 2 + p.dataLength
  })
  padding(out, at, length - at)
  if (pseudo !== undefined) {
    const sum = mobilityChecksum(pseudo, out)
    out[4] = sum >>> 8; out[5] = sum & 0xff
  }
  return out
}

function readOptions (bytes: Uint8Array, start: number, end: number, strictAlignment: boolean): MobilityOption[] {
  const options: MobilityOption[] = []
  let at = start
  while (at < end) {
    const optionType = bytes[at]!
    if (optionType === OPTION_TYPE.PAD1) { at++; continue }
    if (at + 2 > end) throw new WireError('OPTION_OVERRUN', at, `option type ${optionType} has no room for its Length octet`)
    const dataLength = bytes[at + 1]!
    if (at + 2 + dataLength > end) throw new WireError('OPTION_OVERRUN', at, `option type ${optionType} of length ${dataLength} runs ${at + 2 + dataLength - end} octets past the message end ${end}`)
    if (optionType !== OPTION_TYPE.PADN) {
      const align = optionAlignment(optionType)
      if (strictAlignment && align !== undefined && padBefore(at, align) !== 0) {
        throw new WireError('BAD_ALIGNMENT', at, `option type ${optionType} at offset ${at} breaks its alignment ${align.x}n+${align.y}`)
      }
      options.push(readOption(optionType, bytes.subarray(at + 2, at + 2 + dataLength), at + 2))
    }
    at += 2 + dataLength
  }
  return options
}

function decodeBuFlags (v: number): BindingUpdateFlags {
  const flags: BindingUpdateFlags = { A: false, H: false, L: false, K: false, M: false, R: false, P: false }
  for (const [name, bit] of Object.entries(BU_FLAG_BITS)) flags[name as keyof typeof BU_FLAG_BITS] = (v & bit) !== 0
  if ((v & BU_D) !== 0) flags.D = true
  return flags
}

function decodeBaFlags (v: number): BindingAckFlags {
  const flags: BindingAckFlags = { K: false, R: false, P: false }
  for (const [name, bit] of Object.entries(BA_FLAG_BITS)) flags[name as keyof typeof BA_FLAG_BITS] = (v & bit) !== 0
  if ((v & BA_D) !== 0) flags.D = true
  return flags
}

/** Decodes one Mobility Header (exactly the bytes of one message). Throws only WireError. */
export function decodeMobilityMessage (bytes: Uint8Array, opts: DecodeOptions = {}): MobilityMessage {
  if (!(bytes instanceof Uint8Array)) throw new WireError('BAD_VALUE', -1, 'input must be a Uint8Array')
  if (bytes.length < 1) throw new WireError('TRUNCATED', 0, 'empty input')
  if (bytes[0] !== MH_PAYLOAD_PROTO) throw new WireError('BAD_PROTO', 0, `Payload Proto ${bytes[0]!}, must be ${MH_PAYLOAD_PROTO} (RFC 6275 §6.1.1)`)
  if (bytes.length < 8) throw new WireError('TRUNCATED', bytes.length, `${bytes.length} octets, a Mobility Header has at least 8`)
  const declared = (bytes[1]! + 1) * 8
  if (bytes.length < declared) throw new WireError('TRUNCATED', bytes.length, `Header Len says ${declared} octets, only ${bytes.length} present`)
  if (bytes.length > declared) throw new WireError('BAD_LENGTH', declared, `${bytes.length - declared} octets after the ${declared} the Header Len gives`)
  const mhType = bytes[2]!
  if (mhType !== MH_TYPE.BINDING_UPDATE && mhType !== MH_TYPE.BINDING_ACK) throw new WireError('UNKNOWN_TYPE', 2, `MH type ${mhType} is not a Binding Update (5) or Acknowledgement (6)`)
  // RFC 6275 §9.2: a Header Len shorter than the message type needs is discarded.
  if (declared < FIXED_LENGTH) throw new WireError('BAD_LENGTH', 1, `Header Len gives ${declared} octets, a ${mhType === MH_TYPE.BINDING_UPDATE ? 'Binding Update' : 'Binding Acknowledgement'} needs ${FIXED_LENGTH}`)
  if (opts.pseudo !== undefined && !checksumValid(opts.pseudo, bytes)) {
    throw new WireError('BAD_CHECKSUM', 4, `checksum 0x${(((bytes[4]! << 8) | bytes[5]!)).toString(16).padStart(4, '0')} does not verify for ${opts.pseudo.source} -> ${opts.pseudo.destination}`)
  }
  const lifetime = ((bytes[10]! << 8) | bytes[11]!) * 4
  const options = readOptions(bytes, FIXED_LENGTH, declared, opts.strictAlignment === true)
  if (mhType === MH_TYPE.BINDING_UPDATE) {
    return {
      kind: 'binding-update',
      sequence: (bytes[6]! << 8) | bytes[7]!,
      flags: decodeBuFlags((bytes[8]! << 8) | bytes[9]!),
      lifetime,
      options
    }
  }
  return {
    kind: 'binding-ack',
    status: bytes[6]!,
    sequence: (bytes[8]! << 8) | bytes[9]!,
    flags: decodeBaFlags(bytes[7]!),
    lifetime,
    options
  }
}
