/** Small strict helpers shared by the certificate, record and protocol codecs. */
import { RecordEnvelope } from '@libp2p/peer-record'
import { canonicalIpv6, formatPrefix, parsePrefix } from '@dmm-mesh/wire'

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

/** "2001:db8:1::/64" exactly as RFC 5952 writes it, host bits clear. */
export function isCanonicalPrefix (text: unknown): text is string {
  if (typeof text !== 'string' || text.length > 49) return false
  try {
    return formatPrefix(parsePrefix(text)) === text
  } catch {
    return false
  }
}

export function isCanonicalAddress (text: unknown): text is string {
  if (typeof text !== 'string' || text.length > 45) return false
  try {
    return canonicalIpv6(text) === text
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

/** Whether the envelope's signature verifies for `domain`; a key that cannot verify is a no. */
export async function signatureVerifies (envelope: RecordEnvelope, domain: string): Promise<boolean> {
  try {
    return await envelope.validate(domain)
  } catch {
    return false
  }
}
