/**
 * The MAAR (RFC 8885 §3, fully distributed mode) as a composition root: it delegates a prefix to
 * each MN that attaches and routes it natively (serving-side.ts), stays the anchor of that prefix
 * after the MN moves (anchor-side.ts), finds previous anchors through a Discovery and reaches them
 * through an AnchorSignaller over a SignallingTransport.
 *
 * Built as (components, init): what it is given to run — discovery, signalling, transport, cache,
 * data plane, trust, clock, logger, metrics, capture — apart from its settings (name, address, pools, lifetime).
 * create-maar.ts wires the real parts for the daemon and the in-process mesh.
 */
import { PrefixPool } from '@dmm-mesh/binding-cache'
import type { BindingCache, BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { DataPlane } from '@dmm-mesh/dataplane'
import type { Discovery, MaarCertificate, SessionRecord, TrustStore } from '@dmm-mesh/discovery'
import { statusName } from '@dmm-mesh/wire'
import type { MaarRef } from '@dmm-mesh/wire'
import type { Libp2p } from '@libp2p/interface'
import { AnchorSide } from './anchor-side.js'
import type { AttachRequest } from './attach-request.js'
import { Bindings } from './bindings.js'
import { DirectSignaller } from './direct-signaller.js'
import type { HandoverReport, PeerOutcome } from './handover-report.js'
import { LifetimeTimer } from './lifetime-timer.js'
import { capturingTransport } from './capture.js'
import type { MessageCapture } from './capture.js'
import { createLogger, silentSink } from './logger.js'
import type { Logger } from './logger.js'
import { noMetrics } from './metrics.js'
import type { MaarMetrics } from './metrics.js'
import { PbuSender } from './pbu-sender.js'
import { RFC5213_TIMING, Retransmitter } from './pbu-retransmission.js'
import type { LateAnswer, RetransmissionTiming } from './pbu-retransmission.js'
import { PeerTable } from './peer-table.js'
import { PmipTransport } from './pmip-transport.js'
import { Presence } from './presence.js'
import { PrefixReservation } from './prefix-reservation.js'
import type { PrefixDelegation } from './prefix-reservation.js'
import { distributedAnchoring } from './anchor-decision.js'
import type { AnchorPolicy } from './anchor-decision.js'
import { federatedAnchoring } from './federated-anchoring.js'
import type { FederationAgreements } from '@dmm-mesh/federation'
import { RestartRepair } from './restart-repair.js'
import type { RepairOutcome } from './restart-repair.js'
import { ServingSide } from './serving-side.js'
import { SessionPublisher } from './session-publisher.js'
import type { AnchorSignaller } from './signaller.js'
import { TimestampSource } from './timestamps.js'
import { AnchorExpiry } from './anchor-expiry.js'
import type { SignallingTransport } from './transport.js'

/** A MAAR's settings. */
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
  /** How often lifetimes are checked (ms, default 1000); 0 disables the timer (tests call checkLifetimes). */
  lifetimeCheckIntervalMs?: number
  /** How far ahead of this MAAR's clock a PBU timestamp may be (default 300 ms, RFC 5213 §5.5). */
  timestampValidityWindowMs?: number
  /** PBU retransmission to unreachable P-MAARs (default RFC 5213: 1 s doubling up to 32 s). */
  retransmission?: RetransmissionTiming
}

/** What a signalling strategy is built from (doc/ARCHITECTURE.md "Adding a discovery or signalling mode"). */
export interface SignallingParts {
  sender: PbuSender
  retransmitter: Retransmitter
  transport: SignallingTransport
  discovery: Discovery
  /** Where answers that come after register() returned go (the serving side's late-answer path). */
  lateAnswer: (a: LateAnswer) => Promise<void>
  log: Logger
  /** This MAAR's own pool (legacy mode: the LMA delegates from it on a PBU, legacy-lma.ts). */
  pool: PrefixDelegation
  self: () => MaarRef
}

