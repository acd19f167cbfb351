/**
 * The MN's mobility session record (doc/ARCHITECTURE.md "Trust"): key /dmm/session/<sha256(MN-ID)>,
 * value a RecordEnvelope signed by the publishing MAAR whose payload holds the record and the
 * domain certificates that prove it (the signer's and each anchor's). Anyone holding the record
 * can check it with nothing but the TrustStore: no peer is believed on its word.
 */
import { createHash } from 'node:crypto'
import { RecordEnvelope } from '@libp2p/peer-record'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { cachedByText } from '@dmm-mesh/wire'
import type { MaarRef } from '@dmm-mesh/wire'
import type { PrivateKey, PublicKey, Record as EnvelopeRecord } from '@libp2p/interface'
import { CertificateError, MAX_CERTIFICATE_BYTES } from './domain.js'
import type { MaarCertificate, TrustStore } from './domain.js'
import { bytesEqual, fastSigner, fromBase64, isCanonicalAddress, isCanonicalPrefix, openEnvelope, strictObject, toBase64 } from './util.js'

/** An anchor of the session: the MAAR (wire's MaarRef), the prefix it anchors and for how long (s). */
export interface AnchorRecord extends MaarRef { prefix: string, lifetime: number }
export interface SessionRecord {
  mnId: string
  sequence: number
  issuedAt: number
  /** null = the session is withdrawn. */
  serving: MaarRef | null
  anchors: AnchorRecord[]
}

const RECORD_DOMAIN = 'dmm-mesh/session-record'
const RECORD_CODEC = new TextEncoder().encode('/dmm/session/1')
export const SESSION_PREFIX = '/dmm/session/'
/** Bounds so that hostile records cannot blow memory or CPU. */
export const LIMITS = {
  recordBytes: 32 * 1024,
  /**
   * RFC 4283 §3: the MN Identifier option's 8-bit Option Length counts the Subtype octet and the
   * Identifier, so an identifier has at most 254 octets (the limit the wire codec enforces too).
   */
  mnIdBytes: 254,
  anchors: 16,
  certificates: 17,
  multiaddrs: 8,
  multiaddrLength: 256,
  /** RFC 5213 §8.1: lifetime is 16 bits in units of 4 s. */
  lifetime: 0xffff * 4
}

/**
 * Highest session sequence a record may carry. A MAAR adds one per registration of the MN, so
 * 2^32 - 1 is never reached honestly; a bound far below 2^53 keeps `sequence + 1` an exact
 * integer that still validates, so a record near Number.MAX_SAFE_INTEGER cannot poison every
 * later attach of the MN.
 */
export const MAX_SESSION_SEQUENCE = 2 ** 32 - 1

export type RecordErrorReason =
  'oversize' | 'malformed' | 'bad-signature' | 'bad-certificate' | 'signer-not-in-domain' | 'signer-not-maar' | 'signer-not-serving' |
  'anchor-without-certificate' | 'anchor-outside-pools' | 'address-not-certified' | 'wrong-key' | 'stale'

export class RecordError extends Error {
  constructor (readonly reason: RecordErrorReason, detail: string) {
    super(`session record ${reason}: ${detail}`)
    this.name = 'RecordError'
  }
}

/** UTF-8 octets of an MN-ID, the unit RFC 4283 §3 counts (not JavaScript characters). */
export function mnIdOctets (mnId: string): number {
  return Buffer.byteLength(mnId, 'utf8')
}

/**
 * The MN-ID rule of records and of the MAAR's attach: 1..254 UTF-8 octets (RFC 4283 §3) with no
 * lone surrogate (it has no UTF-8 form: two such MN-IDs would share one session key). Throws a
 * RecordError('malformed') saying what is wrong.
 */
