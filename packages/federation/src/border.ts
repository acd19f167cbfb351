/**
 * `/dmm/border/1.0.0` (doc/ARCHITECTURE.md "Federation"): a MAAR of domain B asks a gateway of
 * domain A — any MAAR of A — for an MN's session. The gateway looks the MN up in its own domain
 * and answers with A's session record exactly as A's serving MAAR signed it (with the
 * certificates that prove it), so B believes A's operator key, never the gateway's word.
 *
 * Frames are length-prefixed. Request: a JSON header {mnId}, then the requester's certificate.
 * Response: a JSON header {ok, found?, refused?, error?}, the responder's certificate, then the
 * record when found. The gateway answers only a requester that an agreement of its operator
 * accepts (FederationAgreements.authorize): anything else is `refused` with the reason, which
 * names the agreement. Frames are bounded; nothing is kept from a request.
 */
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CertificateError, LIMITS, MAX_CERTIFICATE_BYTES, checkMnId } from '@dmm-mesh/discovery'
import type { MaarCertificate, TrustStore } from '@dmm-mesh/discovery'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { FederationAgreements } from './agreements.js'
import { strictFields } from './fields.js'

export const BORDER_PROTOCOL = '/dmm/border/1.0.0'
const MAX_HEADER = 1024
const MAX_FRAME = Math.max(LIMITS.recordBytes, MAX_CERTIFICATE_BYTES, MAX_HEADER)
const SERVE_TIMEOUT_MS = 5000

export interface BorderAnswer { ok: boolean, found?: boolean, refused?: boolean, error?: string }

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

function decodeHeader (bytes: Uint8Array, allowed: string[], what: string): Record<string, unknown> {
  if (bytes.length > MAX_HEADER) throw new Error(`${what} header over ${MAX_HEADER} bytes`)
  return strictFields(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)), allowed, `${what} header`, detail => new Error(detail))
}

function decodeAnswer (bytes: Uint8Array): BorderAnswer {
  const h = decodeHeader(bytes, ['ok', 'found', 'refused', 'error'], 'border answer')
  if (typeof h.ok !== 'boolean') throw new Error('border answer lacks "ok"')
  return {
    ok: h.ok,
    ...(h.found === true ? { found: true } : {}),
    ...(h.refused === true ? { refused: true } : {}),
    ...(typeof h.error === 'string' ? { error: h.error.slice(0, 300) } : {})
  }
}

export interface BorderServerInit {
  trust: TrustStore
  agreements: FederationAgreements
  /** This MAAR's certificate, sent with every answer. */
  certificate: Uint8Array
  /** The MN's session record in this domain as signed bytes, or undefined when it has none. */
  lookupLocal: (mnId: string) => Promise<Uint8Array | undefined>
  log: (line: string) => void
}

/** Serves border lookups on the MAAR's libp2p node to MAARs of accepted domains. */
export class BorderServer {
  constructor (private readonly node: Libp2p, private readonly init: BorderServerInit) {}

  async start (): Promise<void> {
    await this.node.handle(BORDER_PROTOCOL, (stream, connection) => {
      this.serve(stream, connection).catch(err => {
        this.init.log(`reset border stream from ${connection.remotePeer.toString()}: ${err instanceof Error ? err.message : String(err)}`)
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      })
    }, { maxInboundStreams: 64 })
  }

  async stop (): Promise<void> {
    await this.node.unhandle(BORDER_PROTOCOL)
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const signal = AbortSignal.timeout(SERVE_TIMEOUT_MS)
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
    const answer = async (h: BorderAnswer, record?: Uint8Array): Promise<void> => {
      await lp.writeV(record === undefined ? [encode(h), this.init.certificate] : [encode(h), this.init.certificate, record], { signal })
      await stream.close({ signal })
    }
    const refuse = async (why: string): Promise<void> => {
      this.init.log(`refused border lookup from ${peer}: ${why}`)
      await answer({ ok: false, refused: true, error: why })
    }
    let mnId: string
    try {
      const h = decodeHeader((await lp.read({ signal })).subarray(), ['mnId'], 'border request')
      checkMnId(h.mnId)
      mnId = h.mnId
    } catch (err) {
      await refuse(`bad request: ${err instanceof Error ? err.message : String(err)}`)
      return
    }
    let cert: MaarCertificate
    try {
      cert = await this.init.trust.verify((await lp.read({ signal })).subarray(), { peerId: peer, federated: true })
    } catch (err) {
      if (!(err instanceof CertificateError)) throw err
      await refuse(err.message)
      return
    }
    const allowed = this.init.agreements.authorize(cert, [], Date.now(), 'lookup')
    if ('refused' in allowed) {
      await refuse(allowed.refused)
      return
    }
    const record = await this.init.lookupLocal(mnId).catch(err => { throw new Error(`local lookup of ${mnId} failed: ${err instanceof Error ? err.message : String(err)}`) })
    await answer({ ok: true, found: record !== undefined }, record)
  }
}

/** One gateway's answer, its certificate verified (federated) for the peer dialled. */
export interface GatewayAnswer { answer: BorderAnswer, gateway: MaarCertificate, record?: Uint8Array }

/** The peer id a gateway multiaddr ends with (/p2p/<id>); throws naming the address otherwise. */
export function gatewayPeer (address: string): { peerId: string, address: string } {
  const peerId = multiaddr(address).getComponents().findLast(c => c.name === 'p2p')?.value
  if (peerId === undefined) throw new TypeError(`gateway ${address} must end with /p2p/<peer id>`)
  peerIdFromString(peerId)
  return { peerId, address }
}

/** Asks one gateway for the MN's session; throws when it cannot be reached or does not prove itself. */
export async function askGateway (node: Libp2p, gateway: string, mnId: string, certificate: Uint8Array, trust: TrustStore, signal: AbortSignal): Promise<GatewayAnswer> {
  const { peerId } = gatewayPeer(gateway)
  const stream = await node.dialProtocol(multiaddr(gateway), BORDER_PROTOCOL, { signal })
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
    await lp.writeV([encode({ mnId }), certificate], { signal })
    const answer = decodeAnswer((await lp.read({ signal })).subarray())
    const cert = await trust.verify((await lp.read({ signal })).subarray(), { peerId, federated: true })
    const record = answer.ok && answer.found === true ? (await lp.read({ signal })).subarray() : undefined
    stream.close().catch(() => {})
    return record === undefined ? { answer, gateway: cert } : { answer, gateway: cert, record }
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
