/**
 * The Central Mobility Database (draft-bernardos-dmm-pmip §3, RFC 8885 §3, partially distributed
 * mode): a peer of the domain, certified with the role CMD, that keeps every MN's mobility session
 * (session-store.ts) and takes the serving MAARs' PBUs on /dmm/pmip/1.0.0.
 *
 * - Initial registration (§3.1): no session → it is stored, a plain PBA answers.
 * - Otherwise the PBU is forwarded — the Serving MAAR option and the serving MAAR's locator
 *   added — to the previous serving MAAR and every P-MAAR in parallel, and the serving MAAR gets
 *   one PBA naming each P-MAAR (Previous MAAR option + locator) followed by its Anchored Prefixes:
 *   - relay (§3.2): after their PBAs, or the relay timeout; late PBAs follow, unsolicited;
 *   - locator (§3.3): at once, every P-MAAR marked pending: each answers the serving MAAR itself;
 *   - proxy (§3.4): at once, from this cache; the P-MAARs' PBAs come back here only.
 * - De-registration (§3.5): the serving MAAR's lifetime-0 PBU here ends the session. Variant (a),
 *   `deregistration: 'serving'` (default): only the serving MAAR de-registers, at its anchors too.
 *   Variant (b), 'anchors': a P-MAAR whose lifetime ran out sends its lifetime-0 PBU here, and
 *   gets the session's lifetime back while the MN is in the domain (it is still an anchor of
 *   the session), or lifetime 0 once the session ended (it releases the prefixes).
 * RFC 5213 processing rules as at a MAAR: 160 without MN-ID, 156 outside TimestampValidityWindow,
 * 157 for a timestamp not after the last accepted; peers without a valid certificate never get
 * a PBU read (the transport's hello), and only MAARs may register.
 */
import { BINDING_ACK_STATUS, maarRef, statusName } from '@dmm-mesh/wire'
import type { BindingAck, BindingUpdate, MaarRef } from '@dmm-mesh/wire'
import type { MaarCertificate, TrustStore } from '@dmm-mesh/discovery'
import {
  KeyedMutex, PbuSender, PeerTable, PmipTransport, RFC5213_TIMING, Retransmitter, buildPba, capturingTransport, createLogger, readPbuLogged,
  silentSink, timestampOutsideWindow
} from '@dmm-mesh/maar'
import type {
  DeregistrationVariant, KnownMaar, LateAnswer, Logger, MessageCapture, PbuResult, PreviousMaar, ProxyUpdate, RetransmissionTiming, SignallingTransport
} from '@dmm-mesh/maar'
import type { Libp2p } from '@libp2p/interface'
import type { CmdSession, SessionAnchor, CmdSessionStore } from './session-store.js'

export type CmdMode = 'relay' | 'locator' | 'proxy'

export interface CmdInit {
  name: string
  /** The CMD's signalling address (certified), the source of the PBUs it forwards. */
  address: string
  mode: CmdMode
  /** Draft §3.2: how long the serving MAAR's PBA waits for the P-MAARs (default 1000 ms). */
  relayTimeoutMs?: number
  /** Draft §3.5: who de-registers, 'serving' (variant a, default) or 'anchors' (variant b). */
  deregistration?: DeregistrationVariant
  timestampValidityWindowMs?: number
}

export interface CmdComponents {
  node: Libp2p
  trust: TrustStore
  certificate: Uint8Array
  cert: MaarCertificate
  store: CmdSessionStore
  transport?: SignallingTransport
  /** Decorates the transport before the capture does (delay in scenario runs, as for a MAAR). */
  shapeTransport?: (transport: SignallingTransport) => SignallingTransport
  capture?: MessageCapture
  log?: Logger
  clock?: () => number
  /**
   * The MN's session in another domain, asked when this store has none (federated-cmd.ts,
   * doc/ARCHITECTURE.md "CMD domains"); it throws when the other domains cannot tell.
   */
  foreignSession?: (mnId: string) => Promise<CmdSession | undefined>
  /** Proxy mode: how unanswered forwards are sent again (default RFC 5213's, RFC5213_TIMING). */
  retransmission?: RetransmissionTiming
}