/**
 * A mode that changes more than the signaller (legacy PMIPv6, legacy-lma.ts): what a PBU does at
 * the anchor side, and which prefixes a new MN gets at the serving side. Unset parts are the
 * distributed mode's.
 */
export interface ModeStrategy {
  signaller: AnchorSignaller
  anchorPolicy?: AnchorPolicy
  delegation?: PrefixDelegation
}

/** What a MAAR is given to run. */
export interface MaarComponents {
  /** The libp2p node: this MAAR's identity and where it listens. */
  node: Libp2p
  discovery: Discovery
  cache: BindingCache
  dataplane: DataPlane
  trust: TrustStore
  /** This MAAR's domain certificate (signed by the operator key) and its decoded form. */
  certificate: Uint8Array
  cert: MaarCertificate
  /** Default: PBU/PBA over libp2p streams (PmipTransport). */
  transport?: SignallingTransport
  /** Decorates the transport before the capture does (e.g. delay-transport.ts in scenario runs). */
  shapeTransport?: (transport: SignallingTransport) => SignallingTransport
  /** How previous anchors are reached; default: a PBU to each (DirectSignaller). */
  signalling?: (parts: SignallingParts) => AnchorSignaller | ModeStrategy
  log?: Logger
  /** Counters and timings (metrics.ts); default: none. */
  metrics?: MaarMetrics
  /** Records every PBU and PBA sent or received (capture.ts); default: none. */
  capture?: MessageCapture
  /** Injected clock (ms since 1970), for tests of lifetimes. */
  clock?: () => number
  /** The agreements with other domains this MAAR honours (federated-anchoring.ts); default: none. */
  federation?: { agreements: FederationAgreements }
}

const DEFAULT_LIFETIME = 3600
/** How long the listed multiaddrs are reused (multiaddrs()). */
const MULTIADDRS_TTL_MS = 1000

/** A peer this MAAR is connected to; `address` and `pools` once it was met over PBU/PBA. */
export interface KnownPeer { peerId: string, remoteAddrs: string[], address?: string, pools?: string[] }

export class Maar {
  readonly name: string
  readonly address: string
  /** The PBU/PBA transport (the benchmark measures its bare round trip). */
  readonly transport: SignallingTransport
  /** What it counts (the daemon serves them at GET /metrics). */
  readonly metrics: MaarMetrics
  private readonly log: Logger
  private readonly store: Bindings
  private readonly serving: ServingSide
  private readonly anchor: AnchorSide
  private readonly publisher: SessionPublisher
  private readonly presence = new Presence()
  private readonly timer: LifetimeTimer
  private readonly checks: () => Promise<void>
  private readonly signaller: AnchorSignaller
  private readonly repair: RestartRepair
  private repairing: Promise<RepairOutcome[]> = Promise.resolve([])
  private readonly handoverListeners = new Set<(report: HandoverReport) => void>()
  private listed: { list: string[], at: number } | undefined

