/**
 * Reads back a capture written by PcapFileCapture (packages/maar/src/capture.ts, the pcap format of
 * packages/wire/src/pcap.ts: LINKTYPE_IPV6, each record an IPv6 header and a Mobility Header), so
 * tests can say who sent which PBU/PBA to whom without tshark. Each Mobility Header checksum is
 * verified over the record's addresses (RFC 6275 §6.1.1), which tshark 4.0 does not do. And the
 * same file as tshark reads it, field by field.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { decodeMobilityMessage, formatIpv6 } from '@dmm-mesh/wire'
import type { MobilityMessage } from '@dmm-mesh/wire'

export interface CapturedFrame { source: string, destination: string, mh: Uint8Array, message: MobilityMessage }

/** Every record of the pcap file, in file order (24-octet global header, then 16-octet record headers). */
export function readCapture (file: string): CapturedFrame[] {
  const bytes = readFileSync(file)
  const frames: CapturedFrame[] = []
  for (let at = 24; at + 16 <= bytes.length;) {
    const length = bytes.readUInt32LE(at + 8)
    if (at + 16 + length > bytes.length) break // a record still being written
    const packet = bytes.subarray(at + 16, at + 16 + length)
    const [source, destination, mh] = [formatIpv6(packet.subarray(8, 24)), formatIpv6(packet.subarray(24, 40)), packet.subarray(40)]
    // The checksum must verify over the addresses of the record (throws BAD_CHECKSUM otherwise).
    frames.push({ source, destination, mh, message: decodeMobilityMessage(mh, { pseudo: { source, destination } }) })
    at += 16 + length
  }
  return frames
}

/** "PBU src > dst" / "PBA src > dst" for each frame. */
export function flowOf (frames: CapturedFrame[]): string[] {
  return frames.map(f => `${f.message.kind === 'binding-update' ? 'PBU' : 'PBA'} ${f.source} > ${f.destination}`)
}

export { tsharkFields, tsharkMissing, wiresharkTime } from '@dmm-mesh/wire/test/tshark-run'
