/**
 * What carries PBU/PBA between this MAAR and its peers. Today one implementation, PmipTransport
 * (a libp2p stream per peer, pmip-transport.ts); a raw-IPv6 Mobility Header socket or a shaped
 * transport for scenarios would implement the same interface.
 */
import type { BindingAck, BindingUpdate, MaarRef } from '@dmm-mesh/wire'
import type { KnownMaar } from './peer-table.js'

/** Answers one PBU from an authenticated domain peer (a MAAR or a CMD). */
export type PbuHandler = (pbu: BindingUpdate, from: KnownMaar) => Promise<BindingAck>
/**
 * Takes an unsolicited PBA: a CMD's second PBA after its relay timeout, or a P-MAAR answering the
 * serving MAAR directly in locator mode (draft-bernardos-dmm-pmip §3.2–3.3). Nothing is answered.
 */
export type PbaHandler = (pba: BindingAck, from: KnownMaar) => Promise<void>

export interface SignallingTransport {
  /** Starts accepting PBUs, each answered with the handler's PBA, and unsolicited PBAs (default: dropped). */
  start: (handler: PbuHandler, onPba?: PbaHandler) => Promise<void>
  stop: () => Promise<void>
  /** Sends a PBU to `peer` and waits for its PBA; `from` is the authenticated responder. */
  exchange: (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>, pbu: BindingUpdate, opts?: { signal?: AbortSignal }) => Promise<{ ack: BindingAck, from: KnownMaar }>
  /** Sends `pba` to `peer` unsolicited: no answer is awaited. */
  notify: (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>, pba: BindingAck) => Promise<KnownMaar>
  /** The authenticated peer behind `peer` (its certificate, from the hellos), meeting it if not met yet. */
  meet: (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>) => Promise<KnownMaar>
  /** A domain MAAR met on this transport (its certificate proves the anchors of records). */
  knownPeer: (peerId: string) => KnownMaar | undefined
  /**
   * Opens the way to `peer` now, in the background, so that an exchange soon after finds it open
   * (serving-side.ts: while the intent is committed). A failure here is the exchange's to report.
   */
  connect: (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>) => void
}

/** `inner` with some of its operations replaced, the others passed through (decorators: delay, faults in tests). */
export function decorateTransport (inner: SignallingTransport, replaced: Partial<SignallingTransport>): SignallingTransport {
  return {
    start: replaced.start ?? (async (handler, onPba) => { await inner.start(handler, onPba) }),
    stop: replaced.stop ?? (async () => { await inner.stop() }),
    exchange: replaced.exchange ?? (async (peer, pbu, opts) => await inner.exchange(peer, pbu, opts)),
    notify: replaced.notify ?? (async (peer, pba) => await inner.notify(peer, pba)),
    meet: replaced.meet ?? (async peer => await inner.meet(peer)),
    knownPeer: replaced.knownPeer ?? (peerId => inner.knownPeer(peerId)),
    connect: replaced.connect ?? (peer => { inner.connect(peer) })
  }
}
