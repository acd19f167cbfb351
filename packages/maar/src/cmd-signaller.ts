/**
 * Signalling through a Central Mobility Database (draft-bernardos-dmm-pmip §3, RFC 8885 §3,
 * partially distributed mode): the serving MAAR sends one PBU to the CMD and needs no session
 * lookup; the CMD knows the P-MAARs and reaches them in its mode — relay (§3.2), locator (§3.3) or
 * proxy (§3.4). Seen from here the three differ only in what comes back and when, so one strategy
 * serves them all:
 * - the CMD's PBA carries a Previous MAAR option per P-MAAR (with its locator), followed by the
 *   Anchored Prefix options that P-MAAR anchors for the MN, marked pending (a dmm-mesh vendor
 *   option) while it has not acknowledged;
 * - unsolicited PBAs follow: the CMD's second PBA after its relay timeout, or each P-MAAR's own
 *   PBA in locator mode. They reach the serving side's late-answer path.
 * A pending P-MAAR is retransmitted to directly (RFC 5213 §6.9.4) until one of those arrives. A
 * P-MAAR that refused the relayed PBU is named with its status and reason (vendor sub-type 6),
 * reported and left out of the session as if it had refused this MAAR's own PBU.
 * De-registration (draft §3.5), by the CMD's and this strategy's `deregistration`:
 * - 'serving' (variant a): the serving MAAR sends lifetime-0 PBUs to its anchors, and one to the
 *   CMD, which then forgets the session; anchors keep no timer;
 * - 'anchors' (variant b): the serving MAAR de-registers at the CMD only; each P-MAAR keeps the
 *   registration's lifetime and sends its own de-registration to the CMD when it runs out
 *   (renewAnchor, anchor-expiry.ts), renewed while the MN is in the domain.
 */
import { BINDING_ACK_STATUS, maarRef, statusName } from '@dmm-mesh/wire'
import type { BindingAck, MaarRef } from '@dmm-mesh/wire'
import type { RemoteAnchor } from '@dmm-mesh/binding-cache'
import { DirectSignaller, updateFor } from './direct-signaller.js'
import { DirectAnswers } from './direct-answers.js'
import type { DirectAnswer } from './direct-answers.js'
import { peerOutcome } from './handover-report.js'
import type { PeerOutcome } from './handover-report.js'
import type { Logger } from './logger.js'
import { readPba } from './messages.js'
import type { PreviousMaar, ProxyAck } from './messages.js'
import type { LateAnswer, Retransmitter } from './pbu-retransmission.js'
import type { PbuSender } from './pbu-sender.js'
import type { KnownMaar } from './peer-table.js'
import type { PMaar } from './pmaar-list.js'
import { RetransmitsDirectly } from './over-direct.js'
import type { AnchorRenewal, AnchorSignaller, Deregistration, Registration, RegistrationOutcome } from './signaller.js'

/** The CMD could not be asked, or would not answer for the MN: the P-MAARs are unknown. */
export class CmdUnavailableError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CmdUnavailableError'
  }
}

export interface CmdSignallerParts {
  sender: PbuSender
  retransmitter: Retransmitter
  lateAnswer: (a: LateAnswer) => Promise<void>
  log: Logger
}

/** The CMD to signal: its peer id and where to dial it. */
export type CmdPeer = Pick<MaarRef, 'peerId' | 'multiaddrs'>

/**
 * Locator mode (draft §3.3): how long the attach waits for the pending P-MAARs' own PBAs after the
 * CMD's, the relay CMD's default bound on its wait for them (§3.2). Those still silent stay
 * pending and are retransmitted to, as before.
 */
export const DIRECT_ANSWER_WAIT_MS = 1000

/** Who de-registers (draft-bernardos-dmm-pmip §3.5): the serving MAAR only (a), or the P-MAARs at the CMD (b). */
export type DeregistrationVariant = 'serving' | 'anchors'

export class CmdSignaller extends RetransmitsDirectly implements AnchorSignaller {
  readonly needsSessionRecord = false
  /** The last registration sent per MN, to match unsolicited PBAs (they echo its sequence). */
  private readonly sent = new Map<string, Registration>()
  /** The P-MAARs' own PBAs to a registration still in register() (locator mode), by MN. */
  private readonly gathering = new Map<string, DirectAnswers>()

  readonly renewAnchor?: (r: AnchorRenewal) => Promise<number | undefined>

