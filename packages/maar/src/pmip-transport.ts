/**
 * PBU/PBA between MAARs over a libp2p protocol stream (doc/ARCHITECTURE.md "Trust"): length-prefixed
 * frames; each side first sends a hello (its domain certificate, then its tunnel address and
 * multiaddrs), then the client sends Mobility Header bytes (PBUs, several at once) and the server
 * answers each with one (a PBA), in order (discovery's pipelined-stream.ts). The Mobility Header checksum covers the two MAARs' tunnel addresses as
 * if the message had travelled in IPv6 (RFC 6275 §6.1.1).
 *
 * A stream whose peer holds no valid certificate of the domain, or gives a tunnel address its
 * certificate does not name, is closed after the hello with a log line naming the peer and the
 * reason: PBUs from peers that are not MAARs of the domain are never read.
 */
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeMobilityMessage, encodeMobilityMessage, findOption, WireError } from '@dmm-mesh/wire'
import type { BindingAck, BindingUpdate, MaarRef } from '@dmm-mesh/wire'
import type { TrustStore } from '@dmm-mesh/discovery'
import type { Libp2p, Stream, Connection } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { KeyedMutex } from './keyed-mutex.js'
import type { Logger } from './logger.js'
import { OrderedAnswers, PipelinedClient } from '@dmm-mesh/discovery'
import type { KnownMaar, PeerTable } from './peer-table.js'
import type { PbaHandler, PbuHandler, SignallingTransport } from './transport.js'

export const PMIP_PROTOCOL = '/dmm/pmip/1.0.0'
const MAX_FRAME = 64 * 1024
const HELLO_TIMEOUT_MS = 5000
/** PBUs of one stream handled at once, at most; the stream is not read further meanwhile. */
const MAX_PIPELINE = 256

export interface LocalIdentity {
  address: string
  multiaddrs: () => string[]
  certificate: Uint8Array
}

interface Hello { address: string, multiaddrs: string[] }

function parseHello (bytes: Uint8Array): Hello {
  const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  if (typeof parsed !== 'object' || parsed === null) throw new Error('hello is not an object')
  const { address, multiaddrs } = parsed as Record<string, unknown>
  if (typeof address !== 'string') throw new Error('hello lacks an address')
  if (!Array.isArray(multiaddrs) || !multiaddrs.every(m => typeof m === 'string')) throw new Error('hello lacks multiaddrs')
  return { address, multiaddrs: multiaddrs.slice(0, 16) as string[] }
}

export class PmipTransport implements SignallingTransport {
  private readonly sessions = new Map<string, Promise<ClientSession>>()

  constructor (
    private readonly node: Libp2p,
    private readonly identity: LocalIdentity,
    private readonly trust: TrustStore,
    private readonly peers: PeerTable,
    private readonly log: Logger
  ) {}

  knownPeer (peerId: string): KnownMaar | undefined {
    return this.peers.get(peerId)
  }

  async start (handler: PbuHandler, onPba?: PbaHandler): Promise<void> {
    await this.node.handle(PMIP_PROTOCOL, (stream, connection) => {
      this.serve(stream, connection, handler, onPba).catch(err => {
        this.log.debug('pmip stream ended', { peer: connection.remotePeer.toString(), error: String(err) })
      })
    })
  }

  async stop (): Promise<void> {
    await this.node.unhandle(PMIP_PROTOCOL)
    for (const s of this.sessions.values()) s.then(x => x.close(), () => {})
    this.sessions.clear()
  }

  /** Sends a PBU to `peer` and waits for its PBA. */
  async exchange (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>, pbu: BindingUpdate, opts: { signal?: AbortSignal } = {}): Promise<{ ack: BindingAck, from: KnownMaar }> {
    for (let attempt = 0; ; attempt++) {
      const opening = this.opening(peer, opts.signal)
      const session = await opening
      try {
        return { ack: await session.request(pbu, opts.signal), from: session.remote }
      } catch (err) {
        // A cached stream may have died since its last use: open a fresh one once.
        this.forget(peer.peerId, opening)
        session.close()
        if (attempt > 0 || opts.signal?.aborted === true || err instanceof RejectedPeerError) throw err
      }
    }
  }

