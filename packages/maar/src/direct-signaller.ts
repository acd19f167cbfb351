/**
 * Signalling straight to every P-MAAR (RFC 8885 §3.1, fully distributed): a PBU to each in
 * parallel; the PBAs' referrals (RFC 8885 §4.5 Previous MAAR options with a locator) name MAARs
 * the session record did not know, and they are asked in the next round, until no answer names a
 * MAAR not yet asked (doc/ARCHITECTURE.md "When the record is stale").
 */
import { BINDING_ACK_STATUS } from '@dmm-mesh/wire'
import type { BindingAck } from '@dmm-mesh/wire'
import type { RemoteAnchor } from '@dmm-mesh/binding-cache'
import type { PeerOutcome } from './handover-report.js'
import type { ProxyUpdate } from './messages.js'
import type { PbuSender } from './pbu-sender.js'
import type { Retransmitter } from './pbu-retransmission.js'
import type { Logger } from './logger.js'
import type { KnownMaar } from './peer-table.js'
import type { PMaar } from './pmaar-list.js'
import type { AnchorSignaller, Deregistration, Registration, RegistrationOutcome } from './signaller.js'

/** The PBU of a registration for one P-MAAR. */
export function updateFor (r: Registration, p: PMaar): ProxyUpdate {
  return {
    mnId: r.mnId,
    sequence: r.sequence,
    lifetime: r.lifetime,
    timestampMs: r.timestampMs,
    anchoredPrefixes: p.prefixes,
    ...(r.localPrefix !== undefined ? { localPrefix: r.localPrefix } : {}),
    servingAddress: r.servingAddress,
    accessTechnology: r.accessTechnology
  }
}

export class DirectSignaller implements AnchorSignaller {
  readonly needsSessionRecord = true

  constructor (private readonly sender: PbuSender, private readonly retransmitter: Retransmitter, private readonly log?: Logger) {}

  /** Every PBA answers a PBU of this MAAR here: an unsolicited one is not expected. */
  async acknowledged (pba: BindingAck, from: KnownMaar): Promise<void> {
    this.log?.warn('dropped unsolicited PBA: no CMD in this mode', { peer: from.peerId, status: pba.status })
  }

  connect (previous: Registration['previous']): void {
    for (const p of previous.entries()) this.sender.connect(p.ref)
  }

  async register (r: Registration): Promise<RegistrationOutcome> {
    const contacted = new Set<string>()
    const anchors: RemoteAnchor[] = []
    const peers: PeerOutcome[] = []
    const pending: PMaar[] = []
    let referralsFollowed = 0
    let round = 0
    while (true) {
      const batch = r.previous.entries().filter(p => !contacted.has(p.ref.peerId))
      if (batch.length === 0) break
      if (round++ > 0) referralsFollowed += batch.length
      batch.forEach(p => contacted.add(p.ref.peerId))
      const results = await Promise.all(batch.map(async p => ({ p, ...await this.sender.send(p.ref, updateFor(r, p)) })))
      for (const { p, outcome, ack, from } of results) {
        peers.push(outcome)
        if (ack === undefined || from === undefined) {
          pending.push(p)
          continue
        }
        if (ack.status === BINDING_ACK_STATUS.ACCEPTED) {
          for (const prefix of ack.anchoredPrefixes) {
            if (!anchors.some(a => a.prefix === prefix)) anchors.push({ prefix, peerId: from.peerId, address: from.address, multiaddrs: from.multiaddrs })
          }
        }
        r.previous.merge(ack.referrals)
      }
    }
    return { anchors, peers, referralsFollowed, pending }
  }

  retransmit (r: Registration, until: (p: PMaar) => number, firstDelayMs?: number): void {
    for (const p of r.previous.entries()) this.retransmitter.start(p.ref, updateFor(r, p), until(p), firstDelayMs)
  }

  cancel (mnId: string): void {
    this.retransmitter.cancel(mnId)
  }

  stop (): void {
    this.retransmitter.stop()
  }

  async deregister (d: Deregistration): Promise<PeerOutcome[]> {
    return await Promise.all(d.anchors.entries().map(async p => {
      const update: ProxyUpdate = { mnId: d.mnId, sequence: d.sequence, lifetime: 0, timestampMs: d.timestampMs, anchoredPrefixes: p.prefixes }
      const result = await this.sender.send(p.ref, update)
      if (result.ack === undefined) this.retransmitter.start(p.ref, update, d.until, undefined, d.stillWanted)
      return result.outcome
    }))
  }
}