  constructor (private readonly cmd: CmdPeer, private readonly parts: CmdSignallerParts, private readonly deregistration: DeregistrationVariant = 'serving') {
    super(new DirectSignaller(parts.sender, parts.retransmitter, parts.log))
    if (deregistration === 'anchors') this.renewAnchor = async r => await this.askCmdToRenew(r)
  }

  async register (r: Registration, opts: { signal?: AbortSignal } = {}): Promise<RegistrationOutcome> {
    // No Anchored Prefix: the CMD knows which P-MAAR anchors what (draft §3.2).
    const update = updateFor(r, { ref: { ...this.cmd, address: '' }, prefixes: [] })
    // Known before the PBU leaves: in locator mode (draft §3.3) a P-MAAR's own PBA may come in
    // before the CMD's, and must still be matched to this registration.
    const before = this.sent.get(r.mnId)
    this.sent.set(r.mnId, r)
    const gathered = new DirectAnswers(r.sequence & 0xffff)
    this.gathering.set(r.mnId, gathered)
    try {
      const ack = await this.askCmd(r, update, opts).catch(err => {
        if (before === undefined) this.sent.delete(r.mnId)
        else this.sent.set(r.mnId, before)
        throw err
      })
      const outcome = this.outcomeOf(ack)
      // Locator mode: the pending P-MAARs answer here, a round trip after the CMD's PBA.
      const waitFor = ack.answerServingMaar === true ? outcome.pending.map(p => p.ref.peerId) : []
      return withDirectAnswers(outcome, await gathered.until(waitFor, waitFor.length > 0 ? DIRECT_ANSWER_WAIT_MS : 0))
    } finally {
      if (this.gathering.get(r.mnId) === gathered) this.gathering.delete(r.mnId)
    }
  }

  /** The CMD's PBA as an outcome: its accepted, refused and pending P-MAARs. */
  private outcomeOf (ack: ProxyAck): RegistrationOutcome {
    const anchors: RemoteAnchor[] = []
    const pending: PMaar[] = []
    const peers: PeerOutcome[] = []
    for (const p of ack.referrals) {
      if (p.refusal !== undefined) {
        peers.push(peerOutcome(p, p.refusal.status, [], p.refusal.reason))
        continue
      }
      if (p.pending === true) pending.push({ ref: maarRef(p), prefixes: p.prefixes })
      else for (const prefix of p.prefixes) if (!anchors.some(a => a.prefix === prefix)) anchors.push({ prefix, ...maarRef(p) })
      peers.push({ peerId: p.peerId, address: p.address, status: p.pending === true ? 'PENDING' : 'ACCEPTED', prefixes: p.prefixes })
    }
    return {
      anchors,
      peers,
      referralsFollowed: 0,
      pending,
      // The CMD named P-MAARs, even if every one refused: the domain knew a session (a handover).
      knownBefore: ack.referrals.length > 0,
      ...(ack.sessionSequence !== undefined ? { sessionSequence: ack.sessionSequence } : {})
    }
  }

  /** The CMD's PBA to the registration: accepted, from a peer certified as CMD, or CmdUnavailableError. */
  private async askCmd (r: Registration, update: ReturnType<typeof updateFor>, opts: { signal?: AbortSignal }): Promise<ProxyAck> {
    const result = await this.parts.sender.send({ ...this.cmd, address: '' }, update, opts)
    const { ack, from } = result
    if (ack === undefined || from === undefined) throw new CmdUnavailableError(`CMD ${this.cmd.peerId} did not answer: ${result.outcome.error ?? 'no PBA'}`)
    // Only a peer certified as CMD may tell this MAAR where the MN's prefixes are anchored.
    if (from.cert?.role !== 'cmd') throw new CmdUnavailableError(`peer ${from.peerId} answered as CMD but is certified as ${from.cert?.role ?? 'nothing'}`)
    if (ack.status !== BINDING_ACK_STATUS.ACCEPTED) throw new CmdUnavailableError(`CMD refused the registration of ${r.mnId}: ${statusName(ack.status)}`)
    return ack
  }

