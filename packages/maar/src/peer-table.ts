/**
 * MAARs of the domain this MAAR has met, each proven by its certificate: peer id, tunnel address,
 * where to dial it, and the certificate bytes (needed to prove anchors in the session records it
 * publishes, see discovery's records.ts).
 */
import type { MaarCertificate } from '@dmm-mesh/discovery'

export interface KnownMaar {
  peerId: string
  address: string
  multiaddrs: string[]
  certificate: Uint8Array
  cert: MaarCertificate
}

export class PeerTable {
  private readonly byPeer = new Map<string, KnownMaar>()

  remember (maar: KnownMaar): void {
    this.byPeer.set(maar.peerId, maar)
  }

  get (peerId: string): KnownMaar | undefined {
    return this.byPeer.get(peerId)
  }
}
