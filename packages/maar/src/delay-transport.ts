/**
 * A transport decorator that gives PBU/PBA the one-way delay of a backbone (doc/ARCHITECTURE.md
 * "Scenarios"): on one machine every peer is a loopback hop away, so a central node such as the
 * CMD would look free. The requester waits the pair's one-way delay before its PBU leaves and
 * again once the PBA is in (a round trip costs twice the delay); an unsolicited PBA waits it once.
 * The responder's side is not delayed: its PBA's delay is the requester's second wait.
 */
import { delayedRoundTrip, wait } from '@dmm-mesh/discovery'
import { decorateTransport } from './transport.js'
import type { SignallingTransport } from './transport.js'

/** One-way delay in ms from this peer to the peer with this peer id (0 for a peer it cannot place). */
export type OneWayDelay = (peerId: string) => number

export function delayingTransport (inner: SignallingTransport, delayTo: OneWayDelay): SignallingTransport {
  return decorateTransport(inner, {
    exchange: async (peer, pbu, opts) => await delayedRoundTrip(delayTo(peer.peerId), async () => await inner.exchange(peer, pbu, opts), opts?.signal),
    notify: async (peer, pba) => {
      await wait(delayTo(peer.peerId))
      return await inner.notify(peer, pba)
    }
  })
}
