/**
 * `/dmm/record/1.0.0`: request/response between MAARs of a domain that reads or writes a session
 * record straight from/to a peer's SessionStore, so that the handover's lookup costs one round
 * trip instead of a Kademlia walk (doc/ARCHITECTURE.md "A handover", GET step). One stream per
 * peer is kept and carries many requests, pipelined and answered in order (pipelined-stream.ts):
 * opening a libp2p stream (multistream-select, yamux frames) per request cost more CPU than the
 * request itself.
 *
 * Frames are length-prefixed (lpStream). Request: a JSON header {op: "get"|"put", key}, then the
 * requester's domain certificate, then (put only) the sealed record. Response: a JSON header
 * {ok, found?, error?}; when ok, the responder's domain certificate; then the record when found.
 * Membership is mutual: a requester without a valid certificate of a trusted domain for its peer
 * id is refused before anything is read or answered, and a requester ignores every answer, "not
 * found" included, whose certificate does not prove the responder a member (requestRecord throws
 * CertificateError), since a "not found" from an outsider would turn a handover into a first
 * attach. Every frame is bounded and a frame announced over the bound resets that stream at once;
 * every record received is validated (openSessionRecord) before it is kept.
 */
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { Connection, Libp2p, PeerId, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import { CertificateError, MAX_CERTIFICATE_BYTES } from './domain.js'
import type { TrustStore } from './domain.js'
import type { MembershipGate } from './membership.js'
import { LIMITS, RecordError, SESSION_PREFIX } from './records.js'
import type { SessionStore, StoredRecord } from './record-store.js'
import { bytesEqual, strictObject, timeoutSignal } from './util.js'
import { lookupStep } from './lookup-steps.js'
import { OrderedAnswers, PipelinedClient } from './pipelined-stream.js'
import type { AnswerReader } from './pipelined-stream.js'

export const RECORD_PROTOCOL = '/dmm/record/1.0.0'
const MAX_HEADER = 512
export const MAX_FRAME = Math.max(LIMITS.recordBytes, MAX_CERTIFICATE_BYTES, MAX_HEADER)
const SERVE_TIMEOUT_MS = 5000
/** A kept record stream with no traffic this long is closed by either end (libp2p's inactivity timeout). */
const IDLE_MS = 60_000
/** Requests of one stream unanswered at once, at most (the server stops reading; the client opens another stream). */
const MAX_UNANSWERED = 64
const KEY_PATTERN = new RegExp(`^${SESSION_PREFIX}[0-9a-f]{64}$`)

export type RequestHeader = { op: 'get', key: string } | { op: 'put', key: string }
export interface ResponseHeader { ok: boolean, found?: boolean, error?: string }

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
/** The headers of the usual answers, encoded once (nothing writes into a frame once sent). */
const FOUND = encode({ ok: true, found: true })
const ABSENT = encode({ ok: true, found: false })
const STORED = encode({ ok: true })

function decodeJson (bytes: Uint8Array, allowed: string[], what: string): Record<string, unknown> {
  if (bytes.length > MAX_HEADER) throw new Error(`${what} header over ${MAX_HEADER} bytes`)
  return strictObject(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)), allowed, `${what} header`)
}

export function decodeRequestHeader (bytes: Uint8Array): RequestHeader {
  const h = decodeJson(bytes, ['op', 'key'], 'request')
  if (h.op !== 'get' && h.op !== 'put') throw new Error('op must be "get" or "put"')
  if (typeof h.key !== 'string' || !KEY_PATTERN.test(h.key)) throw new Error('key must be /dmm/session/<64 hex digits>')
  return { op: h.op, key: h.key }
}

export function decodeResponseHeader (bytes: Uint8Array): ResponseHeader {
  const h = decodeJson(bytes, ['ok', 'found', 'error'], 'response')
  if (typeof h.ok !== 'boolean') throw new Error('response lacks "ok"')
  if (h.found !== undefined && typeof h.found !== 'boolean') throw new Error('"found" must be a boolean')
  if (h.error !== undefined && typeof h.error !== 'string') throw new Error('"error" must be text')
  return { ok: h.ok, ...(h.found !== undefined ? { found: h.found } : {}), ...(h.error !== undefined ? { error: h.error.slice(0, 200) } : {}) }
}

export interface RecordServerComponents {
  registrar: {
    handle: (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions) => Promise<void>
    unhandle: (protocol: string) => Promise<void>
  }
}

/** Serves the node's SessionStore to the domain's MAARs; started with the libp2p node. */
export class RecordServer implements Startable {
  /** Where refusals go; the SessionDirectory points it at its log. */
  log: (line: string) => void = () => {}
  private started = false

  constructor (private readonly components: RecordServerComponents, private readonly init: { trust: TrustStore, store: SessionStore, membership: Pick<MembershipGate, 'certificate'>, onStored?: (key: Uint8Array, entry: StoredRecord) => Promise<void> }) {}