export const DEFAULT_RELAY_TIMEOUT_MS = 1000

/** `lifetime`: granted instead of the PBU's (a P-MAAR's renewed de-registration, §3.5 b). */
interface Answer { status: number, reason?: string, referrals?: PreviousMaar[], sessionSequence?: number, lifetime?: number, answerServingMaar?: boolean }

/** A registration to forward: the session it made, the P-MAARs to reach, the session it replaced. */
interface Reach { session: CmdSession, previous: SessionAnchor[], old: CmdSession }

/** One P-MAAR asked for one registration, and how it answered. */
interface Forwarded {
  anchor: SessionAnchor
  done: Promise<PbuResult>
  result?: PbuResult
  /** The serving MAAR knows this P-MAAR's prefixes (first PBA or a late one). */
  reported?: boolean
}

export class Cmd {
  readonly name: string
  readonly transport: SignallingTransport
  private readonly log: Logger
  private readonly sender: PbuSender
  private readonly lock = new KeyedMutex()
  private readonly clock: () => number
  /** Forwards still running, so that stop() and tests can wait for them. */
  private readonly running = new Set<Promise<unknown>>()
  /**
   * Proxy mode (draft §3.4): the serving MAAR was answered from this cache and never hears from
   * the P-MAARs, so a forward that got no PBA is this CMD's to send again (RFC 5213 §6.9.4), or
   * that P-MAAR keeps tunnelling to a MAAR the MN has left.
   */
  private readonly retransmitter: Retransmitter

  constructor (private readonly components: CmdComponents, private readonly init: CmdInit) {
    this.name = init.name
    this.log = components.log ?? createLogger(init.name, silentSink)
    this.clock = components.clock ?? Date.now
    if (components.cert.role !== 'cmd') throw new TypeError(`certificate of ${components.cert.peerId} is for the role ${components.cert.role}, not for a CMD`)
    const wire = components.transport ?? new PmipTransport(components.node, {
      address: init.address, multiaddrs: () => this.multiaddrs(), certificate: components.certificate
    }, components.trust, new PeerTable(), this.log.child('pmip'))
    const transport = components.shapeTransport?.(wire) ?? wire
    this.transport = components.capture === undefined ? transport : capturingTransport(transport, components.capture, init.address)
    this.sender = new PbuSender(this.transport, this.log.child('forward'))
    this.retransmitter = new Retransmitter(this.sender, components.retransmission ?? RFC5213_TIMING, this.clock, {
      // Each job says which registration it is for (start's stillWanted); sequences alone may repeat.
      isCurrent: (mnId, sequence) => this.components.store.get(mnId)?.sequence === sequence,
      answered: async a => { await this.learnLate(a) }
    }, this.log.child('retransmit'))
  }

  get peerId (): string { return this.components.node.peerId.toString() }
  get mode (): CmdMode { return this.init.mode }

  multiaddrs (): string[] { return this.components.node.getMultiaddrs().map(m => m.toString()) }

  async start (): Promise<void> {
    await this.transport.start(async (pbu, from) => await this.handlePbu(pbu, from), async (_pba, from) => {
      this.log.warn('dropped unsolicited PBA: a CMD answers PBUs only', { peer: from.peerId })
    })
    this.log.info('started', { peerId: this.peerId, address: this.init.address, mode: this.init.mode, sessions: this.components.store.all().length })
  }

  async stop (): Promise<void> {
    this.retransmitter.stop()
    await this.transport.stop()
    await this.forwarded()
  }

