/**
 * Who may talk to this MAAR's node at all: only MAARs that prove domain membership (a certificate
 * of a trusted operator for the connection's peer id, doc/ARCHITECTURE.md "Trust").
 *
 * Why a handshake after the connection and not a libp2p connection gater alone: a gater decides
 * before any stream exists, when it knows the remote peer id (authenticated by noise) but cannot
 * see a certificate, and neither noise nor identify carry one. So each side opens
 * `/dmm/member/1.0.0` on every new connection and sends its certificate; the receiver checks it
 * against the TrustStore, bound to the connection's remote peer id. Until a peer has proven
 * membership:
 * - kad-dht does not see it: the DHT's registrar is wrapped (gatedRegistrar) so that its topology
 *   (which fills the routing table) only hears of members, and its `/dmm/kad/1.0.0` handler only
 *   runs for members: a stream from a peer still proving waits for the proof, a non-member's
 *   stream is aborted, so outsiders can neither read records through the DHT nor enter tables;
 * - `/dmm/record/1.0.0` checks a certificate in every request and answer (record-protocol.ts).
 * A peer whose certificate fails, or that sends none within `proofTimeoutMs` (a proof stream that
 * ends or is reset early is no verdict: the connection's timer judges), is refused: a log
 * line names it and the reason, its connections are closed, it leaves the routing table, and the
 * connection gater (`isRefused`) keeps it out for `refuseForMs`. A peer certified by a federated
 * operator (TrustStore.federate) is a guest: it stays connected for PBU/PBA and border lookups but
 * never becomes a member (doc/ARCHITECTURE.md "Federation").
 */
import { lpStream } from '@libp2p/utils'
import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'
import type { KadDHTComponents } from '@libp2p/kad-dht'
import { CertificateError, MAX_CERTIFICATE_BYTES } from './domain.js'
import type { MaarCertificate, TrustStore } from './domain.js'

export const MEMBERSHIP_PROTOCOL = '/dmm/member/1.0.0'
const MAX_REPLY = 256

type Registrar = KadDHTComponents['registrar']

export interface MembershipComponents {
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  events: EventTarget
  connectionManager: { getConnections: (peerId?: PeerId) => Connection[], closeConnections: (peerId: PeerId) => Promise<void> }
}

export interface MembershipInit {
  trust: TrustStore
  /** How long a new peer has to prove membership (default 10 s: its MAAR may still be starting). */
  proofTimeoutMs?: number
  /** How long a refused peer is kept out by the connection gater (default 30 s). */
  refuseForMs?: number
  log?: (line: string) => void
}

interface Waiter { promise: Promise<boolean>, settle: (member: boolean) => void }

export class MembershipGate {
  log: (line: string) => void
  /** Called with every refused peer (createMeshNode removes it from the DHT routing table). */
  onRefused: (peer: PeerId) => void = () => {}
  readonly proofTimeoutMs: number
  private readonly refuseForMs: number
  private own: Uint8Array | undefined
  private components: MembershipComponents | undefined
  private readonly members = new Map<string, MaarCertificate>()
  private readonly guests = new Set<string>()
  private readonly refused = new Map<string, number>()
  private readonly waiters = new Map<string, Waiter>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly provenOn = new WeakSet<Connection>()
  /** Peers whose proof stream is open and being read: the stream's own timeout judges them. */
  private readonly receiving = new Map<string, number>()
  private readonly onOpen = (evt: Event): void => { this.connected((evt as CustomEvent<Connection>).detail) }

  constructor (private readonly init: MembershipInit) {
    this.proofTimeoutMs = init.proofTimeoutMs ?? 10_000
    this.refuseForMs = init.refuseForMs ?? 30_000
    this.log = init.log ?? (() => {})
  }

  /** This node's certificate, once the MAAR gave it (createMeshNode or SessionDirectory.start). */
  get certificate (): Uint8Array | undefined { return this.own }

  /** Sets this node's certificate and proves membership on every connection already open. */
  present (certificate: Uint8Array): void {
    this.own = certificate
    for (const c of this.components?.connectionManager.getConnections() ?? []) this.proveOn(c)
  }

  /** True while the peer holds a valid certificate of a trusted domain for its peer id. */
  isMember (peer: PeerId | string): boolean {
    const cert = this.members.get(peer.toString())
    return cert !== undefined && Date.now() <= cert.notAfter
  }

