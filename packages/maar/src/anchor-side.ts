/**
 * The anchor side of a MAAR (RFC 8885 §3.1 as P-MAAR, the LMA role of RFC 5213 §5.3): PBU handling.
 * A PBU comes in from an authenticated domain MAAR → the pure decision (anchor-decision.ts) →
 * commit to LevelDB → program the data plane → the PBA goes out.
 */
import { BINDING_ACK_STATUS, statusName } from '@dmm-mesh/wire'
import type { BindingAck, BindingUpdate, MaarRef } from '@dmm-mesh/wire'
import type { TrustStore } from '@dmm-mesh/discovery'
import { distributedAnchoring, timestampOutsideWindow } from './anchor-decision.js'
import type { AnchorPolicy } from './anchor-decision.js'
import type { Bindings } from './bindings.js'
import { roundMs } from './handover-report.js'
import type { Logger } from './logger.js'
import type { MaarMetrics } from './metrics.js'
import { buildPba, readPbuLogged } from './messages.js'
import type { ProxyUpdate } from './messages.js'
import type { KnownMaar } from './peer-table.js'
import type { Presence } from './presence.js'
import type { SignallingTransport } from './transport.js'

interface Answer { status: number, reason?: string, prefixes?: string[], referrals?: MaarRef[], sessionSequence?: number, lifetime?: number }

export class AnchorSide {
  constructor (
    private readonly bindings: Bindings,
    private readonly presence: Presence,
    private readonly trust: TrustStore,
    private readonly clock: () => number,
    private readonly log: Logger,
    private readonly metrics: MaarMetrics,
    private readonly timestampWindowMs?: number,
    /** Meets the serving MAAR a CMD relays for, and answers it directly in locator mode. */
    private readonly transport?: Pick<SignallingTransport, 'meet' | 'notify'>,
    /** What a PBU does to the binding: the distributed mode's, or the legacy LMA's (legacy-lma.ts). */
    private readonly policy: AnchorPolicy = distributedAnchoring,
    /** Keep a lifetime timer on anchored prefixes (draft-bernardos-dmm-pmip §3.5 variant b). */
    private readonly anchorTimer = false
  ) {}

  /** Answers one PBU (the SignallingTransport's handler). */
  async handlePbu (pbu: BindingUpdate, from: KnownMaar): Promise<BindingAck> {
    const pba = await this.answer(pbu, from)
    this.metrics.pba('sent', statusName(pba.status))
    return pba
  }

  private async answer (pbu: BindingUpdate, from: KnownMaar): Promise<BindingAck> {
    const read = readPbuLogged(pbu, from.peerId, this.log)
    if ('refusal' in read) return read.refusal
    const u = read.update
    const serving = await this.servingMaarOf(u, from)
    if ('refused' in serving) {
      this.log.warn('rejected PBU', { peer: from.peerId, mn: u.mnId, status: 'ADMINISTRATIVELY_PROHIBITED', reason: serving.refused })
      return buildPba({ status: BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, sequence: u.sequence, lifetime: 0, mnId: u.mnId, timestampMs: u.timestampMs, anchoredPrefixes: [], referrals: [], reason: serving.refused })
    }
    const pba = await this.bindings.withMn(u.mnId, async () => {
      const answer = await this.apply(u, serving.maar)
      if (answer.status !== BINDING_ACK_STATUS.ACCEPTED) {
        this.log.warn('rejected PBU', { peer: from.peerId, mn: u.mnId, status: statusName(answer.status), reason: answer.reason })
      }
      return buildPba({
        status: answer.status,
        sequence: u.sequence,
        lifetime: answer.status === BINDING_ACK_STATUS.ACCEPTED ? answer.lifetime ?? u.lifetime : 0,
        mnId: u.mnId,
        timestampMs: u.timestampMs,
        anchoredPrefixes: answer.prefixes ?? [],
        referrals: (answer.referrals ?? []).map(r => ({ ...r, prefixes: [] })),
        ...(answer.sessionSequence !== undefined ? { sessionSequence: answer.sessionSequence } : {}),
        // The serving MAAR's report says why (doc/ARCHITECTURE.md "Federation": every refusal names its agreement).
        ...(answer.status !== BINDING_ACK_STATUS.ACCEPTED && answer.reason !== undefined ? { reason: answer.reason } : {})
      })
    })
    // Locator mode (draft-bernardos-dmm-pmip §3.3): the serving MAAR hears from this P-MAAR
    // directly; the CMD gets the same PBA on its stream. Off the answer's path.
    if (u.answerServingMaar === true && serving.maar !== from && this.transport !== undefined) {
      this.transport.notify(serving.maar, pba).catch(err => {
        this.log.warn('direct PBA to the serving MAAR failed', { mn: u.mnId, peer: serving.maar.peerId, error: String(err) })
      })
    }
    return pba
  }