  /** Waits until every forward started so far has ended, retransmissions included (tests, scenario checks). */
  async settled (): Promise<void> {
    while (true) {
      await this.forwarded()
      if (this.retransmitter.active() === 0) return
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }

  private async forwarded (): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
  }

  session (mnId: string): CmdSession | undefined {
    return this.components.store.get(mnId)
  }

  sessions (): CmdSession[] {
    return this.components.store.all()
  }

  /** Answers one PBU from an authenticated domain peer. */
  async handlePbu (pbu: BindingUpdate, from: KnownMaar): Promise<BindingAck> {
    const read = readPbuLogged(pbu, from.peerId, this.log)
    if ('refusal' in read) return read.refusal
    const u = read.update
    const answer = await this.answer(u, from)
    if (answer.status !== BINDING_ACK_STATUS.ACCEPTED) this.log.warn('rejected PBU', { peer: from.peerId, mn: u.mnId, status: statusName(answer.status), reason: answer.reason })
    return buildPba({
      status: answer.status,
      sequence: u.sequence,
      lifetime: answer.status === BINDING_ACK_STATUS.ACCEPTED ? answer.lifetime ?? u.lifetime : 0,
      mnId: u.mnId,
      timestampMs: u.timestampMs,
      anchoredPrefixes: [],
      referrals: answer.referrals ?? [],
      // The refusal's reason travels in the PBA (RFC 5094 vendor option, messages.ts).
      ...(answer.status !== BINDING_ACK_STATUS.ACCEPTED && answer.reason !== undefined ? { reason: answer.reason } : {}),
      ...(answer.sessionSequence !== undefined ? { sessionSequence: answer.sessionSequence } : {}),
      ...(answer.answerServingMaar === true ? { answerServingMaar: true } : {})
    })
  }

  private async answer (u: ProxyUpdate, from: KnownMaar): Promise<Answer> {
    const refuse = (status: number, reason: string): Answer => ({ status, reason })
    // Only a MAAR serves MNs; a CMD certificate cannot register one.
    if (from.cert.role !== 'maar') return refuse(BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, `sender is certified as ${from.cert.role}, not as a MAAR`)
    // A federated domain's MAAR signals the anchors within an agreement; it never writes here.
    if (!this.components.trust.isMemberDomain(from.cert.domain)) {
      return refuse(BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, `sender is a MAAR of domain ${from.cert.domain}, not of this CMD's domain ${this.components.cert.domain}`)
    }
    const outside = timestampOutsideWindow(u.timestampMs, this.clock(), this.init.timestampValidityWindowMs)
    if (outside !== undefined) return refuse(BINDING_ACK_STATUS.TIMESTAMP_MISMATCH, outside)
    if (u.servingAddress !== undefined && u.servingAddress !== from.address) return refuse(BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, `Serving MAAR ${u.servingAddress} is not the sender (${from.address})`)
    if (u.localPrefix !== undefined && !this.components.trust.covers(from.cert, [u.localPrefix])) {
      return refuse(BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, `local prefix ${u.localPrefix} outside the sender's certified pools`)
    }
    const decided = await this.lock.run(u.mnId, async () => await this.decide(u, from))
    if ('answer' in decided) return decided.answer
    return await this.reachAnchors(u, from, decided)
  }

  /**
   * Draft §3.5 (b): a P-MAAR's de-registration changes no session. Still an anchor of the MN's
   * session → the session's lifetime (renewed); no session or not an anchor of it → accepted with
   * lifetime 0, and the P-MAAR releases.
   */
  private renewal (u: ProxyUpdate, from: KnownMaar, session: CmdSession | undefined): Answer {
    const anchor = session?.anchors.some(a => a.ref.peerId === from.peerId) === true
    this.log.info(anchor ? 'anchored registration renewed' : 'anchored registration ended', { mn: u.mnId, anchor: from.address })
    return { status: BINDING_ACK_STATUS.ACCEPTED, lifetime: anchor && session !== undefined ? session.lifetime : 0 }
  }

