/**
 * Peer locator: tells a MAAR how to reach another MAAR over libp2p (peer id + multiaddrs).
 *
 * Carried as a Vendor-Specific Mobility Option (RFC 5094 §3, type 19) so that a P-MAAR's PBA can
 * point the new serving MAAR at a MAAR it knows of (the MN's previous serving MAAR), which a plain
 * RFC 8885 Previous MAAR option (an address only) cannot do on a libp2p transport.
 * Vendor ID 32473 is the IANA enterprise number reserved for documentation (RFC 5612).
 */
import type { MobilityOption } from '@dmm-mesh/wire'

export const VENDOR_SPECIFIC_OPTION_TYPE = 19
export const DMM_MESH_VENDOR_ID = 32473
export const SUBTYPE_PEER_LOCATOR = 1

const MAX_LOCATOR_BYTES = 240 // the option's 8-bit length bounds the payload

export interface PeerLocator { peerId: string, address: string, multiaddrs: string[] }

export function encodePeerLocator (locator: PeerLocator): MobilityOption {
  // Keep the multiaddrs that fit: the first one is enough to dial.
  let multiaddrs = [...locator.multiaddrs]
  let body = new TextEncoder().encode(JSON.stringify({ p: locator.peerId, a: locator.address, m: multiaddrs }))
  while (body.length > MAX_LOCATOR_BYTES && multiaddrs.length > 0) {
    multiaddrs = multiaddrs.slice(0, -1)
    body = new TextEncoder().encode(JSON.stringify({ p: locator.peerId, a: locator.address, m: multiaddrs }))
  }
  const data = new Uint8Array(5 + body.length)
  new DataView(data.buffer).setUint32(0, DMM_MESH_VENDOR_ID)
  data[4] = SUBTYPE_PEER_LOCATOR
  data.set(body, 5)
  return { type: 'unknown', optionType: VENDOR_SPECIFIC_OPTION_TYPE, data }
}

/** Returns the locator, or undefined when the option is not ours or is malformed (never throws). */
export function decodePeerLocator (option: MobilityOption): PeerLocator | undefined {
  if (option.type !== 'unknown' || option.optionType !== VENDOR_SPECIFIC_OPTION_TYPE) return undefined
  const data = option.data
  if (data.length < 6) return undefined
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (view.getUint32(0) !== DMM_MESH_VENDOR_ID || data[4] !== SUBTYPE_PEER_LOCATOR) return undefined
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(5)))
    if (typeof parsed !== 'object' || parsed === null) return undefined
    const { p, a, m } = parsed as Record<string, unknown>
    if (typeof p !== 'string' || typeof a !== 'string' || !Array.isArray(m) || !m.every(x => typeof x === 'string')) return undefined
    return { peerId: p, address: a, multiaddrs: m as string[] }
  } catch {
    return undefined
  }
}
