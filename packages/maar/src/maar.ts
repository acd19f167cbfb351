/**
 * The MAAR (RFC 8885 §3, fully distributed mode): delegates a prefix to each MN that attaches,
 * routes it natively, stays its anchor after the MN moves, finds previous anchors through the
 * session directory (DHT) and exchanges PBU/PBA straight with them.
 *
 * Every change of state follows one pattern: compute the new binding cache entry, commit it to
 * LevelDB, then apply the data plane derived from the whole cache (desired-state.ts). A crash
 * between two steps is repaired at start by the same apply.
 */
import { BINDING_ACK_STATUS, statusName } from '@dmm-mesh/wire'
import { PrefixPool } from '@dmm-mesh/binding-cache'
import type { BindingCache, BindingCacheEntry, PeerRef, RemoteAnchor, Transaction } from '@dmm-mesh/binding-cache'
import type { DataPlane } from '@dmm-mesh/dataplane'
import type { MaarCertificate, SessionDirectory, SessionRecord, TrustStore } from '@dmm-mesh/discovery'
import type { BindingAck, BindingUpdate } from '@dmm-mesh/wire'
import type { Libp2p } from '@libp2p/interface'
import { desiredState } from './desired-state.js'
import { KeyedMutex } from './keyed-mutex.js'
import { createLogger, silentSink } from './logger.js'
import { ProxyUpdateError, buildPba, buildPbu, readPba, readPbu } from './messages.js'
import type { ProxyUpdate } from './messages.js'
import { decideAnchor, uniqueByPeer } from './anchor-decision.js'
import { PeerTable } from './peer-table.js'
import { PmipTransport } from './pmip-transport.js'
import type { Logger } from './logger.js'
import type { KnownMaar } from './peer-table.js'
import type { PeerLocator } from './peer-locator.js'

export interface MaarInit {
  name: string
  /** This MAAR's tunnel address on the backbone (the end of every tunnel to it). */
  address: string
  /** Prefix pools this MAAR owns exclusively, e.g. ["2001:db8:1::/48"]. */
  pools: string[]
  /** Length of the prefix delegated to each MN (default 64). */
  delegatedPrefixLength?: number
  /** Registration lifetime in seconds, a multiple of 4 (default 3600). */
  lifetime?: number
  node: Libp2p
  directory: SessionDirectory
  cache: BindingCache
  dataplane: DataPlane
  trust: TrustStore
  /** This MAAR's domain certificate (signed by the operator key) and its decoded form. */
  certificate: Uint8Array
  cert: MaarCertificate
  log?: Logger
  /** Injected clock (ms since 1970), for tests of lifetimes. */
  clock?: () => number
  /** How often lifetimes are checked (ms, default 1000); 0 disables the timer (tests call checkLifetimes). */
  lifetimeCheckIntervalMs?: number
}

export interface AttachRequest {
  mnId: string
  accessLink: string
  /** The MN's link-layer id, MAC text. */
  linkLayerId: string
  /** RFC 5213 §8.5 value (default 3, IEEE 802.3). */
  accessTechnology?: number
}

export interface PeerOutcome { peerId: string, address: string, status: string, prefixes: string[], error?: string }

export interface HandoverReport {
  mnId: string
  maar: string
  kind: 'first-attach' | 'handover' | 'return' | 'refresh'
  localPrefix: string
  /** Every prefix of the MN and the MAAR address that anchors it. */
  anchors: Array<{ prefix: string, anchor: string, native: boolean }>
  lookupMs: number
  lookupSource: string
  signallingMs: number
  programMs: number
  /** Attach trigger to both ends programmed. */
  totalMs: number
  peers: PeerOutcome[]
  /** P-MAARs found only through referrals in PBAs (the DHT record was stale). */
  referralsFollowed: number
  sessionSequence: number
}

const DEFAULT_LIFETIME = 3600

