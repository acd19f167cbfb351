/**
 * Where a scenario's one-way delays are injected (doc/ARCHITECTURE.md "Scenarios"): PBU/PBA by
 * the maar transport decorator (delay-transport.ts), record GETs and PUTs by the discovery's
 * request hook (request-shaper.ts). Both need the node behind a peer id, which is known only once
 * the node has started: `PeerNames` is filled as nodes start, and read on each message.
 */
import { delayedRoundTrip } from '@dmm-mesh/discovery'
import type { RecordRequest, RequestShaper } from '@dmm-mesh/discovery'
import { delayingTransport } from '@dmm-mesh/maar'
import type { SignallingTransport } from '@dmm-mesh/maar'

/** Node name (maar3, cmd) by libp2p peer id. */
export class PeerNames {
  private readonly names = new Map<string, string>()

  set (peerId: string, name: string): void { this.names.set(peerId, name) }

  get (peerId: string): string | undefined { return this.names.get(peerId) }
}

/** One-way delay in ms between two named nodes. */
export type PairDelay = (a: string, b: string) => number

/** What node `self` is given to delay its signalling and record requests, and to count the latter. */
export interface NodeShaping {
  shapeTransport: (t: SignallingTransport) => SignallingTransport
  shaper: RequestShaper
}

/** `onRequest` sees every record request `self` sends (its answer included), after it ended. */
export function shapingFor (self: string, peers: PeerNames, delay: PairDelay, onRequest?: (r: RecordRequest, to: string) => void): NodeShaping {
  const to = (peerId: string): number => {
    const name = peers.get(peerId)
    return name === undefined ? 0 : delay(self, name)
  }
  return {
    shapeTransport: t => delayingTransport(t, to),
    shaper: async (request, send) => {
      try {
        return await delayedRoundTrip(to(request.peer), send)
      } finally {
        onRequest?.(request, peers.get(request.peer) ?? request.peer)
      }
    }
  }
}