  /** Under the MN's lock: the new session committed, and the P-MAARs to reach. */
  private async decide (u: ProxyUpdate, from: KnownMaar): Promise<{ answer: Answer } | Reach> {
    const { store } = this.components
    const own = store.get(u.mnId)
    let old = own
    if (own === undefined && u.lifetime > 0 && this.components.foreignSession !== undefined) {
      try {
        old = await this.components.foreignSession(u.mnId)
      } catch (err) {
        return { answer: { status: BINDING_ACK_STATUS.REASON_UNSPECIFIED, reason: `session across the border unknown: ${err instanceof Error ? err.message : String(err)}` } }
      }
    } else if (own !== undefined && u.lifetime > 0 && own.serving.peerId === from.peerId) {
      // The serving MAAR registers the MN again (it left and came back) while nobody in this
      // domain registered it meanwhile: it may have been served across the border, where an
      // anchor of this domain was signalled without this CMD knowing (doc/ARCHITECTURE.md "CMD domains").
      old = await this.servedAcross(own)
    }
    if (u.lifetime === 0 && this.init.deregistration === 'anchors' && old?.serving.peerId !== from.peerId) return { answer: this.renewal(u, from, old) }
    // The registration this session holds, sent again (a PBA lost or late, the transport's retry,
    // RFC 5213 §6.9.4): answered again, not refused as older, or its sender gives up a session
    // the P-MAARs already tunnel to it.
    if (old !== undefined && u.lifetime > 0 && old.serving.peerId === from.peerId && u.timestampMs === old.timestampMs && u.sequence === old.sequence) {
      return { answer: this.repeatedAnswer(old, from) }
    }
    // RFC 5213 §5.5: ordered by timestamp, never by arrival.
    if (old !== undefined && u.timestampMs <= old.timestampMs) {
      return { answer: { status: BINDING_ACK_STATUS.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED, reason: `timestamp ${u.timestampMs} not after ${old.timestampMs}` } }
    }
    if (u.lifetime === 0) {
      // Draft §3.5 (a): the serving MAAR ends the session; nobody else may.
      if (old !== undefined && old.serving.peerId !== from.peerId) {
        return { answer: { status: BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, reason: `de-registration from ${from.address}, not the serving MAAR ${old.serving.address}` } }
      }
      // The serving MAAR withdraws the session record at the de-registration's sequence
      // (serving-side.ts), the CMD's session sequence + 1.
      if (own !== undefined) await store.end(u.mnId, Math.max(own.sessionSequence + 1, u.sequence))
      this.log.info('session ended', { mn: u.mnId, serving: from.address })
      return { answer: { status: BINDING_ACK_STATUS.ACCEPTED } }
    }
    const self = maarRef(from)
    // The sender's Local Prefix (RFC 8885 §4.4) is what it delegates to the MN now: the session's
    // older list may name one it released since (it let the MN go into a domain that does not
    // tunnel, doc/ARCHITECTURE.md "Leaving a domain that does not tunnel").
    const prefixes = u.localPrefix !== undefined ? [u.localPrefix] : old?.anchors.find(a => a.ref.peerId === from.peerId)?.prefixes ?? []
    const previous = (old?.anchors ?? []).filter(a => a.ref.peerId !== from.peerId)
    // The previous serving MAAR is asked even with no prefix known: it knows its own anchors.
    if (old !== undefined && old.serving.peerId !== from.peerId && !previous.some(a => a.ref.peerId === old.serving.peerId)) previous.push({ ref: old.serving, prefixes: [] })
    const session: CmdSession = {
      mnId: u.mnId,
      serving: self,
      anchors: [{ ref: self, prefixes }, ...previous],
      timestampMs: u.timestampMs,
      sequence: u.sequence,
      // Above an ended session's withdrawn record too, or the new session's records would be stale.
      sessionSequence: Math.max((old?.sessionSequence ?? 0) + 1, u.sequence, (store.endedSequence(u.mnId) ?? 0) + 1),
      lifetime: u.lifetime,
      updatedAt: this.clock()
    }
    await store.put(session)
    this.log.info(old === undefined ? 'initial registration' : own === undefined ? 'registration across the border' : 'registration', { mn: u.mnId, serving: from.address, anchors: previous.map(a => a.ref.address).join(',') || 'none', mode: this.init.mode })
    if (previous.length === 0 || old === undefined) return { answer: { status: BINDING_ACK_STATUS.ACCEPTED, sessionSequence: session.sessionSequence } }
    return { session, previous, old }
  }