  /**
   * Who the PBU is for: its sender, a MAAR; or, when a CMD relays it (draft-bernardos-dmm-pmip
   * §3.2–3.4), the serving MAAR its locator names — met here over the transport so that its own
   * certificate proves its tunnel address and its Local Prefix, never the CMD's word. Only a peer
   * certified as CMD may relay; a CMD never serves an MN itself.
   */
  private async servingMaarOf (u: ProxyUpdate, from: KnownMaar): Promise<{ maar: KnownMaar } | { refused: string }> {
    if (from.cert.role === 'maar') return { maar: from }
    const loc = u.servingLocator
    if (loc === undefined) return { refused: `CMD ${from.peerId} relayed a PBU without the serving MAAR's locator` }
    if (u.servingAddress !== undefined && loc.address !== u.servingAddress) return { refused: `locator address ${loc.address} is not the Serving MAAR option's ${u.servingAddress}` }
    if (this.transport === undefined) return { refused: 'no transport to meet the serving MAAR' }
    let maar: KnownMaar
    try {
      maar = await this.transport.meet(loc)
    } catch (err) {
      return { refused: `serving MAAR ${loc.peerId} could not be met: ${err instanceof Error ? err.message : String(err)}` }
    }
    if (maar.cert.role !== 'maar') return { refused: `relayed serving peer ${loc.peerId} is certified as ${maar.cert.role}, not as a MAAR` }
    if (!this.trust.certifiesAddress(maar.cert, loc.address)) return { refused: `address ${loc.address} is not certified for ${loc.peerId}` }
    return { maar: { ...maar, address: loc.address } }
  }

  /** Applies the decision: LevelDB first, then the data plane. */
  private async apply (u: ProxyUpdate, from: KnownMaar): Promise<Answer> {
    const outside = timestampOutsideWindow(u.timestampMs, this.clock(), this.timestampWindowMs)
    if (outside !== undefined) return { status: BINDING_ACK_STATUS.TIMESTAMP_MISMATCH, reason: outside }
    const before = this.bindings.get(u.mnId)
    const d = await this.policy.decide(before, u, from, { covers: prefixes => this.trust.covers(from.cert, prefixes) }, this.clock(), { anchorTimer: this.anchorTimer })
    switch (d.kind) {
      case 'refuse':
        return d
      case 'repeat':
        return { status: BINDING_ACK_STATUS.ACCEPTED, prefixes: d.prefixes }
      case 'release': {
        await this.bindings.commit({ delete: [d.mnId], release: d.prefixes })
        await this.bindings.program()
        this.log.info('released prefixes', { mn: d.mnId, prefixes: d.prefixes.join(',') })
        return { status: BINDING_ACK_STATUS.ACCEPTED, prefixes: d.prefixes }
      }
      case 'let-go': {
        // The MN is at the sender now, and none of its prefixes here follow it there.
        this.presence.left(u.mnId)
        await this.bindings.commit({ delete: [d.mnId], release: d.prefixes })
        await this.bindings.program()
        this.log.info('MN left for a domain not tunnelled to; prefixes released', { mn: d.mnId, prefixes: d.prefixes.join(','), serving: from.address, reason: d.reason })
        return { status: d.status, reason: d.reason, referrals: d.referrals }
      }
      case 'anchor': {
        // The MN is at the sender now, not here.
        this.presence.left(u.mnId)
        await this.bindings.commit({ put: [d.entry] })
        // The anchor's share of the handover's kernel programming, for the netns benchmark.
        const programMs = await this.bindings.timedProgram()
        // A refresh from the same serving MAAR (RFC 5213 §5.3.3 lifetime extension) is routine;
        // only a new serving MAAR is worth a line at info.
        const refresh = before?.attached === false && before.servingMaar?.peerId === from.peerId
        const fields = { mn: u.mnId, prefixes: d.prefixes.join(','), serving: from.address, programMs: roundMs(programMs) }
        if (refresh) this.log.debug('binding refreshed', fields)
        else this.log.info('anchoring for new serving MAAR', fields)
        return { status: BINDING_ACK_STATUS.ACCEPTED, prefixes: d.prefixes, referrals: d.referrals, ...(d.sessionSequence !== undefined ? { sessionSequence: d.sessionSequence } : {}), ...(d.lifetime !== undefined ? { lifetime: d.lifetime } : {}) }
      }
    }
  }
}
