/**
 * `/dmm/record/1.0.0`: a one-shot request/response between MAARs of a domain that reads or
 * writes a session record straight from/to a peer's SessionStore, so that the handover's lookup
 * costs one round trip instead of a Kademlia walk (doc/ARCHITECTURE.md "A handover", GET step).
 *
 * Frames are length-prefixed (lpStream). Request: a JSON header {op: "get"|"put", key}, then the
 * requester's domain certificate, then (put only) the sealed record. Response: a JSON header
 * {ok, found?, error?}; when ok, the responder's domain certificate; then the record when found.
 * Membership is mutual: a requester without a valid certificate of a trusted domain for its peer
 * id is refused before anything is read or answered, and a requester ignores every answer, "not
 * found" included, whose certificate does not prove the responder a member (requestRecord throws
 * CertificateError), since a "not found" from an outsider would turn a handover into a first
 * attach. Every frame is bounded and a frame announced over the bound resets the stream at once;
 * every record received is validated (openSessionRecord) before it is kept.
 */
import { lpStream } from '@libp2p/utils'
import type { Connection, Libp2p, PeerId, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import { CertificateError, MAX_CERTIFICATE_BYTES } from './domain.js'
import type { TrustStore } from './domain.js'
import type { MembershipGate } from './membership.js'
import { LIMITS, RecordError, SESSION_PREFIX } from './records.js'
import type { SessionStore } from './record-store.js'
import { strictObject } from './util.js'

export const RECORD_PROTOCOL = '/dmm/record/1.0.0'
const MAX_HEADER = 512
export const MAX_FRAME = Math.max(LIMITS.recordBytes, MAX_CERTIFICATE_BYTES, MAX_HEADER)
const SERVE_TIMEOUT_MS = 5000
const KEY_PATTERN = new RegExp(`^${SESSION_PREFIX}[0-9a-f]{64}$`)

export type RequestHeader = { op: 'get', key: string } | { op: 'put', key: string }
export interface ResponseHeader { ok: boolean, found?: boolean, error?: string }

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

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

  constructor (private readonly components: RecordServerComponents, private readonly init: { trust: TrustStore, store: SessionStore, membership: Pick<MembershipGate, 'certificate'> }) {}

  isStarted (): boolean { return this.started }

  async start (): Promise<void> {
    await this.components.registrar.handle(RECORD_PROTOCOL, (stream, connection) => {
      this.serve(stream, connection).catch(err => {
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

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const signal = AbortSignal.timeout(SERVE_TIMEOUT_MS)
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
    const own = this.init.membership.certificate
    const answer = async (h: ResponseHeader, record?: Uint8Array): Promise<void> => {
      const frames = [encode(h)]
      if (h.ok && own !== undefined) frames.push(own)
      if (record !== undefined) frames.push(record)
      await lp.writeV(frames, { signal })
      await stream.close({ signal })
    }
    const headerFrame = (await lp.read({ signal })).subarray()
    let header: RequestHeader
    try {
      header = decodeRequestHeader(headerFrame)
    } catch (err) {
      this.log(`refused record request from ${peer}: bad request: ${(err as Error).message}`)
      await answer({ ok: false, error: 'bad request' })
      return
    }
    const certificate = (await lp.read({ signal })).subarray()
    try {
      await this.init.trust.verify(certificate, { peerId: peer })
    } catch (err) {
      if (!(err instanceof CertificateError)) throw err
      this.log(`refused record request from ${peer}: not a MAAR of the domain: ${err.message}`)
      await answer({ ok: false, error: 'not a MAAR of the domain' })
      return
    }
    if (own === undefined) {
      await answer({ ok: false, error: 'this MAAR has no certificate yet' })
      return
    }
    const key = new TextEncoder().encode(header.key)
    if (header.op === 'get') {
      const held = this.init.store.get(key)
      await answer({ ok: true, found: held !== undefined }, held?.bytes)
      return
    }
    const record = (await lp.read({ signal })).subarray()
    try {
      const result = await this.init.store.offer(key, record)
      if (!result.stored && result.reason === 'stale') {
        await answer({ ok: false, error: `stale: sequence ${result.entry.record.sequence} is held` })
        return
      }
      await answer({ ok: true })
    } catch (err) {
      if (!(err instanceof RecordError)) throw err
      this.log(`dropped record from ${peer}: ${err.message}`)
      await answer({ ok: false, error: err.message })
    }
  }
}

/**
 * One request to one peer: writes the frames, reads the answer (and the record when found). An
 * accepted answer (ok) counts only when the responder's certificate proves it a MAAR of a trusted
 * domain for `peer`; otherwise this throws the CertificateError, before any record is read.
 */
export async function requestRecord (node: Libp2p, peer: PeerId, frames: Uint8Array[], signal: AbortSignal, trust: TrustStore): Promise<{ header: ResponseHeader, record?: Uint8Array }> {
  const stream = await node.dialProtocol(peer, RECORD_PROTOCOL, { signal })
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
    await lp.writeV(frames, { signal })
    const header = decodeResponseHeader((await lp.read({ signal })).subarray())
    if (header.ok) await trust.verify((await lp.read({ signal })).subarray(), { peerId: peer.toString() })
    const record = header.ok && header.found === true ? (await lp.read({ signal })).subarray() : undefined
    stream.close().catch(() => {})
    return record === undefined ? { header } : { header, record }
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}

export function requestFrames (header: RequestHeader, certificate: Uint8Array, record?: Uint8Array): Uint8Array[] {
  return record === undefined ? [encode(header), certificate] : [encode(header), certificate, record]
}