  /**
   * `own` with the newer session another domain holds of the MN, if any: that domain's serving
   * MAAR and anchors join the P-MAARs. When the other domains cannot tell, `own` as it is: this
   * domain's session is still a valid one to answer from (unlike a first registration).
   */
  private async servedAcross (own: CmdSession): Promise<CmdSession> {
    let foreign: CmdSession | undefined
    try {
      foreign = await this.components.foreignSession?.(own.mnId)
    } catch (err) {
      this.log.warn('session across the border unknown; the own session answers', { mn: own.mnId, error: err instanceof Error ? err.message : String(err) })
    }
    if (foreign === undefined || foreign.sessionSequence <= own.sessionSequence) return own
    const anchors = [...own.anchors.filter(a => !foreign.anchors.some(f => f.ref.peerId === a.ref.peerId)), ...foreign.anchors]
    return { ...own, serving: foreign.serving, anchors, sessionSequence: foreign.sessionSequence }
  }

  /** The answer to a repeated registration, from this cache: its P-MAARs as the session knows them now. */
  private repeatedAnswer (session: CmdSession, from: KnownMaar): Answer {
    this.log.info('registration repeated', { mn: session.mnId, serving: from.address })
    return {
      status: BINDING_ACK_STATUS.ACCEPTED,
      sessionSequence: session.sessionSequence,
      // Only in proxy mode (§3.4) does this cache answer for the P-MAARs (and retransmit to them);
      // otherwise the serving MAAR confirms each one itself (pending, RFC 5213 §6.9.4).
      referrals: session.anchors.filter(a => a.ref.peerId !== from.peerId).map(a => ({
        ...maarRef(a.ref), prefixes: a.prefixes, ...(this.init.mode === 'proxy' ? {} : { pending: true as const })
      }))
    }
  }

