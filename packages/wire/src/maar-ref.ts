/**
 * A reference to a MAAR as every layer passes it around: its libp2p peer id, its global IPv6
 * tunnel address (the end of every tunnel to it, the address RFC 8885 §4.5/§4.6 options carry)
 * and the multiaddrs to dial it. Binding cache entries, session records, PBA referrals and the
 * MAAR's peer table all use this one shape.
 */
export interface MaarRef {
  peerId: string
  address: string
  multiaddrs: string[]
}

/** A copy holding only the MaarRef fields (drops anything a wider object carries). */
export function maarRef (r: MaarRef): MaarRef {
  return { peerId: r.peerId, address: r.address, multiaddrs: [...r.multiaddrs] }
}