export class Maar {
  readonly name: string
  readonly address: string
  private readonly pool: PrefixPool
  private readonly lifetime: number
  private readonly log: Logger
  private readonly clock: () => number
  private readonly locks = new KeyedMutex()
  private readonly peers = new PeerTable()
  /** The PBU/PBA transport (the benchmark measures its bare round trip). */
  readonly transport: PmipTransport
  /** MNs whose link is up here: their registration is refreshed until they detach. */
  private readonly present = new Set<string>()
  private readonly publications = new Set<Promise<void>>()
  private lifetimeTimer?: NodeJS.Timeout
  private lastTimestamp = 0
  /** The binding cache as committed (see commit()). */
  private readonly entries = new Map<string, BindingCacheEntry>()

  constructor (private readonly init: MaarInit) {
    this.name = init.name
    this.address = init.address
    this.pool = new PrefixPool(init.pools, init.delegatedPrefixLength ?? 64)
    this.lifetime = init.lifetime ?? DEFAULT_LIFETIME
    if (this.lifetime <= 0 || this.lifetime % 4 !== 0) throw new RangeError(`lifetime ${this.lifetime} s must be a positive multiple of 4 (RFC 6275 §6.1.7)`)
    this.log = init.log ?? createLogger(init.name, silentSink)
    this.clock = init.clock ?? Date.now
    this.transport = new PmipTransport(init.node, {
      address: init.address,
      multiaddrs: () => this.multiaddrs(),
      certificate: init.certificate
    }, init.trust, this.peers, this.log.child('pmip'))
  }

  get peerId (): string { return this.init.node.peerId.toString() }

  multiaddrs (): string[] { return this.init.node.getMultiaddrs().map(m => m.toString()) }

  self (): PeerRef { return { peerId: this.peerId, address: this.address, multiaddrs: this.multiaddrs() } }

  /** Restores the data plane from the binding cache (reconciliation) and starts serving PBUs. */
  async start (): Promise<void> {
    const entries = await this.init.cache.list()
    for (const e of entries) this.entries.set(e.mnId, e)
    for (const e of entries) if (e.attached) this.present.add(e.mnId)
    await this.init.dataplane.start()
    const applied = await this.program()
    this.log.info('started', { peerId: this.peerId, address: this.address, bindings: entries.length, reconciled: applied.length })
    await this.transport.start(async (pbu, from) => await this.onProxyBindingUpdate(pbu, from))
    const interval = this.init.lifetimeCheckIntervalMs ?? 1000
    if (interval > 0) {
      this.lifetimeTimer = setInterval(() => {
        this.checkLifetimes().catch(err => { this.log.error('lifetime check failed', { error: String(err) }) })
      }, interval)
      this.lifetimeTimer.unref()
    }
  }

  async stop (): Promise<void> {
    if (this.lifetimeTimer !== undefined) clearInterval(this.lifetimeTimer)
    await Promise.allSettled([...this.publications])
    await this.transport.stop()
    await this.init.dataplane.stop()
  }

  /** The MN's session as the directory answers it now (for operators and tests). */
  async lookupSession (mnId: string): Promise<SessionRecord | undefined> {
    return (await this.init.directory.lookup(mnId))?.record
  }

  async bindings (): Promise<BindingCacheEntry[]> {
    return [...this.entries.values()]
  }

  /**
   * Writes to LevelDB, then mirrors the change in memory: the MAAR is its cache's only writer, so
   * reading its bindings (every data-plane apply does) never goes back to disk.
   */
  private async commit (tx: Transaction): Promise<void> {
    await this.init.cache.commit(tx)
    for (const mnId of tx.delete ?? []) this.entries.delete(mnId)
    for (const e of tx.put ?? []) this.entries.set(e.mnId, e)
  }

  /**
   * A timestamp strictly above every one this MAAR issued and above `after` (the newest one known
   * for the MN), so that a handover is ordered after the registration it replaces even when two
   * MAARs' clocks read the same millisecond (RFC 5213 §5.5 orders by timestamp).
   */
  private timestamp (after = 0): number {
    this.lastTimestamp = Math.max(this.clock(), this.lastTimestamp + 1, after + 1)
    return this.lastTimestamp
  }

  private async program (): Promise<string[]> {
    return await this.locks.run('\u0000dataplane', async () => {
      const result = await this.init.dataplane.apply(desiredState([...this.entries.values()], { address: this.address }))
      for (const change of result.changes) this.log.debug('dataplane', { change })
      return result.changes
    })
  }