  /**
   * An unsolicited PBA: from the CMD, what P-MAARs accepted after its relay timeout (one late
   * answer each); from a P-MAAR, its own answer (locator mode). Either ends that P-MAAR's
   * retransmission.
   */
  async acknowledged (pba: BindingAck, from: KnownMaar): Promise<void> {
    const ack = readPba(pba)
    const r = this.sent.get(ack.mnId)
    if (r === undefined || (r.sequence & 0xffff) !== ack.sequence) {
      this.parts.log.info('unsolicited PBA for no current registration', { mn: ack.mnId, peer: from.peerId })
      return
    }
    const gathered = this.gathering.get(ack.mnId)
    if (from.cert.role !== 'cmd' && gathered?.sequence === ack.sequence) {
      // The attach is still on: its outcome takes this answer (locator mode, DirectAnswers).
      gathered.add({ peer: maarRef(from), ack })
      return
    }
    const answers: Array<{ peer: MaarRef, ack: ProxyAck }> = from.cert.role === 'cmd'
      ? ack.referrals.filter(p => p.pending !== true).map(p => ({ peer: maarRef(p), ack: answerOf(ack, p) }))
      : [{ peer: maarRef(from), ack }]
    for (const a of answers) {
      const accepted = a.ack.status === BINDING_ACK_STATUS.ACCEPTED
      await this.parts.lateAnswer({
        mnId: r.mnId,
        sequence: r.sequence,
        peer: a.peer,
        kind: accepted ? 'accepted' : 'refused',
        result: { outcome: peerOutcome(a.peer, a.ack.status, a.ack.anchoredPrefixes, a.ack.reason), ack: a.ack, from: a.peer }
      })
      this.parts.retransmitter.cancelPeer(r.mnId, a.peer.peerId)
    }
  }

  /** Draft §3.5: the CMD ends the session; in variant (a) the anchors are de-registered too. */
  async deregister (d: Deregistration): Promise<PeerOutcome[]> {
    this.sent.delete(d.mnId)
    const [outcomes, cmd] = await Promise.all([
      this.deregistration === 'serving' ? this.direct.deregister(d) : Promise.resolve([]),
      this.parts.sender.send({ ...this.cmd, address: '' }, { mnId: d.mnId, sequence: d.sequence, lifetime: 0, timestampMs: d.timestampMs, anchoredPrefixes: [] })
    ])
    if (cmd.ack?.status !== BINDING_ACK_STATUS.ACCEPTED) this.parts.log.warn('CMD did not end the session', { mn: d.mnId, status: cmd.outcome.status })
    return outcomes
  }

  /** Draft §3.5 (b): this P-MAAR's lifetime-0 PBU to the CMD; the lifetime its PBA grants. */
  private async askCmdToRenew (r: AnchorRenewal): Promise<number | undefined> {
    const { ack, from, outcome } = await this.parts.sender.send({ ...this.cmd, address: '' }, { mnId: r.mnId, sequence: r.sequence, lifetime: 0, timestampMs: r.timestampMs, anchoredPrefixes: r.prefixes })
    if (ack === undefined || from?.cert?.role !== 'cmd' || ack.status !== BINDING_ACK_STATUS.ACCEPTED) {
      this.parts.log.warn('CMD did not answer an anchored de-registration', { mn: r.mnId, status: outcome.status, error: outcome.error })
      return undefined
    }
    return ack.lifetime
  }
}

/** The outcome with the P-MAARs' own PBAs in: each answers for itself, no longer pending. */
function withDirectAnswers (outcome: RegistrationOutcome, answers: DirectAnswer[]): RegistrationOutcome {
  if (answers.length === 0) return outcome
  const answered = new Set(answers.map(a => a.peer.peerId))
  const anchors = [...outcome.anchors]
  for (const { peer, ack } of answers) {
    if (ack.status !== BINDING_ACK_STATUS.ACCEPTED) continue
    for (const prefix of ack.anchoredPrefixes) if (!anchors.some(a => a.prefix === prefix)) anchors.push({ prefix, ...maarRef(peer) })
  }
  const peers: PeerOutcome[] = [
    ...outcome.peers.filter(p => !answered.has(p.peerId)),
    ...answers.map(({ peer, ack }) => peerOutcome(peer, ack.status, ack.anchoredPrefixes, ack.reason))
  ]
  return { ...outcome, anchors, peers, pending: outcome.pending.filter(p => !answered.has(p.ref.peerId)) }
}

/** One P-MAAR's share of a CMD's PBA, as if that P-MAAR had answered (its refusal, if it refused). */
function answerOf (ack: ProxyAck, p: PreviousMaar): ProxyAck {
  const refused = p.refusal !== undefined ? { status: p.refusal.status, ...(p.refusal.reason !== undefined ? { reason: p.refusal.reason } : {}) } : { status: ack.status }
  return { sequence: ack.sequence, lifetime: ack.lifetime, mnId: ack.mnId, anchoredPrefixes: p.prefixes, referrals: [], ...refused }
}
