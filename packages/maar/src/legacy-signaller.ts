/**
 * Signalling of legacy PMIPv6 (draft-bernardos-dmm-pmip Appendix A.5; RFC 5213 §6.9.1.1): a MAG
 * sends its PBU to the one LMA of the domain, with no session lookup, and gets the MN's home
 * network prefix back — delegated now (first registration) or the one the LMA anchors (handover).
 * The LMA's PBA names the MAG that served the MN before (RFC 8885 §4.5 referral, as in the
 * distributed mode); that MAG is told with a PBU, so that it drops its uplink (legacy-lma.ts).
 * At the LMA itself an attach is native, and only that previous MAG is told.
 */
import { BINDING_ACK_STATUS, maarRef, statusName } from '@dmm-mesh/wire'
import type { BindingAck } from '@dmm-mesh/wire'
import type { CmdPeer } from './cmd-signaller.js'
import { DirectSignaller, updateFor } from './direct-signaller.js'
import type { PeerOutcome } from './handover-report.js'
import type { Logger } from './logger.js'
import type { Retransmitter } from './pbu-retransmission.js'
import type { PbuSender } from './pbu-sender.js'
import type { KnownMaar } from './peer-table.js'
import { PMaarList } from './pmaar-list.js'
import { RetransmitsDirectly } from './over-direct.js'
import type { AnchorSignaller, Deregistration, Registration, RegistrationOutcome } from './signaller.js'

/** The LMA did not answer or refused: the MN has no prefix to be given (the attach is deferred). */
export class LmaUnavailableError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'LmaUnavailableError'
  }
}

export interface LegacySignallerParts {
  sender: PbuSender
  retransmitter: Retransmitter
  log: Logger
}

export class LegacySignaller extends RetransmitsDirectly implements AnchorSignaller {
  /** The LMA knows the MN's session; nobody else is asked first (RFC 5213). */
  readonly needsSessionRecord = false

  /** `lma`: the LMA to register with; undefined on the LMA itself. */
  constructor (private readonly lma: CmdPeer | undefined, private readonly parts: LegacySignallerParts) {
    super(new DirectSignaller(parts.sender, parts.retransmitter, parts.log))
  }

  async register (r: Registration): Promise<RegistrationOutcome> {
    // On the LMA: the MN is back home; the MAG that served it is told.
    if (this.lma === undefined) return await this.direct.register(r)
    const ref = { ...this.lma, address: '' }
    const result = await this.parts.sender.send(ref, updateFor(r, { ref, prefixes: [] }))
    const { ack, from } = result
    if (ack === undefined || from === undefined) throw new LmaUnavailableError(`LMA ${this.lma.peerId} did not answer: ${result.outcome.error ?? 'no PBA'}`)
    if (ack.status !== BINDING_ACK_STATUS.ACCEPTED) throw new LmaUnavailableError(`LMA ${this.lma.peerId} refused the registration of ${r.mnId}: ${statusName(ack.status)}`)
    // MAGs that may still serve the MN: the one the LMA names, any this MAG knew.
    const others = new PMaarList(this.lma.peerId)
    for (const p of r.previous.entries()) others.add(p.ref)
    others.merge(ack.referrals)
    const told = await this.direct.register({ ...r, previous: others })
    return {
      anchors: ack.anchoredPrefixes.map(prefix => ({ prefix, ...maarRef(from) })),
      peers: [result.outcome, ...told.peers],
      referralsFollowed: told.peers.length,
      pending: told.pending,
      // The LMA says which session it held before; none when it delegated the prefix just now.
      knownBefore: ack.sessionSequence !== undefined,
      ...(ack.sessionSequence !== undefined ? { sessionSequence: ack.sessionSequence } : {})
    }
  }

  /** Every PBA answers a PBU of this MAAR: an unsolicited one is not expected. */
  async acknowledged (pba: BindingAck, from: KnownMaar): Promise<void> {
    await this.direct.acknowledged(pba, from)
  }

  /** RFC 5213 §6.9.1.1 de-registration: a lifetime-0 PBU to the LMA, which frees the prefix. */
  async deregister (d: Deregistration): Promise<PeerOutcome[]> {
    return await this.direct.deregister(d)
  }
}
