/** Small strict helpers shared by the certificate, record and protocol codecs. */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { RecordEnvelope } from '@libp2p/peer-record'
import { cachedByText, canonicalIpv6, formatPrefix, parsePrefix } from '@dmm-mesh/wire'

export function toBase64 (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** Strict base64 (Buffer.from silently skips garbage); undefined when the text is not base64. */
export function fromBase64 (text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined
  return new Uint8Array(Buffer.from(text, 'base64'))
}

/** Parses a JSON object and refuses keys outside `allowed` (strict schema, no smuggled fields). */
export function parseStrictJson (text: string, allowed: string[]): Record<string, unknown> {
  const parsed: unknown = JSON.parse(text)
  return strictObject(parsed, allowed, 'document')
}

export function strictObject (value: unknown, allowed: string[], what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${what} must be a JSON object`)
  const extra = Object.keys(value).filter(k => !allowed.includes(k))
  if (extra.length > 0) throw new TypeError(`${what} has unknown field ${JSON.stringify(extra[0]).slice(0, 40)}`)
  return value as Record<string, unknown>
}

/**
 * The RFC 5952 text of an IPv6 address, memoized (a pure function: every record and certificate
 * names the same few MAARs' addresses and prefixes, and parsing and printing them again was a
 * quarter of the CPU of opening a record). Throws on text that is not an address.
 */
export const canonicalAddressText: (text: string) => string = cachedByText(canonicalIpv6)
/** The same for prefixes (host bits cleared). */
const canonicalPrefixText = cachedByText((text: string): string => formatPrefix(parsePrefix(text)))

/** "2001:db8:1::/64" exactly as RFC 5952 writes it, host bits clear. */
export function isCanonicalPrefix (text: unknown): text is string {
  if (typeof text !== 'string' || text.length > 49) return false
  try {
    return canonicalPrefixText(text) === text
  } catch {
    return false
  }
}

export function isCanonicalAddress (text: unknown): text is string {
  if (typeof text !== 'string' || text.length > 45) return false
  try {
    return canonicalAddressText(text) === text
  } catch {
    return false
  }
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  // Buffer.compare runs natively: an envelope of a few KB is compared on every record opened.
  return a.length === b.length && Buffer.compare(a, b) === 0
}

/**
 * The signed envelope in `bytes` when it holds `codec` and is encoded the one canonical way
 * (a re-encoded envelope gives back the very bytes: no malleability); otherwise `malformed`
 * builds the error to throw. The signature is checked apart, by signatureVerifies().
 */
export function openEnvelope (bytes: Uint8Array, codec: Uint8Array, holds: string, malformed: (detail: string) => Error): RecordEnvelope {
  let envelope: RecordEnvelope
  try {
    envelope = RecordEnvelope.createFromProtobuf(bytes)
  } catch (err) {
    throw malformed(`not a signed envelope: ${(err as Error).message}`)
  }
  if (!bytesEqual(envelope.marshal(), bytes)) throw malformed('envelope is not canonically encoded')
  if (!bytesEqual(envelope.payloadType, codec)) throw malformed(`envelope does not hold ${holds}`)
  return envelope
}

/**
 * Whether the envelope's signature verifies for `domain`; a key that cannot verify is a no.
 * Ed25519 keys (every MAAR's and operator's) are checked with node:crypto against a KeyObject
 * made once per key: `@libp2p/crypto` imports the key from a JWK on every check, which cost
 * three times the check itself (README "Benchmarks"). The bytes signed are libp2p's envelope
 * payload, as RecordEnvelope.validate builds them; other key types go through it.
 */
export async function signatureVerifies (envelope: RecordEnvelope, domain: string): Promise<boolean> {
  try {
    const key = envelope.publicKey
    if (key.type !== 'Ed25519') return await envelope.validate(domain)
    return verify(null, envelopeSignedBytes(domain, envelope.payloadType, envelope.payload), ed25519KeyObject(key.raw), envelope.signature)
  } catch {
    return false
  }
}

/** RFC 8410 SubjectPublicKeyInfo of an Ed25519 key, before its 32 raw octets. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
/** A KeyObject per key, by the base64 of its raw octets; bounded: a domain has few keys, a hostile peer may send many. */
const ed25519KeyObjects = cachedByText((raw: string): KeyObject =>
  createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(raw, 'base64')]), format: 'der', type: 'spki' }), 1024)

function ed25519KeyObject (raw: Uint8Array): KeyObject {
  return ed25519KeyObjects(toBase64(raw))
}

/** Each Ed25519 key's signer, made once per key object (a MAAR keeps one for its life). */
const ed25519Signers = new WeakMap<PrivateKey, PrivateKey>()

/**
 * `key`, signing Ed25519 against a KeyObject made once per key: `@libp2p/crypto` imports the
 * private key from a JWK on every signature, as it does the public key on every check
 * (signatureVerifies), and a MAAR signs a record per handover. Ed25519 signatures are
 * deterministic (RFC 8032 §5.1.6), so the bytes are the same. Other key types sign as they are.
 */
export function fastSigner (key: PrivateKey): PrivateKey {
  if (key.type !== 'Ed25519') return key
  let signer = ed25519Signers.get(key)
  if (signer === undefined) {
    const b64url = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
    const keyObject = createPrivateKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', d: b64url(key.raw.subarray(0, 32)), x: b64url(key.publicKey.raw) } })
    signer = Object.assign(Object.create(key) as PrivateKey, { sign: (data: Uint8Array): Uint8Array => sign(null, data, keyObject) })
    ed25519Signers.set(key, signer)
  }
  return signer
}

/** The signed bytes of a libp2p envelope: varint length and value of the domain, the payload type and the payload. */
export function envelopeSignedBytes (domain: string, payloadType: Uint8Array, payload: Uint8Array): Buffer {
  const domainBytes = Buffer.from(domain, 'utf8')
  return Buffer.concat([varint(domainBytes.length), domainBytes, varint(payloadType.length), payloadType, varint(payload.length), payload])
}

function varint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Uint8Array.from(out)
}

/**
 * A signal that aborts after `ms` (with the TimeoutError AbortSignal.timeout gives) or with
 * `outer`, and `clear()` to drop it once the bounded work is done: an AbortSignal.timeout cannot
 * be cleared, and every one left to fire after a request that had long been answered built an
 * unused DOMException (a twentieth of a lookup's CPU, README "Benchmarks").
 */
export function timeoutSignal (ms: number, outer?: AbortSignal): { signal: AbortSignal, clear: () => void } {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')) }, ms)
  timer.unref()
  const onAbort = (): void => { controller.abort(outer?.reason) }
  if (outer?.aborted === true) onAbort()
  else outer?.addEventListener('abort', onAbort, { once: true })
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
    }
  }
}

/** `peers` without repeats, first occurrence kept, in order. */
export function uniquePeers (peers: PeerId[]): PeerId[] {
  const seen = new Set<string>()
  return peers.filter(p => !seen.has(p.toString()) && seen.add(p.toString()) !== undefined)
}