  async notify (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>, pba: BindingAck): Promise<KnownMaar> {
    for (let attempt = 0; ; attempt++) {
      const opening = this.opening(peer)
      const session = await opening
      try {
        await session.send(pba)
        return session.remote
      } catch (err) {
        this.forget(peer.peerId, opening)
        session.close()
        if (attempt > 0 || err instanceof RejectedPeerError) throw err
      }
    }
  }

  /** Opens the kept stream to `peer` (dial, hellos, certificate check) unless it is open or opening. */
  connect (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>): void {
    this.opening(peer).catch(() => {})
  }

  async meet (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>): Promise<KnownMaar> {
    return this.peers.get(peer.peerId) ?? (await this.opening(peer)).remote
  }

  /** The kept session to `peer`, open or opening; one is opened when there is none. */
  private opening (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>, signal?: AbortSignal): Promise<ClientSession> {
    let s = this.sessions.get(peer.peerId)
    if (s === undefined) {
      const opened = this.openSession(peer, signal)
      opened.catch(() => { this.forget(peer.peerId, opened) })
      this.sessions.set(peer.peerId, opened)
      s = opened
    }
    return s
  }

  /**
   * Drops `session` from the kept ones, unless another call has replaced it meanwhile: that
   * newer session is alive, and dropping it would cost its caller a stream for nothing.
   */
  private forget (peerId: string, session: Promise<ClientSession>): void {
    if (this.sessions.get(peerId) === session) this.sessions.delete(peerId)
  }