  /** An MN attached to this MAAR's access link (the attach trigger, RFC 5213 §6.9.1.1). */
  async attach (req: AttachRequest): Promise<HandoverReport> {
    validateAttach(req)
    return await this.locks.run(req.mnId, async () => await this.attachLocked(req))
  }

  private async attachLocked (req: AttachRequest): Promise<HandoverReport> {
    const t0 = performance.now()
    const now = this.clock()
    const access = { link: req.accessLink, linkLayerId: req.linkLayerId, accessTechnology: req.accessTechnology ?? 3 }
    const existing = this.entries.get(req.mnId)
    this.present.add(req.mnId)

    if (existing?.attached === true) {
      // Same MAAR again: a refresh of the registration, nothing to signal.
      const refreshed = { ...existing, access, expiresAt: now + this.lifetime * 1000, updatedAt: now }
      await this.commit({ put: [refreshed] })
      const programMs = await this.timed(async () => await this.program())
      return this.report(refreshed, 'refresh', { lookupMs: 0, lookupSource: 'none', signallingMs: 0, programMs, totalMs: performance.now() - t0, peers: [], referralsFollowed: 0 })
    }

    // Step 2 of the handover: reserve the prefix in a temporary BCE, durable before anything else.
    let pending: BindingCacheEntry
    if (existing !== undefined) {
      pending = existing
    } else {
      pending = await this.reservePrefix(req.mnId, now)
    }

    // Step 3: who anchors this MN's other prefixes?
    const tLookup = performance.now()
    const found = await this.init.directory.lookup(req.mnId).catch(err => {
      this.log.warn('session lookup failed; treating as first attach', { mn: req.mnId, error: String(err) })
      return undefined
    })
    const lookupMs = performance.now() - tLookup
    const record: SessionRecord | undefined = found?.record.serving === null ? undefined : found?.record

    // Step 4-5: PBU to every P-MAAR in parallel, following referrals from stale records.
    const timestampMs = this.timestamp(Math.max(record?.issuedAt ?? 0, pending.lastUpdate.timestampMs))
    // Above a withdrawn record's sequence too, or the new session could never replace it.
    const sequence = Math.max(found?.record.sequence ?? 0, pending.sessionSequence, pending.lastUpdate.sequence) + 1
    const tSignal = performance.now()
    const signalled = await this.signalPreviousMaars(req, pending, record, { timestampMs, sequence })
    const signallingMs = performance.now() - tSignal

    // Step 6: commit the BCE with its P-MAAR list, program this side.
    const entry: BindingCacheEntry = {
      ...pending,
      attached: true,
      access,
      remoteAnchors: signalled.anchors,
      lastUpdate: { sequence, timestampMs },
      sessionSequence: sequence,
      expiresAt: now + this.lifetime * 1000,
      updatedAt: now
    }
    delete entry.servingMaar
    await this.commit({ put: [entry] })
    const programMs = await this.timed(async () => await this.program())
    const totalMs = performance.now() - t0

    // Step 7: publish the new session, off the critical path.
    this.publish(entry)
    const kind = existing === undefined ? (record === undefined ? 'first-attach' : 'handover') : 'return'
    const report = this.report(entry, kind, {
      lookupMs, lookupSource: found?.source ?? 'none', signallingMs, programMs, totalMs, peers: signalled.peers, referralsFollowed: signalled.referralsFollowed
    })
    this.log.info(kind, {
      mn: req.mnId,
      prefix: entry.localPrefixes[0],
      anchors: entry.remoteAnchors.map(a => `${a.prefix}@${a.address}`).join(',') || 'none',
      lookupMs: round(lookupMs),
      signallingMs: round(signallingMs),
      totalMs: round(totalMs)
    })
    return report
  }