  /**
   * Forwards the registration to every P-MAAR and answers the serving MAAR in this CMD's mode.
   * MAARs that a P-MAAR's PBA refers to (doc/ARCHITECTURE.md "When the record is stale": e.g. a
   * session moved on while this CMD was down, in hybrid mode) are asked too; what the serving MAAR
   * was not told in the first PBA follows in unsolicited PBAs — except in locator mode, where
   * every P-MAAR answers the serving MAAR itself.
   */
  private async reachAnchors (u: ProxyUpdate, from: KnownMaar, { session, previous, old }: Reach): Promise<Answer> {
    const done = (f: Forwarded): boolean => f.result?.ack !== undefined
    let replied = false
    const list: Forwarded[] = []
    const asked = new Set([from.peerId])
    const relayed = this.relayedUpdate(u, from)
    const ask = (anchor: SessionAnchor): void => {
      asked.add(anchor.ref.peerId)
      const f: Forwarded = { anchor, done: Promise.resolve(undefined as unknown as PbuResult) }
      f.done = this.sender.send({ ...anchor.ref }, { ...relayed, anchoredPrefixes: anchor.prefixes }).then(async result => {
        f.result = result
        if (result.ack === undefined && this.init.mode === 'proxy') {
          // Until answered, or a newer registration's forward supersedes it (RFC 5213 §5.5).
          const current = (): boolean => this.components.store.get(u.mnId)?.timestampMs === u.timestampMs
          this.retransmitter.start(anchor.ref, { ...relayed, anchoredPrefixes: anchor.prefixes }, this.clock() + u.lifetime * 1000, undefined, current)
        }
        await this.learn(session, anchor, result)
        if (anchor.ref.peerId === old.serving.peerId && result.ack?.status === BINDING_ACK_STATUS.NOT_LMA_FOR_THIS_MOBILE_NODE) {
          // The MAAR the session names as serving holds nothing of the MN: it let the MN go into a
          // domain that does not tunnel (doc/ARCHITECTURE.md "Leaving a domain that does not
          // tunnel"), whose serving MAAR this CMD learns of across the border.
          const across = await this.servedAcross(old)
          for (const a of [{ ref: across.serving, prefixes: [] }, ...across.anchors]) if (!asked.has(a.ref.peerId)) ask(a)
        }
        for (const r of result.ack?.referrals ?? []) if (!asked.has(r.peerId)) ask({ ref: maarRef(r), prefixes: [] })
        if (replied && f.reported !== true && this.init.mode !== 'locator' && done(f)) await this.notifyLate(u, from, f)
        return result
      })
      this.track(f.done)
      list.push(f)
    }
    previous.forEach(ask)
    if (this.init.mode === 'relay') {
      // Relay (§3.2): wait for every PBA, the referred P-MAARs' too, or the timeout.
      let timer: NodeJS.Timeout | undefined
      let expired = false
      const timeout = new Promise<void>(resolve => { timer = setTimeout(() => { expired = true; resolve() }, this.init.relayTimeoutMs ?? DEFAULT_RELAY_TIMEOUT_MS) })
      while (!expired && list.some(f => f.result === undefined)) await Promise.race([Promise.all(list.map(async f => await f.done)), timeout])
      clearTimeout(timer)
    }
    replied = true
    // A P-MAAR that refused is named with its refusal (it left the session, learn()), so that the
    // serving MAAR reports and acts on it as when it signals the P-MAAR itself; one that has not
    // answered stays, pending (in proxy mode the cache answers for it).
    for (const f of list) f.reported = done(f) || this.init.mode === 'proxy'
    return {
      status: BINDING_ACK_STATUS.ACCEPTED,
      sessionSequence: session.sessionSequence,
      referrals: list.map(f => referralOf(f, f.reported !== true)),
      // Locator mode (§3.3): the pending P-MAARs answer the serving MAAR themselves.
      ...(this.init.mode === 'locator' ? { answerServingMaar: true } : {})
    }
  }

  /** The serving MAAR's PBU as the CMD forwards it: Serving MAAR option and locator added. */
  private relayedUpdate (u: ProxyUpdate, from: KnownMaar): Omit<ProxyUpdate, 'anchoredPrefixes'> {
    return {
      mnId: u.mnId,
      sequence: u.sequence,
      lifetime: u.lifetime,
      timestampMs: u.timestampMs,
      ...(u.localPrefix !== undefined ? { localPrefix: u.localPrefix } : {}),
      servingAddress: from.address,
      servingLocator: maarRef(from),
      ...(u.accessTechnology !== undefined ? { accessTechnology: u.accessTechnology } : {}),
      ...(this.init.mode === 'locator' ? { answerServingMaar: true } : {})
    }
  }

  /** A P-MAAR's answer the serving MAAR was not told of: one unsolicited PBA (draft §3.2). */
  private async notifyLate (u: ProxyUpdate, to: KnownMaar, f: Forwarded): Promise<void> {
    f.reported = true
    try {
      await this.transport.notify(to, buildPba({
        status: BINDING_ACK_STATUS.ACCEPTED, sequence: u.sequence, lifetime: u.lifetime, mnId: u.mnId, timestampMs: u.timestampMs,
        anchoredPrefixes: [], referrals: [referralOf(f, false)]
      }))
      this.log.info('late PBA relayed', { mn: u.mnId, anchor: f.anchor.ref.address, serving: to.address, status: statusName(f.result?.ack?.status ?? BINDING_ACK_STATUS.ACCEPTED) })
    } catch (err) {
      this.log.warn('late PBA not relayed', { mn: u.mnId, serving: to.peerId, error: String(err) })
    }
  }