  isStarted (): boolean { return this.started }

  async start (): Promise<void> {
    await this.components.registrar.handle(RECORD_PROTOCOL, (stream, connection) => {
      this.serve(stream, connection).catch((err: unknown) => {
        // Over-long frames, early ends and timeouts: nothing more is read from this stream.
        this.log(`reset record stream from ${connection.remotePeer.toString()}: ${err instanceof Error ? err.message : String(err)}`)
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      })
    }, { maxInboundStreams: 256 })
    this.started = true
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(RECORD_PROTOCOL)
    this.started = false
  }

  /**
   * Requests on one stream, answered in their order (pipelined-stream.ts), at most
   * MAX_UNANSWERED at a time: the stream is not read further meanwhile. A request that cannot be
   * parsed or comes from an outsider is answered with the refusal and ends the stream (its
   * framing, or its sender, is not to be trusted further); a frame over the bound resets it.
   */
  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    stream.inactivityTimeout = IDLE_MS
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
    const requester = new StreamCertificate(this.init.trust, peer)
    const answers = new OrderedAnswers(lp, MAX_UNANSWERED, err => { stream.abort(err instanceof Error ? err : new Error(String(err))) })
    const refuse = async (error: string): Promise<void> => {
      await answers.push(Promise.resolve([encode({ ok: false, error })]))
      await answers.drained()
      await stream.close()
    }
    while (true) {
      let headerFrame: Uint8Array
      try {
        headerFrame = (await lp.read()).subarray()
      } catch (err) {
        // The requester closed its end between requests: a clean end, not a fault.
        if (err instanceof Error && err.name === 'UnexpectedEOFError') {
          await answers.drained()
          await stream.close()
          return
        }
        throw err
      }
      // The rest of a request follows its header at once.
      const deadline = timeoutSignal(SERVE_TIMEOUT_MS)
      try {
        if (!(await this.serveOne(peer, requester, headerFrame, lp, answers, refuse, deadline.signal))) return
      } finally {
        deadline.clear()
      }
    }
  }

  /** One request, its header read: answered (true), or refused and the stream ended (false). */
  private async serveOne (peer: string, requester: StreamCertificate, headerFrame: Uint8Array, lp: LengthPrefixedStream, answers: OrderedAnswers, refuse: (error: string) => Promise<void>, signal: AbortSignal): Promise<boolean> {
    let header: RequestHeader
    try {
      header = decodeRequestHeader(headerFrame)
    } catch (err) {
      this.log(`refused record request from ${peer}: bad request: ${(err as Error).message}`)
      await refuse('bad request')
      return false
    }
    if (header.op === 'get') lookupStep('serve-start', peer)
    const certificate = (await lp.read({ signal })).subarray()
    try {
      await requester.check(certificate)
    } catch (err) {
      if (!(err instanceof CertificateError)) throw err
      this.log(`refused record request from ${peer}: not a MAAR of the domain: ${err.message}`)
      await refuse('not a MAAR of the domain')
      return false
    }
    const own = this.init.membership.certificate
    if (own === undefined) {
      await refuse('this MAAR has no certificate yet')
      return false
    }
    const key = new TextEncoder().encode(header.key)
    if (header.op === 'get') {
      const held = this.init.store.get(key)
      await answers.push(Promise.resolve(held === undefined ? [ABSENT, own] : [FOUND, own, held.bytes]))
      lookupStep('serve-queued', peer)
    } else {
      const record = (await lp.read({ signal })).subarray()
      await answers.push(this.offer(peer, key, record, own))
    }
    return true
  }

  private async offer (peer: string, key: Uint8Array, record: Uint8Array, own: Uint8Array): Promise<Uint8Array[]> {
    try {
      const result = await this.init.store.offer(key, record)
      if (!result.stored && result.reason === 'stale') return [encode({ ok: false, error: `stale: sequence ${result.entry.record.sequence} is held` })]
      if (result.stored) await this.init.onStored?.(key, result.entry)
      return [STORED, own]
    } catch (err) {
      if (!(err instanceof RecordError)) throw err
      this.log(`dropped record from ${peer}: ${err.message}`)
      return [encode({ ok: false, error: err.message })]
    }
  }
}

/**
 * The certificate the peer at the other end of one kept stream sends with every request or
 * answer: checked in full (TrustStore.verify: signature, domain, peer id) when its bytes are new
 * on this stream, and afterwards only for the time it is valid while the same bytes come back.
 * Throws the CertificateError of a certificate that does not prove the peer a member.
 */
class StreamCertificate {
  private known: { bytes: Uint8Array, notBefore: number, notAfter: number } | undefined

  constructor (private readonly trust: TrustStore, private readonly peerId: string) {}