  constructor (private readonly components: MaarComponents, init: MaarInit) {
    this.name = init.name
    this.address = init.address
    const lifetime = init.lifetime ?? DEFAULT_LIFETIME
    if (lifetime <= 0 || lifetime % 4 !== 0) throw new RangeError(`lifetime ${lifetime} s must be a positive multiple of 4 (RFC 6275 §6.1.7)`)
    const pool = new PrefixPool(init.pools, init.delegatedPrefixLength ?? 64)
    const log = this.log = components.log ?? createLogger(init.name, silentSink)
    const clock = components.clock ?? Date.now
    const self = (): MaarRef => this.self()

    const metrics = this.metrics = components.metrics ?? noMetrics
    const wire = components.transport ?? new PmipTransport(components.node, {
      address: init.address,
      multiaddrs: () => this.multiaddrs(),
      certificate: components.certificate
    }, components.trust, new PeerTable(), log.child('pmip'))
    const transport = components.shapeTransport?.(wire) ?? wire
    this.transport = components.capture === undefined ? transport : capturingTransport(transport, components.capture, init.address)
    const sender = new PbuSender(this.transport, log.child('pbu'), metrics)
    const retransmitter = new Retransmitter(sender, init.retransmission ?? RFC5213_TIMING, clock, {
      isCurrent: (mnId, sequence) => this.serving.isCurrent(mnId, sequence),
      answered: async a => { await this.serving.lateAnswer(a) }
    }, log.child('retransmit'), metrics)
    const timestamps = new TimestampSource(clock)
    this.store = new Bindings(components.cache, components.dataplane, { address: init.address }, log.child('bindings'), metrics)
    const reservation = new PrefixReservation(pool, this.store)
    const built = (components.signalling ?? (p => new DirectSignaller(p.sender, p.retransmitter, p.log)))({
      sender, retransmitter, transport: this.transport, discovery: components.discovery, lateAnswer: async a => { await this.serving.lateAnswer(a) }, log: log.child('signalling'), pool: reservation, self
    })
    const mode: ModeStrategy = 'signaller' in built ? built : { signaller: built }
    const signaller = this.signaller = mode.signaller
    this.publisher = new SessionPublisher({
      discovery: components.discovery, self, lifetime, clock, knownPeer: id => this.transport.knownPeer(id), meet: async p => await this.transport.meet(p), trust: components.trust, log: log.child('publisher')
    })
    this.serving = new ServingSide({
      bindings: this.store,
      presence: this.presence,
      reservation: mode.delegation ?? reservation,
      discovery: components.discovery,
      signaller,
      publisher: this.publisher,
      timestamps
    }, { name: init.name, address: init.address, lifetime, peerId: this.peerId, clock, log: log.child('serving'), metrics })
    const federation = components.federation
    const anchorPolicy = federation === undefined ? mode.anchorPolicy : federatedAnchoring(mode.anchorPolicy ?? distributedAnchoring, { agreements: federation.agreements, trust: components.trust })
    this.anchor = new AnchorSide(this.store, this.presence, components.trust, clock, log.child('anchor'), metrics, init.timestampValidityWindowMs, this.transport, anchorPolicy, signaller.renewAnchor !== undefined)
    const expiry = signaller.renewAnchor !== undefined
      ? new AnchorExpiry(this.store, signaller.renewAnchor.bind(signaller), timestamps, clock, log.child('anchor-expiry'))
      // A bounded cross-border policy's registrations end with their bound (federated-anchoring.ts).
      : federation !== undefined ? new AnchorExpiry(this.store, async () => 0, timestamps, clock, log.child('cross-border'), 'the cross-border bound of its agreement ran out') : undefined
    metrics.gauges({
      bindingsServing: () => this.store.all().filter(e => e.attached).length,
      bindingsAnchoring: () => this.store.all().filter(e => !e.attached).length,
      prefixesFree: async () => Math.max(0, pool.size() - (await components.cache.allocations()).size)
    })
    this.repair = new RestartRepair(this.store, components.discovery, () => this.peerId, clock, log.child('repair'))
    this.checks = async () => { await this.serving.checkLifetimes(); await expiry?.check() }
    this.timer = new LifetimeTimer(init.lifetimeCheckIntervalMs ?? 1000, this.checks, log.child('lifetime'))
  }

  get peerId (): string { return this.components.node.peerId.toString() }

  /**
   * The node's multiaddrs as text, listed again at most once a second: listing walks libp2p's
   * address manager (about 0.1 ms, on every record published), and they change only when its
   * listeners or observed addresses do, which libp2p itself announces debounced by a second.
   */
  multiaddrs (): string[] {
    const now = performance.now()
    if (this.listed === undefined || now - this.listed.at >= MULTIADDRS_TTL_MS) {
      const list = this.components.node.getMultiaddrs().map(m => m.toString())
      // Not listening yet: not kept, so that the first listed addresses show at once.
      this.listed = list.length > 0 ? { list, at: now } : undefined
      return [...list]
    }
    return [...this.listed.list]
  }