  /** A fresh prefix in a temporary BCE; one MAAR-wide lock so two MNs never draw the same prefix. */
  private async reservePrefix (mnId: string, now: number): Promise<BindingCacheEntry> {
    return await this.locks.run('\u0000pool', async () => {
      const allocated = new Set((await this.init.cache.allocations()).keys())
      const prefix = this.pool.nextFree(allocated)
      const entry: BindingCacheEntry = {
        mnId,
        localPrefixes: [prefix],
        attached: false,
        remoteAnchors: [],
        lastUpdate: { sequence: 0, timestampMs: 0 },
        sessionSequence: 0,
        createdAt: now,
        updatedAt: now
      }
      await this.commit({ put: [entry], allocate: [{ prefix, mnId }] })
      return entry
    })
  }

  private async signalPreviousMaars (
    req: AttachRequest,
    pending: BindingCacheEntry,
    record: SessionRecord | undefined,
    stamp: { timestampMs: number, sequence: number }
  ): Promise<{ anchors: RemoteAnchor[], peers: PeerOutcome[], referralsFollowed: number }> {
    // P-MAAR -> the prefixes we believe it anchors (empty: "whatever you anchor for this MN").
    const targets = new Map<string, { ref: PeerLocator, prefixes: Set<string> }>()
    const addTarget = (ref: PeerLocator, prefix?: string): void => {
      if (ref.peerId === this.peerId) return
      const t = targets.get(ref.peerId) ?? { ref, prefixes: new Set<string>() }
      if (prefix !== undefined) t.prefixes.add(prefix)
      targets.set(ref.peerId, t)
    }
    for (const a of record?.anchors ?? []) addTarget(a, a.prefix)
    if (record?.serving != null) addTarget(record.serving)
    // As an anchor we may know where the MN went since the record was written.
    if (pending.servingMaar !== undefined) addTarget(pending.servingMaar)

    const contacted = new Set<string>()
    const anchors: RemoteAnchor[] = []
    const peers: PeerOutcome[] = []
    let referralsFollowed = 0
    let round = 0
    while (true) {
      const batch = [...targets.values()].filter(t => !contacted.has(t.ref.peerId))
      if (batch.length === 0) break
      if (round++ > 0) referralsFollowed += batch.length
      batch.forEach(t => contacted.add(t.ref.peerId))
      const outcomes = await Promise.all(batch.map(async t => await this.sendPbu(t.ref, {
        mnId: req.mnId,
        sequence: stamp.sequence,
        lifetime: this.lifetime,
        timestampMs: stamp.timestampMs,
        anchoredPrefixes: [...t.prefixes],
        localPrefix: pending.localPrefixes[0],
        servingAddress: this.address,
        accessTechnology: req.accessTechnology ?? 3
      })))
      for (const o of outcomes) {
        peers.push(o.outcome)
        if (o.ack === undefined || o.from === undefined) continue
        if (o.ack.status === BINDING_ACK_STATUS.ACCEPTED) {
          for (const prefix of o.ack.anchoredPrefixes) {
            if (!anchors.some(a => a.prefix === prefix)) anchors.push({ prefix, peerId: o.from.peerId, address: o.from.address, multiaddrs: o.from.multiaddrs })
          }
        }
        for (const r of o.ack.referrals) addTarget(r)
      }
    }
    return { anchors, peers, referralsFollowed }
  }