  async check (bytes: Uint8Array): Promise<void> {
    const known = this.known
    const now = Date.now()
    if (known !== undefined && now >= known.notBefore && now <= known.notAfter && bytesEqual(known.bytes, bytes)) return
    this.known = undefined
    const cert = await this.trust.verify(bytes, { peerId: this.peerId, now })
    // A copy: the frame's buffer belongs to the stream.
    this.known = { bytes: Uint8Array.from(bytes), notBefore: cert.notBefore, notAfter: cert.notAfter }
  }
}

export interface RecordAnswer { header: ResponseHeader, record?: Uint8Array }

/**
 * Reads one answer: its header, then (ok) the responder's certificate, checked before anything
 * more is read (a CertificateError fails the stream), then the record when found.
 */
function answerReader (peer: PeerId, trust: TrustStore): AnswerReader<RecordAnswer> {
  const responder = new StreamCertificate(trust, peer.toString())
  return async lp => {
    const header = decodeResponseHeader((await lp.read()).subarray())
    if (header.ok) await responder.check((await lp.read()).subarray())
    const record = header.ok && header.found === true ? (await lp.read()).subarray() : undefined
    return record === undefined ? { header } : { header, record }
  }
}

/** One kept record stream per peer and node (doc/ARCHITECTURE.md "One stream per peer, pipelined"). */
class RecordStreams {
  private readonly open = new Map<string, Promise<PipelinedClient<RecordAnswer>>>()

  constructor (private readonly node: Libp2p) {}

  /** The kept stream to `peer`, or a new one (`fresh`). */
  async get (peer: PeerId, signal: AbortSignal, trust: TrustStore): Promise<{ client: PipelinedClient<RecordAnswer>, fresh: boolean }> {
    const id = peer.toString()
    const kept = this.open.get(id)
    if (kept !== undefined) {
      const client = await kept.catch(() => undefined)
      // A stream with MAX_UNANSWERED requests waiting has a peer that stopped answering: it goes.
      if (client?.usable === true && client.unanswered < MAX_UNANSWERED) return { client, fresh: false }
      client?.reset(new Error(`${MAX_UNANSWERED} record requests unanswered`))
      if (this.open.get(id) === kept) this.open.delete(id)
    }
    const opening = this.dial(peer, signal, trust)
    this.open.set(id, opening)
    opening.catch(() => { if (this.open.get(id) === opening) this.open.delete(id) })
    return { client: await opening, fresh: true }
  }

  drop (peer: PeerId, client: PipelinedClient<RecordAnswer>): void {
    const id = peer.toString()
    void this.open.get(id)?.then(c => { if (c === client) this.open.delete(id) }, () => {})
  }

  private async dial (peer: PeerId, signal: AbortSignal, trust: TrustStore): Promise<PipelinedClient<RecordAnswer>> {
    const stream = await this.node.dialProtocol(peer, RECORD_PROTOCOL, { signal })
    stream.inactivityTimeout = IDLE_MS
    const client = new PipelinedClient(stream, lpStream(stream, { maxDataLength: MAX_FRAME }), answerReader(peer, trust))
    // Closed by either end (idle, reset, a peer that answers once and closes): not reused.
    stream.addEventListener('close', () => { client.close(); this.drop(peer, client) }, { once: true })
    stream.addEventListener('remoteCloseWrite', () => { this.drop(peer, client) }, { once: true })
    return client
  }
}

const streamsOf = new WeakMap<Libp2p, RecordStreams>()

/**
 * One request to one peer on the kept stream to it (opened when there is none): writes the
 * frames, takes the answer in its turn. An accepted answer (ok) counts only when the responder's
 * certificate proves it a MAAR of a trusted domain for `peer`; otherwise this throws the
 * CertificateError, before any record is read, and the stream is reset. A kept stream that failed
 * since its last use is replaced once by a fresh one; a request that times out leaves the stream
 * in place (its answer, when it comes, is read and dropped in its turn).
 */
export async function requestRecord (node: Libp2p, peer: PeerId, frames: Uint8Array[], signal: AbortSignal, trust: TrustStore): Promise<RecordAnswer> {
  let streams = streamsOf.get(node)
  if (streams === undefined) {
    streams = new RecordStreams(node)
    streamsOf.set(node, streams)
  }
  while (true) {
    const { client, fresh } = await streams.get(peer, signal, trust)
    try {
      return await client.request(frames, signal)
    } catch (err) {
      if (signal.aborted) throw err
      streams.drop(peer, client)
      client.reset(err instanceof Error ? err : new Error(String(err)))
      if (fresh || err instanceof CertificateError) throw err
    }
  }
}

export function requestFrames (header: RequestHeader, certificate: Uint8Array, record?: Uint8Array): Uint8Array[] {
  return record === undefined ? [encode(header), certificate] : [encode(header), certificate, record]
}