export function checkMnId (mnId: unknown): asserts mnId is string {
  if (typeof mnId !== 'string' || mnId.length === 0) throw new RecordError('malformed', 'mnId must be non-empty text')
  if (/[\uD800-\uDFFF]/u.test(mnId)) throw new RecordError('malformed', 'mnId holds a lone surrogate (not encodable as UTF-8)')
  const octets = mnIdOctets(mnId)
  if (octets > LIMITS.mnIdBytes) throw new RecordError('malformed', `mnId is ${octets} UTF-8 octets, at most ${LIMITS.mnIdBytes} (RFC 4283 §3)`)
}

/** utf8 "/dmm/session/<hex sha256(mnId)>" */
export function sessionKey (mnId: string): Uint8Array {
  return new TextEncoder().encode(SESSION_PREFIX + createHash('sha256').update(mnId, 'utf8').digest('hex'))
}

/** True when `a` supersedes `b`: higher sequence, then newer issuedAt. */
export function isNewer (a: Pick<SessionRecord, 'sequence' | 'issuedAt'>, b: Pick<SessionRecord, 'sequence' | 'issuedAt'>): boolean {
  return a.sequence > b.sequence || (a.sequence === b.sequence && a.issuedAt > b.issuedAt)
}

class SessionPayload implements EnvelopeRecord {
  readonly domain = RECORD_DOMAIN
  readonly codec = RECORD_CODEC
  constructor (private readonly bytes: Uint8Array) {}
  marshal (): Uint8Array { return this.bytes }
  equals (other: EnvelopeRecord): boolean { return other instanceof SessionPayload && bytesEqual(other.bytes, this.bytes) }
}

export async function sealSessionRecord (record: SessionRecord, signer: PrivateKey, certificates: Uint8Array[]): Promise<Uint8Array> {
  checkRecord(record) // refuse to sign what no validator would accept
  const unique = dedupeBytes(certificates)
  if (unique.length > LIMITS.certificates) throw new RecordError('oversize', `${unique.length} certificates, at most ${LIMITS.certificates}`)
  const payload = new TextEncoder().encode(JSON.stringify({ record, certificates: unique.map(toBase64) }))
  const bytes = (await RecordEnvelope.seal(new SessionPayload(payload), fastSigner(signer))).marshal()
  if (bytes.length > LIMITS.recordBytes) throw new RecordError('oversize', `${bytes.length} bytes, at most ${LIMITS.recordBytes}`)
  return bytes
}

/** Reads the record without checking any signature: only for a copy this node validated before. */
export function peekSessionRecord (bytes: Uint8Array): SessionRecord {
  const envelope = RecordEnvelope.createFromProtobuf(bytes)
  return decodePayload(envelope.payload).record
}