  private async openSession (peer: Pick<MaarRef, 'peerId' | 'multiaddrs'>, signal?: AbortSignal): Promise<ClientSession> {
    const peerId = peerIdFromString(peer.peerId)
    if (peer.multiaddrs.length > 0) {
      await this.node.peerStore.merge(peerId, { multiaddrs: peer.multiaddrs.map(m => multiaddr(m)) })
    }
    const stream = await this.node.dialProtocol(peerId, PMIP_PROTOCOL, { signal: signal ?? AbortSignal.timeout(HELLO_TIMEOUT_MS) })
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
    try {
      await this.sendHello(lp)
      const remote = await this.readHello(lp, peer.peerId)
      return new ClientSession(stream, lp, remote, this.identity.address)
    } catch (err) {
      // Not left open: every retransmission to a peer that hangs opens a stream, and a connection
      // holding libp2p's maximum of outbound streams for the protocol refuses any more, so the
      // PBUs could not get through after the peer recovered (RFC 5213 §6.9.4).
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  private async sendHello (lp: LengthPrefixedStream): Promise<void> {
    const hello = new TextEncoder().encode(JSON.stringify({ address: this.identity.address, multiaddrs: this.identity.multiaddrs() }))
    await lp.writeV([this.identity.certificate, hello])
  }

  /** Reads and verifies the peer's hello; remembers the peer; throws RejectedPeerError. */
  private async readHello (lp: LengthPrefixedStream, peerId: string): Promise<KnownMaar> {
    const signal = AbortSignal.timeout(HELLO_TIMEOUT_MS)
    const certificate = (await lp.read({ signal })).subarray()
    const helloBytes = (await lp.read({ signal })).subarray()
    let known: KnownMaar
    try {
      // A federated domain's MAAR is authenticated here; what it may ask is the anchor side's
      // decision under the agreement (doc/ARCHITECTURE.md "Federation").
      const cert = await this.trust.verify(certificate, { peerId, federated: true })
      const hello = parseHello(helloBytes)
      // The tunnel address is what PBUs and records will point traffic at: it must be certified.
      if (!this.trust.certifiesAddress(cert, hello.address)) throw new Error(`address ${hello.address} is not certified for this peer (${cert.addresses.join(', ')})`)
      known = { peerId, address: hello.address, multiaddrs: hello.multiaddrs, certificate, cert }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      this.log.warn('rejected PMIP peer: not a MAAR of the domain', { peer: peerId, reason })
      throw new RejectedPeerError(peerId, reason)
    }
    this.peers.remember(known)
    return known
  }

  private async serve (stream: Stream, connection: Connection, handler: PbuHandler, onPba?: PbaHandler): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
    const peerId = connection.remotePeer.toString()
    let remote: KnownMaar
    try {
      remote = await this.readHello(lp, peerId)
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      return
    }
    await this.sendHello(lp)
    try {
      await this.serveFrames(lp, stream, peerId, remote, handler, onPba)
    } catch (err) {
      // A frame over MAX_FRAME (its length prefix alone says so), a read after the peer left, a
      // failed write: the stream is reset at once so that no peer can hold it half open.
      if (stream.status === 'open') {
        this.log.warn('reset PMIP stream', { peer: peerId, reason: err instanceof Error ? err.message : String(err) })
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      }
      throw err
    }
  }

  private async serveFrames (lp: LengthPrefixedStream, stream: Stream, peerId: string, remote: KnownMaar, handler: PbuHandler, onPba?: PbaHandler): Promise<void> {
    // PBUs are answered in their order on the stream but handled side by side (pipelined-stream.ts);
    // two for the same MN one after the other, as before.
    const answers = new OrderedAnswers(lp, MAX_PIPELINE, err => {
      this.log.warn('reset PMIP stream', { peer: peerId, reason: err instanceof Error ? err.message : String(err) })
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    })
    const perMn = new KeyedMutex()
    while (true) {
      const frame = (await lp.read()).subarray()
      let message
      try {
        message = decodeMobilityMessage(frame, { pseudo: { source: remote.address, destination: this.identity.address } })
      } catch (err) {
        // RFC 6275 §9.2: a malformed Mobility Header is discarded; we close the stream since the
        // peer's framing can no longer be trusted.
        const reason = err instanceof WireError ? `${err.code} at offset ${err.offset}: ${err.message}` : String(err)
        this.log.warn('dropped malformed mobility message', { peer: peerId, reason })
        stream.abort(new Error(`malformed mobility message: ${reason}`))
        return
      }
      if (message.kind === 'binding-ack') {
        // Unsolicited (draft-bernardos-dmm-pmip §3.2–3.3): taken, never answered, so the
        // sender's stream stays in step; after the PBUs before it, as they came. A failure of the
        // handler is its own, not the stream's.
        await answers.drained()
        if (onPba === undefined) this.log.warn('dropped unsolicited PBA', { peer: peerId })
        else await onPba(message, remote).catch(err => { this.log.warn('unsolicited PBA not taken', { peer: peerId, error: String(err) }) })
        continue
      }
      if (message.kind !== 'binding-update') {
        this.log.warn('dropped unexpected mobility message', { peer: peerId, kind: message.kind })
        continue
      }
      const pbu = message
      const mn = findOption(pbu, 'mn-identifier')?.identifier ?? ''
      await answers.push(perMn.run(mn, async () => {
        const ack = await handler(pbu, remote)
        return encodeMobilityMessage(ack, { source: this.identity.address, destination: remote.address })
      }))
    }
  }
}

export class RejectedPeerError extends Error {
  constructor (readonly peerId: string, readonly reason: string) {
    super(`peer ${peerId} rejected: ${reason}`)
    this.name = 'RejectedPeerError'
  }
}

/** One open stream to a P-MAAR: PBUs pipelined, PBAs taken in order (discovery's pipelined-stream.ts). */
class ClientSession {
  private readonly pipe: PipelinedClient

  constructor (
    stream: Stream,
    lp: LengthPrefixedStream,
    readonly remote: KnownMaar,
    private readonly localAddress: string
  ) {
    this.pipe = new PipelinedClient(stream, lp)
  }

  async request (pbu: BindingUpdate, signal?: AbortSignal): Promise<BindingAck> {
    const bytes = await this.pipe.request(encodeMobilityMessage(pbu, { source: this.localAddress, destination: this.remote.address }), signal ?? AbortSignal.timeout(HELLO_TIMEOUT_MS))
    const answer = decodeMobilityMessage(bytes, { pseudo: { source: this.remote.address, destination: this.localAddress } })
    if (answer.kind !== 'binding-ack') throw new Error(`expected a PBA from ${this.remote.peerId}, got ${answer.kind}`)
    return answer
  }

  /** Writes one message that gets no answer (an unsolicited PBA), in order with requests. */
  async send (message: BindingAck): Promise<void> {
    await this.pipe.send(encodeMobilityMessage(message, { source: this.localAddress, destination: this.remote.address }), AbortSignal.timeout(HELLO_TIMEOUT_MS))
  }

  close (): void {
    this.pipe.close()
  }
}