  self (): MaarRef { return { peerId: this.peerId, address: this.address, multiaddrs: this.multiaddrs() } }

  /**
   * The peers this MAAR is connected to now (read-only, for the live view): the remote multiaddrs
   * of its connections, and the tunnel address and pools of those met over PBU/PBA.
   */
  knownPeers (): KnownPeer[] {
    const remoteAddrs = new Map<string, string[]>()
    for (const c of this.components.node.getConnections()) {
      const id = c.remotePeer.toString()
      remoteAddrs.set(id, [...(remoteAddrs.get(id) ?? []), c.remoteAddr.toString()])
    }
    return [...remoteAddrs].map(([peerId, addrs]) => {
      const met = this.transport.knownPeer(peerId)
      return { peerId, remoteAddrs: addrs, ...(met !== undefined ? { address: met.address, pools: met.cert.pools } : {}) }
    })
  }

  /** Calls `listener` with the report of every attach this MAAR answers; returns the unsubscribe. */
  onHandover (listener: (report: HandoverReport) => void): () => void {
    this.handoverListeners.add(listener)
    return () => { this.handoverListeners.delete(listener) }
  }

  /** Restores the data plane from the binding cache (reconciliation) and starts serving PBUs. */
  async start (): Promise<void> {
    const entries = await this.store.load()
    await this.components.dataplane.start()
    const applied = await this.store.program()
    this.log.info('started', { peerId: this.peerId, address: this.address, bindings: entries.length, reconciled: applied.length })
    await this.transport.start(async (pbu, from) => await this.anchor.handlePbu(pbu, from), async (pba, from) => {
      // An unsolicited PBA (a CMD's late answer, a P-MAAR's own in locator mode) counts as received too.
      this.metrics.pba('received', statusName(pba.status))
      await this.signaller.acknowledged(pba, from)
    })
    this.serving.restore(entries)
    this.timer.start()
    // Off the start path: PBUs are answered meanwhile, each binding is repaired under its MN's lock.
    this.repairing = this.repair.run(entries).catch(err => {
      this.log.error('restart repair failed', { error: String(err) })
      return []
    })
  }

  /** What the restart repair did (resolves once it ended; [] on a fresh cache). */
  async repaired (): Promise<RepairOutcome[]> {
    return await this.repairing
  }

  async stop (): Promise<void> {
    this.timer.stop()
    this.signaller.stop()
    this.repair.stop()
    await this.repairing
    await this.publisher.settled()
    await this.transport.stop()
    await this.components.dataplane.stop()
  }

  /** The MN's session as discovery answers it now (for operators and tests). */
  async lookupSession (mnId: string): Promise<SessionRecord | undefined> {
    return (await this.components.discovery.lookup(mnId))?.record
  }

  async bindings (): Promise<BindingCacheEntry[]> {
    return this.store.all()
  }

  async attach (req: AttachRequest): Promise<HandoverReport> {
    const report = await this.serving.attach(req)
    for (const listener of this.handoverListeners) {
      // An observer's failure is not the MN's: the attach stands.
      try { listener(report) } catch (err) { this.log.warn('handover listener failed', { mn: req.mnId, error: String(err) }) }
    }
    return report
  }

  async detach (mnId: string): Promise<void> {
    await this.serving.detach(mnId)
  }

  /** The serving side's refreshes and expiries, and in variant (b) the anchored ones (AnchorExpiry). */
  async checkLifetimes (): Promise<void> {
    await this.checks()
  }

  async deregister (mnId: string, reason?: string): Promise<PeerOutcome[]> {
    return await this.serving.deregister(mnId, reason)
  }

  /** Waits for background publications (tests and benchmarks use it to know the DHT is current). */
  async settled (): Promise<void> {
    await this.publisher.settled()
  }
}