export async function openSessionRecord (bytes: Uint8Array, trust: TrustStore, opts: { key?: Uint8Array, now?: number } = {}): Promise<{ record: SessionRecord, signer: string }> {
  if (!(bytes instanceof Uint8Array)) throw new RecordError('malformed', 'record must be bytes')
  if (bytes.length > LIMITS.recordBytes) throw new RecordError('oversize', `${bytes.length} bytes, at most ${LIMITS.recordBytes}`)
  const envelope = openEnvelope(bytes, RECORD_CODEC, 'a session record', detail => new RecordError('malformed', detail))
  const { record, certificates } = decodePayload(envelope.payload)
  if (opts.key !== undefined && !bytesEqual(opts.key, sessionKey(record.mnId))) {
    throw new RecordError('wrong-key', `record of ${JSON.stringify(record.mnId).slice(0, 60)} stored under another MN's key`)
  }
  if (!(await trust.signatureVerifies(bytes, envelope, RECORD_DOMAIN))) throw new RecordError('bad-signature', 'envelope signature does not verify')
  const signer = signerId(envelope.publicKey)

  const certs: MaarCertificate[] = []
  for (const c of certificates) {
    try {
      // Anchors may be a federated domain's MAARs (doc/ARCHITECTURE.md "Federation").
      certs.push(await trust.verify(c, { federated: true, ...(opts.now !== undefined ? { now: opts.now } : {}) }))
    } catch (err) {
      // An expired or foreign certificate proves nothing; the checks below say what is missing.
      if (!(err instanceof CertificateError)) throw err
    }
  }
  if (!certs.some(c => c.peerId === signer)) {
    throw new RecordError('signer-not-in-domain', `signer ${signer} carries no valid certificate of a trusted domain`)
  }
  // Only a MAAR serves MNs: a CMD (draft-bernardos-dmm-pmip §3) keeps sessions but never signs them.
  if (!certs.some(c => c.peerId === signer && c.role === 'maar')) {
    throw new RecordError('signer-not-maar', `signer ${signer} is certified as ${certs.find(c => c.peerId === signer)?.role ?? 'unknown'}, not as a MAAR`)
  }
  if (record.serving !== null && record.serving.peerId !== signer) {
    throw new RecordError('signer-not-serving', `signed by ${signer} but names ${record.serving.peerId} as serving MAAR`)
  }
  const serving = record.serving
  if (serving !== null && !certs.some(c => c.peerId === signer && trust.certifiesAddress(c, serving.address))) {
    throw new RecordError('address-not-certified', `serving address ${serving.address} is not a certified tunnel address of ${signer}`)
  }
  for (const a of record.anchors) {
    const own = certs.filter(c => c.peerId === a.peerId)
    if (own.length === 0) throw new RecordError('anchor-without-certificate', `anchor ${a.peerId} of ${a.prefix} has no valid certificate in the record`)
    if (!own.some(c => trust.covers(c, [a.prefix]))) throw new RecordError('anchor-outside-pools', `${a.prefix} is not in the pools of ${a.peerId}`)
    // A tunnel towards a forged address would steal the prefix's traffic.
    if (!own.some(c => trust.certifiesAddress(c, a.address))) throw new RecordError('address-not-certified', `anchor address ${a.address} of ${a.prefix} is not a certified tunnel address of ${a.peerId}`)
  }
  return { record, signer }
}

/**
 * The certificates a record carries (its signer's and its anchors'), for a record already
 * validated by openSessionRecord: a serving MAAR that republishes a session must prove the same
 * anchors, including one it could not reach yet (a pending anchor it never met).
 */
export function recordCertificates (bytes: Uint8Array): Uint8Array[] {
  return decodePayload(openEnvelope(bytes, RECORD_CODEC, 'a session record', detail => new RecordError('malformed', detail)).payload).certificates
}

function decodePayload (payload: Uint8Array): { record: SessionRecord, certificates: Uint8Array[] } {
  let body: Record<string, unknown>
  try {
    body = strictObject(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)), ['record', 'certificates'], 'payload')
  } catch (err) {
    throw new RecordError('malformed', (err as Error).message)
  }
  const certs = body.certificates
  if (!Array.isArray(certs) || certs.length > LIMITS.certificates) throw new RecordError('malformed', `certificates must be a list of at most ${LIMITS.certificates}`)
  const certificates = certs.map((c: unknown) => {
    if (typeof c !== 'string' || c.length > MAX_CERTIFICATE_BYTES * 2) throw new RecordError('malformed', 'a certificate is not base64 of at most 2048 bytes')
    return certificateBytes(c)
  })
  checkRecord(body.record)
  return { record: body.record, certificates }
}