  /**
   * A P-MAAR's answer, into the session if it is still the one the PBU made: its prefixes as it
   * says, or it leaves the session when it refused; the MAARs it refers to join the list (a
   * session written while this CMD was down, draft §3 / doc/ARCHITECTURE.md "When the record is stale").
   */
  private async learn (session: CmdSession, anchor: SessionAnchor, result: PbuResult): Promise<void> {
    const ack = result.ack
    if (ack === undefined) return
    await this.lock.run(session.mnId, async () => {
      const current = this.components.store.get(session.mnId)
      if (current === undefined || current.sessionSequence !== session.sessionSequence) return
      let anchors = current.anchors.filter(a => a.ref.peerId !== anchor.ref.peerId)
      if (ack.status === BINDING_ACK_STATUS.ACCEPTED) anchors.push({ ref: anchor.ref, prefixes: ack.anchoredPrefixes.length > 0 ? ack.anchoredPrefixes : anchor.prefixes })
      for (const r of ack.referrals) {
        if (!anchors.some(a => a.ref.peerId === r.peerId)) anchors.push({ ref: maarRef(r), prefixes: [] })
      }
      anchors = anchors.filter(a => a.prefixes.length > 0 || a.ref.peerId === current.serving.peerId || ack.referrals.some(r => r.peerId === a.ref.peerId))
      await this.components.store.put({ ...current, anchors, updatedAt: this.clock() })
    })
  }

  /** A retransmitted forward's answer, into the session it was sent for while that is current. */
  private async learnLate (a: LateAnswer): Promise<void> {
    const current = this.components.store.get(a.mnId)
    // The PBA echoes the registration's timestamp (RFC 5213 §5.5), which names it.
    if (a.result?.ack === undefined || current === undefined || a.result.ack.timestampMs !== current.timestampMs) return
    const anchor = current.anchors.find(x => x.ref.peerId === a.peer.peerId) ?? { ref: maarRef(a.peer), prefixes: [] }
    this.log.info('late PBA to a retransmitted forward', { mn: a.mnId, anchor: a.peer.address, outcome: a.kind })
    await this.learn(current, anchor, a.result)
  }

  private track (p: Promise<unknown>): void {
    const t = p.catch(() => {}).finally(() => { this.running.delete(t) })
    this.running.add(t)
  }
}

/**
 * A forwarded P-MAAR as the CMD's PBA names it (RFC 8885 §4.5 Previous MAAR group): accepted, its
 * prefixes as it answered; refused, its status and reason (dmm-mesh vendor sub-type 6) and no
 * prefix; unanswered, the prefixes the session knows, `pending` when the serving MAAR is to wait.
 */
function referralOf (f: Forwarded, pending: boolean): PreviousMaar {
  const ack = f.result?.ack
  const ref = maarRef(f.anchor.ref)
  if (ack === undefined) return { ...ref, prefixes: f.anchor.prefixes, ...(pending ? { pending: true as const } : {}) }
  if (ack.status === BINDING_ACK_STATUS.ACCEPTED) return { ...ref, prefixes: ack.anchoredPrefixes }
  // Any other status refuses here (learn() drops the P-MAAR); one below 128 is not a refusal
  // status on the wire (RFC 5213 §8.2), so it travels as 128.
  const status = ack.status >= 128 ? ack.status : BINDING_ACK_STATUS.REASON_UNSPECIFIED
  return { ...ref, prefixes: [], refusal: { status, ...(ack.reason !== undefined ? { reason: ack.reason } : {}) } }
}

export type { MaarRef }
