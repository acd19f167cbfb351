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

export function writePcap (frames: PcapFrame[]): Uint8Array {
  const now = Date.now()
  const packets = frames.map(f => {
    const { source, destination } = pseudoAddresses(f)
    const mh = f.message instanceof Uint8Array ? f.message : encodeMobilityMessage(f.message, { source: f.source, destination: f.destination })
    if (mh.length > 0xffff) throw new WireError('BAD_LENGTH', -1, `payload of ${mh.length} octets does not fit an IPv6 packet`)
    // RFC 8200 §3: version 6, traffic class 0, flow label 0, payload length, next header, hop limit.
    const packet = new Uint8Array(40 + mh.length)
    const view = new DataView(packet.buffer)
    view.setUint32(0, 0x60000000)
    view.setUint16(4, mh.length)
    packet[6] = IPPROTO_MH
    packet[7] = 64
    packet.set(source, 8)
    packet.set(destination, 24)
    packet.set(mh, 40)
    return { packet, timeMs: f.timeMs ?? now }
  })
  const out = new Uint8Array(24 + packets.reduce((n, p) => n + 16 + p.packet.length, 0))
  const view = new DataView(out.buffer)
  // Global header, little-endian: magic, version 2.4, thiszone, sigfigs, snaplen, network.
  view.setUint32(0, 0xa1b2c3d4, true)
  view.setUint16(4, 2, true)
  view.setUint16(6, 4, true)
  view.setUint32(16, 65535, true)
  view.setUint32(20, LINKTYPE_IPV6, true)
  let at = 24
  for (const { packet, timeMs } of packets) {
    const seconds = Math.floor(timeMs / 1000)
    view.setUint32(at, seconds, true)
    view.setUint32(at + 4, Math.round((timeMs - seconds * 1000) * 1000), true)
    view.setUint32(at + 8, packet.length, true)
    view.setUint32(at + 12, packet.length, true)
    out.set(packet, at + 16)
    at += 16 + packet.length
  }
  return out
}
