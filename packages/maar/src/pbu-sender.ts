/**
 * PBU sending (RFC 5213 §6.9.1.1 as the MAG side, RFC 8885 §3.1 as a serving MAAR): one PBU to one
 * P-MAAR over the signalling transport, its PBA read back, and the outcome named for reports. An
 * unreachable peer is an outcome (status UNREACHABLE), never an exception.
 */
import { BINDING_ACK_STATUS, statusName } from '@dmm-mesh/wire'
import type { MaarRef } from '@dmm-mesh/wire'
import { peerOutcome } from './handover-report.js'
import type { PeerOutcome } from './handover-report.js'
import type { Logger } from './logger.js'
import { noMetrics, secondsSince } from './metrics.js'
import type { MaarMetrics } from './metrics.js'
import { buildPbu, readPba } from './messages.js'
import type { ProxyAck, ProxyUpdate } from './messages.js'
import type { KnownMaar } from './peer-table.js'
import type { SignallingTransport } from './transport.js'

export interface PbuResult {
  outcome: PeerOutcome
  /** The PBA, when one came back. */
  ack?: ProxyAck
  /** The responder, when a PBA came back: authenticated, or named for it by a CMD. */
  from?: MaarRef & Partial<Pick<KnownMaar, 'cert'>>
}

export class PbuSender {
  constructor (private readonly transport: SignallingTransport, private readonly log: Logger, private readonly metrics: MaarMetrics = noMetrics) {}

  /** Opens the stream to `peer` ahead of a send (SignallingTransport.connect). */
  connect (peer: MaarRef): void {
    this.transport.connect(peer)
  }

  async send (peer: MaarRef, update: ProxyUpdate, opts: { signal?: AbortSignal } = {}): Promise<PbuResult> {
    try {
      const t0 = performance.now()
      const { ack, from } = await this.transport.exchange(peer, buildPbu(update), opts)
      this.metrics.pbuExchange(secondsSince(t0))
      const parsed = readPba(ack)
      const status = statusName(ack.status)
      this.metrics.pba('received', status)
      if (ack.status !== BINDING_ACK_STATUS.ACCEPTED) this.log.warn('PBU not accepted', { mn: update.mnId, peer: peer.peerId, status, ...(parsed.reason !== undefined ? { reason: parsed.reason } : {}) })
      return { outcome: peerOutcome({ peerId: peer.peerId, address: from.address }, ack.status, parsed.anchoredPrefixes, parsed.reason), ack: parsed, from }
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err)
      this.log.warn('PBU exchange failed', { mn: update.mnId, peer: peer.peerId, error })
      return { outcome: { peerId: peer.peerId, address: peer.address, status: 'UNREACHABLE', prefixes: [], error } }
    }
  }
}
