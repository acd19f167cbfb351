/**
 * What carries PBU/PBA between this MAAR and its peers. Today one implementation, PmipTransport
 * (a libp2p stream per peer, pmip-transport.ts); a raw-IPv6 Mobility Header socket or a shaped
 * transport for scenarios would implement the same interface.
 */
import type { BindingAck, BindingUpdate, MaarRef } from '@dmm-mesh/wire'
import type { KnownMaar } from './peer-table.js'

/** Answers one PBU from an authenticated domain MAAR. */
export type PbuHandler = (pbu: BindingUpdate, from: KnownMaar) => Promise<BindingAck>

export interface SignallingTransport {
  /** Starts accepting PBUs; each is answered with the handler's PBA. */
  start: (handler: PbuHandler) => Promise<void>
  stop: () => Promise<void>
  /** Sends a PBU to `peer` and waits for its PBA; `from` is the authenticated responder. */
  exchange: (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>, pbu: BindingUpdate, opts?: { signal?: AbortSignal }) => Promise<{ ack: BindingAck, from: KnownMaar }>
  /** A domain MAAR met on this transport (its certificate proves the anchors of records). */
  knownPeer: (peerId: string) => KnownMaar | undefined
}
