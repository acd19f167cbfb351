/**
 * A classic pcap file of IPv6 packets carrying Mobility Headers, for Wireshark/tshark.
 * Link type LINKTYPE_IPV6 (229): each record is a bare IPv6 packet.
 */
import { WireError } from './errors.js'
import { pseudoAddresses, IPPROTO_MH } from './checksum.js'
import { encodeMobilityMessage } from './message.js'
import type { MobilityMessage } from './types.js'

export const LINKTYPE_IPV6 = 229

export interface PcapFrame {
  /** A message (encoded here with the frame's addresses, so the checksum verifies) or raw MH bytes (written unchanged). */
  message: MobilityMessage | Uint8Array
  source: string
  destination: string
  /** Capture time; defaults to the time of the call. */
  timeMs?: number
}

/** The pcap global header, little-endian: magic, version 2.4, thiszone, sigfigs, snaplen, network. */
export function pcapFileHeader (): Uint8Array {
  const out = new Uint8Array(24)
  const view = new DataView(out.buffer)
  view.setUint32(0, 0xa1b2c3d4, true)
  view.setUint16(4, 2, true)
  view.setUint16(6, 4, true)
  view.setUint32(16, 65535, true)
  view.setUint32(20, LINKTYPE_IPV6, true)
  return out
}

/**
 * One pcap record: the frame as an IPv6 packet (RFC 8200 §3) with the Mobility Header as its
 * payload, after its record header. Appending records to a file that starts with
 * pcapFileHeader() gives a capture tshark reads while it is still being written.
 */
export function pcapRecord (f: PcapFrame, defaultTimeMs = Date.now()): Uint8Array {
  const { source, destination } = pseudoAddresses(f)
  const mh = f.message instanceof Uint8Array ? f.message : encodeMobilityMessage(f.message, { source: f.source, destination: f.destination })
  if (mh.length > 0xffff) throw new WireError('BAD_LENGTH', -1, `payload of ${mh.length} octets does not fit an IPv6 packet`)
  const length = 40 + mh.length
  const out = new Uint8Array(16 + length)
  const view = new DataView(out.buffer)
  const timeMs = f.timeMs ?? defaultTimeMs
  const seconds = Math.floor(timeMs / 1000)
  view.setUint32(0, seconds, true)
  view.setUint32(4, Math.round((timeMs - seconds * 1000) * 1000), true)
  view.setUint32(8, length, true)
  view.setUint32(12, length, true)
  // Version 6, traffic class 0, flow label 0, payload length, next header, hop limit.
  view.setUint32(16, 0x60000000)
  view.setUint16(20, mh.length)
  out[22] = IPPROTO_MH
  out[23] = 64
  out.set(source, 24)
  out.set(destination, 40)
  out.set(mh, 56)
  return out
}

export function writePcap (frames: PcapFrame[]): Uint8Array {
  const now = Date.now()
  const parts = [pcapFileHeader(), ...frames.map(f => pcapRecord(f, now))]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
