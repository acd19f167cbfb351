/**
 * MAARs of the domain this MAAR has met, each proven by its certificate: a MaarRef plus the
 * certificate bytes (needed to prove anchors in the session records it publishes, see
 * discovery's records.ts).
 */
import type { MaarCertificate } from '@dmm-mesh/discovery'
import type { MaarRef } from '@dmm-mesh/wire'

export interface KnownMaar extends MaarRef {
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