  /** For the connection gater: a refused peer is not dialled nor accepted for a while. */
  isRefused (peer: PeerId): boolean {
    const until = this.refused.get(peer.toString())
    if (until === undefined) return false
    if (until > Date.now()) return true
    this.refused.delete(peer.toString())
    return false
  }

  /** Resolves true once the peer proved membership, false when it is refused or does not prove it in time. */
  async whenMember (peer: PeerId): Promise<boolean> {
    if (this.isMember(peer)) return true
    if (this.isRefused(peer)) return false
    const id = peer.toString()
    let waiter = this.waiters.get(id)
    if (waiter === undefined) {
      let settle: (member: boolean) => void = () => {}
      const promise = new Promise<boolean>(resolve => { settle = resolve })
      waiter = { promise, settle }
      this.waiters.set(id, waiter)
      this.after(this.proofTimeoutMs, () => { this.settle(id, this.isMember(peer)) })
    }
    return await waiter.promise
  }

  /**
   * The registrar kad-dht is given: its topology hears only of members, and its protocol handler
   * runs only for members (a non-member's stream is aborted with a log line).
   */
  gatedRegistrar (registrar: Registrar): Registrar {
    const handle: Registrar['handle'] = async (protocol, handler, options) => {
      await registrar.handle(protocol, (stream, connection) => {
        this.admit(protocol, stream, connection, handler).catch(err => { stream.abort(err instanceof Error ? err : new Error(String(err))) })
      }, options)
    }
    const register: Registrar['register'] = async (protocol, topology) => await registrar.register(protocol, {
      ...topology,
      onConnect: (peer, connection) => {
        this.whenMember(peer)
          .then(async member => { if (member) await topology.onConnect?.(peer, connection) })
          .catch(err => { this.log(`${protocol} could not take in member ${peer.toString()}: ${err instanceof Error ? err.message : String(err)}`) })
      }
    })
    return new Proxy(registrar, {
      get: (target, prop) => {
        if (prop === 'handle') return handle
        if (prop === 'register') return register
        const value: unknown = Reflect.get(target, prop)
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
  }

  /** Started as a libp2p service (see createMeshNode). */
  attach (components: MembershipComponents): this {
    this.components = components
    return this
  }

  async start (): Promise<void> {
    const c = this.requireComponents()
    await c.registrar.handle(MEMBERSHIP_PROTOCOL, (stream, connection) => {
      this.receiveProof(stream, connection).catch(err => { stream.abort(err instanceof Error ? err : new Error(String(err))) })
    }, { maxInboundStreams: 4 })
    c.events.addEventListener('connection:open', this.onOpen)
  }

  async stop (): Promise<void> {
    const c = this.requireComponents()
    c.events.removeEventListener('connection:open', this.onOpen)
    await c.registrar.unhandle(MEMBERSHIP_PROTOCOL)
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const id of [...this.waiters.keys()]) this.settle(id, false)
  }

  private requireComponents (): MembershipComponents {
    if (this.components === undefined) throw new Error('membership gate used before libp2p attached it')
    return this.components
  }

  private connected (connection: Connection): void {
    const peer = connection.remotePeer
    if (this.isRefused(peer)) {
      void connection.close().catch(() => {})
      return
    }
    this.proveOn(connection)
    if (!this.isMember(peer)) {
      this.after(this.proofTimeoutMs, () => {
        // A peer whose proof has begun to arrive is honest but slow (a loaded host): receiveProof's
        // own timeout refuses it if the proof never completes; a silent peer is refused here.
        if (!this.isMember(peer) && !this.isGuest(peer) && !this.isRefused(peer) && !this.receiving.has(peer.toString()) && connection.status === 'open') this.refuse(peer, `no membership proof within ${this.proofTimeoutMs} ms`)
      })
    }
  }

  /** Sends this node's certificate on the connection (once per connection). */
  private proveOn (connection: Connection): void {
    const own = this.own
    if (own === undefined || this.provenOn.has(connection) || connection.status !== 'open') return
    this.provenOn.add(connection)
    const peer = connection.remotePeer.toString()
    void (async () => {
      const signal = AbortSignal.timeout(this.proofTimeoutMs)
      const stream = await connection.newStream(MEMBERSHIP_PROTOCOL, { signal })
      try {
        const lp = lpStream(stream, { maxDataLength: MAX_REPLY })
        await lp.write(own, { signal })
        const reply = new TextDecoder().decode((await lp.read({ signal })).subarray())
        if (reply !== 'ok' && reply !== 'guest') this.log(`peer ${peer} refused this MAAR's certificate: ${reply.slice(0, 200)}`)
        await stream.close({ signal })
      } catch (err) {
        stream.abort(err instanceof Error ? err : new Error(String(err)))
        throw err
      }
    })().catch(err => {
      // A peer that does not speak the protocol is not a MAAR; its own proof timer refuses it.
      if (connection.status === 'open') this.log(`could not prove membership to ${peer}: ${err instanceof Error ? err.message : String(err)}`)
    })
  }

  private async receiveProof (stream: Stream, connection: Connection): Promise<void> {
    const id = connection.remotePeer.toString()
    this.receiving.set(id, (this.receiving.get(id) ?? 0) + 1)
    try {
      await this.checkProof(stream, connection)
    } finally {
      const left = (this.receiving.get(id) ?? 1) - 1
      if (left > 0) this.receiving.set(id, left)
      else this.receiving.delete(id)
    }
  }

  private async checkProof (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer
    const signal = AbortSignal.timeout(this.proofTimeoutMs)
    const lp = lpStream(stream, { maxDataLength: MAX_CERTIFICATE_BYTES })
    let certificate: Uint8Array
    try {
      certificate = (await lp.read({ signal })).subarray()
    } catch (err) {
      // A stream that ended or was reset early is no verdict: a connection closed under it (a
      // duplicate dial, a pruned link) or a stream limit on the sender's side is how an honest
      // member loses one. The connection's proof timer (connected()) still refuses a peer that
      // never completes a proof on an open connection; a stream held silent past the timeout, or
      // an oversized certificate, is refused here.
      if (!signal.aborted && !(err instanceof Error && err.name.startsWith('InvalidDataLength'))) throw err
      this.refuse(peer, `unreadable certificate: ${err instanceof Error ? err.message : String(err)}`)
      throw err
    }
    try {
      this.members.set(peer.toString(), await this.init.trust.verify(certificate, { peerId: peer.toString() }))
    } catch (err) {
      if (!(err instanceof CertificateError)) throw err
      if (await this.isGuestCertificate(certificate, peer)) {
        // A federated domain's MAAR (doc/ARCHITECTURE.md "Federation"): it may stay connected
        // for PBU/PBA and border lookups, but it never joins this domain's DHT or records.
        this.guests.add(peer.toString())
        this.settle(peer.toString(), false)
        await lp.write(new TextEncoder().encode('guest'), { signal })
        await stream.close({ signal })
        return
      }
      await lp.write(new TextEncoder().encode(err.message.slice(0, MAX_REPLY)), { signal }).catch(() => {})
      this.refuse(peer, err.message)
      return
    }
    this.settle(peer.toString(), true)
    await lp.write(new TextEncoder().encode('ok'), { signal })
    await stream.close({ signal })
  }

  /** A peer proven by a federated operator's certificate: connected, never a member. */
  isGuest (peer: PeerId | string): boolean {
    return this.guests.has(peer.toString())
  }

  private async isGuestCertificate (certificate: Uint8Array, peer: PeerId): Promise<boolean> {
    return await this.init.trust.verify(certificate, { peerId: peer.toString(), federated: true }).then(() => true, () => false)
  }

  private async admit (protocol: string, stream: Stream, connection: Connection, handler: StreamHandler): Promise<void> {
    const peer = connection.remotePeer
    if (await this.whenMember(peer)) {
      await handler(stream, connection)
      return
    }
    this.log(`refused ${protocol} stream from ${peer.toString()}: not a MAAR of the domain`)
    stream.abort(new Error('not a MAAR of the domain'))
  }

  private refuse (peer: PeerId, reason: string): void {
    const id = peer.toString()
    this.log(`refused peer ${id}: not a MAAR of the domain: ${reason}`)
    this.members.delete(id)
    this.guests.delete(id)
    this.refused.set(id, Date.now() + this.refuseForMs)
    this.settle(id, false)
    this.onRefused(peer)
    void this.components?.connectionManager.closeConnections(peer).catch(() => {})
  }

  private settle (id: string, member: boolean): void {
    const waiter = this.waiters.get(id)
    if (waiter === undefined) return
    this.waiters.delete(id)
    waiter.settle(member)
  }

  private after (ms: number, run: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); run() }, ms)
    t.unref()
    this.timers.add(t)
  }
}