/** Strict schema: exact fields, types, canonical text and bounded sizes. */
export function checkRecord (value: unknown): asserts value is SessionRecord {
  const bad = (detail: string): never => { throw new RecordError('malformed', detail) }
  let r: Record<string, unknown> = {}
  try { r = strictObject(value, ['mnId', 'sequence', 'issuedAt', 'serving', 'anchors'], 'record') } catch (err) { bad((err as Error).message) }
  checkMnId(r.mnId)
  if (!Number.isInteger(r.sequence) || (r.sequence as number) < 0 || (r.sequence as number) > MAX_SESSION_SEQUENCE) bad(`sequence must be an integer 0..${MAX_SESSION_SEQUENCE}`)
  if (!Number.isSafeInteger(r.issuedAt) || (r.issuedAt as number) < 0) bad('issuedAt must be a time in ms')
  if (r.serving !== null) checkMaarRef(r.serving, 'serving', ['peerId', 'address', 'multiaddrs'])
  if (!Array.isArray(r.anchors) || r.anchors.length > LIMITS.anchors) bad(`anchors must be a list of at most ${LIMITS.anchors}`)
  const anchors = r.anchors as unknown[]
  if (r.serving === null && anchors.length > 0) bad('a withdrawn record (serving null) lists no anchors')
  anchors.forEach((a, i) => {
    checkMaarRef(a, `anchors[${i}]`, ['peerId', 'address', 'multiaddrs', 'prefix', 'lifetime'])
    const { prefix, lifetime } = a as AnchorRecord
    if (!isCanonicalPrefix(prefix)) bad(`anchors[${i}].prefix must be a canonical IPv6 prefix`)
    if (!Number.isInteger(lifetime) || lifetime < 0 || lifetime > LIMITS.lifetime) bad(`anchors[${i}].lifetime must be 0..${LIMITS.lifetime} s`)
  })
  if (new Set(anchors.map(a => (a as AnchorRecord).prefix)).size !== anchors.length) bad('a prefix is anchored twice')
}

/**
 * Peer ids and multiaddrs already parsed once (a pure check: the same text always parses the
 * same way; wire's bounded cache keeps only texts that parsed). Every record names the same few
 * MAARs, and parsing them was a tenth of the CPU of opening a record.
 */
const parsesAsPeerId = cachedByText((text: string): true => { peerIdFromString(text); return true })
const parsesAsMultiaddr = cachedByText((text: string): true => { multiaddr(text); return true })

/**
 * A certificate's bytes from its base64 text, memoized like the peer ids above: every record of
 * the domain carries the same few certificates, and the strict base64 check of each was a tenth
 * of opening a record. The bytes are shared: nothing writes into a certificate.
 */
const certificateBytes = cachedByText((text: string): Uint8Array => {
  const bytes = fromBase64(text)
  if (bytes === undefined) throw new RecordError('malformed', 'a certificate is not base64 of at most 2048 bytes')
  return bytes
})

/** The signer's peer id text by its key, memoized (deriving it hashed and base58-encoded the key every time); bounded. */
const signerIds = new Map<string, string>()
function signerId (key: PublicKey): string {
  const id = `${key.type} ${toBase64(key.raw)}`
  let text = signerIds.get(id)
  if (text === undefined) {
    text = peerIdFromPublicKey(key).toString()
    if (signerIds.size >= 1024) signerIds.clear()
    signerIds.set(id, text)
  }
  return text
}

function checkMaarRef (value: unknown, what: string, fields: string[]): void {
  const bad = (detail: string): never => { throw new RecordError('malformed', `${what}: ${detail}`) }
  let p: Record<string, unknown> = {}
  try { p = strictObject(value, fields, what) } catch (err) { bad((err as Error).message) }
  if (typeof p.peerId !== 'string' || p.peerId.length > 128) bad('peerId must be a peer id')
  try { parsesAsPeerId(p.peerId as string) } catch { bad('peerId must be a peer id') }
  if (!isCanonicalAddress(p.address)) bad('address must be a canonical IPv6 address')
  if (!Array.isArray(p.multiaddrs) || p.multiaddrs.length > LIMITS.multiaddrs) bad(`multiaddrs must be a list of at most ${LIMITS.multiaddrs}`)
  for (const m of p.multiaddrs as unknown[]) {
    if (typeof m !== 'string' || m.length > LIMITS.multiaddrLength) bad('a multiaddr is not a short string')
    try { parsesAsMultiaddr(m as string) } catch { bad(`${JSON.stringify(m).slice(0, 60)} is not a multiaddr`) }
  }
}

function dedupeBytes (list: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>()
  return list.filter(b => {
    const k = toBase64(b)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