  private async sendPbu (ref: PeerLocator, update: Parameters<typeof buildPbu>[0]): Promise<{ outcome: PeerOutcome, ack?: ReturnType<typeof readPba>, from?: KnownMaar }> {
    try {
      const { ack, from } = await this.transport.exchange(ref, buildPbu(update))
      const parsed = readPba(ack)
      const status = statusName(ack.status)
      if (ack.status !== BINDING_ACK_STATUS.ACCEPTED) this.log.warn('PBU not accepted', { mn: update.mnId, peer: ref.peerId, status })
      return { outcome: { peerId: ref.peerId, address: from.address, status, prefixes: parsed.anchoredPrefixes }, ack: parsed, from }
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err)
      this.log.warn('PBU exchange failed', { mn: update.mnId, peer: ref.peerId, error })
      return { outcome: { peerId: ref.peerId, address: ref.address, status: 'UNREACHABLE', prefixes: [], error } }
    }
  }

  /** P-MAAR side (RFC 8885 §3.1; RFC 5213 §5.3 processing rules). */
  private async onProxyBindingUpdate (pbu: BindingUpdate, from: KnownMaar): Promise<BindingAck> {
    let update
    try {
      update = readPbu(pbu)
    } catch (err) {
      const status = err instanceof ProxyUpdateError ? err.status : BINDING_ACK_STATUS.REASON_UNSPECIFIED
      this.log.warn('rejected PBU', { peer: from.peerId, status: statusName(status), reason: err instanceof Error ? err.message : String(err) })
      return buildPba({ status, sequence: pbu.sequence, lifetime: 0, mnId: '', anchoredPrefixes: [], referrals: [] })
    }
    const u = update
    return await this.locks.run(u.mnId, async () => {
      const answer = await this.decide(u, from)
      if (answer.status !== BINDING_ACK_STATUS.ACCEPTED) {
        this.log.warn('rejected PBU', { peer: from.peerId, mn: u.mnId, status: statusName(answer.status), reason: answer.reason })
      }
      return buildPba({
        status: answer.status,
        sequence: u.sequence,
        lifetime: answer.status === BINDING_ACK_STATUS.ACCEPTED ? u.lifetime : 0,
        mnId: u.mnId,
        timestampMs: u.timestampMs,
        anchoredPrefixes: answer.prefixes ?? [],
        referrals: answer.referrals ?? []
      })
    })
  }

  /** Applies the P-MAAR decision: LevelDB first, then the data plane. */
  private async decide (u: ProxyUpdate, from: KnownMaar): Promise<{ status: number, reason?: string, prefixes?: string[], referrals?: PeerLocator[] }> {
    const d = decideAnchor(this.entries.get(u.mnId), u, from, { covers: prefixes => this.init.trust.covers(from.cert, prefixes) }, this.clock())
    switch (d.kind) {
      case 'refuse':
        return d
      case 'release': {
        await this.commit({ delete: [d.mnId], release: d.prefixes })
        await this.program()
        this.log.info('released prefixes', { mn: d.mnId, prefixes: d.prefixes.join(',') })
        return { status: BINDING_ACK_STATUS.ACCEPTED, prefixes: d.prefixes }
      }
      case 'anchor': {
        this.present.delete(u.mnId)
        await this.commit({ put: [d.entry] })
        // The anchor's share of the handover's kernel programming, for the netns benchmark.
        const programMs = await this.timed(async () => await this.program())
        this.log.info('anchoring for new serving MAAR', { mn: u.mnId, prefixes: d.prefixes.join(','), serving: from.address, programMs: round(programMs) })
        return { status: BINDING_ACK_STATUS.ACCEPTED, prefixes: d.prefixes, referrals: d.referrals }
      }
    }
  }

  /** The MN left this MAAR's link: its registration is no longer refreshed and expires. */
  async detach (mnId: string): Promise<void> {
    this.present.delete(mnId)
    this.log.info('detached', { mn: mnId })
  }

  /**
   * Refreshes registrations of MNs still present and de-registers those whose lifetime ran out
   * (the serving MAAR alone does, draft-bernardos-dmm-pmip §3.5).
   */
  async checkLifetimes (): Promise<void> {
    const now = this.clock()
    for (const e of [...this.entries.values()]) {
      if (!e.attached || e.expiresAt === undefined) continue
      if (this.present.has(e.mnId)) {
        if (e.expiresAt - now < (this.lifetime * 1000) / 2) {
          await this.locks.run(e.mnId, async () => {
            const current = this.entries.get(e.mnId)
            if (current?.attached === true) await this.commit({ put: [{ ...current, expiresAt: now + this.lifetime * 1000, updatedAt: now }] })
          })
        }
      } else if (e.expiresAt <= now) {
        await this.deregister(e.mnId, 'lifetime expired')
      }
    }
  }

  /** Ends the MN's whole mobility session: lifetime-0 PBUs to every anchor, record withdrawn. */
  async deregister (mnId: string, reason = 'requested'): Promise<PeerOutcome[]> {
    return await this.locks.run(mnId, async () => {
      const entry = this.entries.get(mnId)
      if (entry?.attached !== true) return []
      const byPeer = new Map<string, { ref: PeerLocator, prefixes: string[] }>()
      for (const a of entry.remoteAnchors) {
        const t = byPeer.get(a.peerId) ?? { ref: a, prefixes: [] }
        t.prefixes.push(a.prefix)
        byPeer.set(a.peerId, t)
      }
      const timestampMs = this.timestamp()
      const outcomes = await Promise.all([...byPeer.values()].map(async t => (await this.sendPbu(t.ref, {
        mnId, sequence: entry.sessionSequence + 1, lifetime: 0, timestampMs, anchoredPrefixes: t.prefixes
      })).outcome))
      this.present.delete(mnId)
      await this.commit({ delete: [mnId], release: entry.localPrefixes })
      await this.program()
      const withdrawal = this.init.directory.withdraw(mnId, entry.sessionSequence + 1)
        .catch(err => { this.log.warn('withdrawing session record failed', { mn: mnId, error: String(err) }) })
      this.track(withdrawal)
      this.log.info('de-registered', { mn: mnId, reason, anchors: outcomes.map(o => `${o.address}:${o.status}`).join(',') || 'none' })
      return outcomes
    })
  }

  private publish (entry: BindingCacheEntry): void {
    const lifetime = this.lifetime
    const record: SessionRecord = {
      mnId: entry.mnId,
      sequence: entry.sessionSequence,
      issuedAt: Math.max(this.clock(), entry.lastUpdate.timestampMs), // never before the registration it describes
      serving: this.self(),
      anchors: [
        ...entry.localPrefixes.map(prefix => ({ ...this.self(), prefix, lifetime })),
        ...entry.remoteAnchors.map(a => ({ ...a, lifetime }))
      ]
    }
    const certificates = uniqueByPeer(entry.remoteAnchors).flatMap(a => {
      const known = this.peers.get(a.peerId)
      return known === undefined ? [] : [known.certificate]
    })
    const p = this.init.directory.publish(record, certificates)
      .catch(err => { this.log.warn('publishing session record failed', { mn: entry.mnId, error: String(err) }) })
    this.track(p)
  }

  private track (p: Promise<void>): void {
    this.publications.add(p)
    void p.finally(() => this.publications.delete(p))
  }

  /** Waits for background publications (tests and benchmarks use it to know the DHT is current). */
  async settled (): Promise<void> {
    await Promise.allSettled([...this.publications])
  }

  private async timed (work: () => Promise<unknown>): Promise<number> {
    const t = performance.now()
    await work()
    return performance.now() - t
  }

  private report (entry: BindingCacheEntry, kind: HandoverReport['kind'], m: Omit<HandoverReport, 'mnId' | 'maar' | 'kind' | 'localPrefix' | 'anchors' | 'sessionSequence'>): HandoverReport {
    return {
      mnId: entry.mnId,
      maar: this.name,
      kind,
      localPrefix: entry.localPrefixes[0] ?? '',
      anchors: [
        ...entry.localPrefixes.map(prefix => ({ prefix, anchor: this.address, native: true })),
        ...entry.remoteAnchors.map(a => ({ prefix: a.prefix, anchor: a.address, native: false }))
      ],
      sessionSequence: entry.sessionSequence,
      ...m
    }
  }
}


function round (ms: number): number {
  return Math.round(ms * 100) / 100
}

export class AttachError extends Error {}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i

function validateAttach (req: AttachRequest): void {
  if (typeof req.mnId !== 'string' || req.mnId.length === 0 || req.mnId.length > 253) throw new AttachError('mnId must be a non-empty NAI of at most 253 characters (RFC 4282)')
  if (typeof req.accessLink !== 'string' || req.accessLink.length === 0) throw new AttachError('accessLink must name the access link')
  if (typeof req.linkLayerId !== 'string' || !MAC.test(req.linkLayerId)) throw new AttachError(`linkLayerId ${JSON.stringify(req.linkLayerId)} is not a MAC address like 02:00:00:00:00:01`)
  if (req.accessTechnology !== undefined && (!Number.isInteger(req.accessTechnology) || req.accessTechnology < 0 || req.accessTechnology > 255)) throw new AttachError('accessTechnology must be an integer 0-255 (RFC 5213 §8.5)')
}
