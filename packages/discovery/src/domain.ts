/**
 * Domain membership is proven, not assumed (doc/ARCHITECTURE.md "Trust": a domain is a set of
 * MAARs trusted by one operator key). A MAAR certificate is a RecordEnvelope (@libp2p/peer-record)
 * signed by the operator key whose payload names the MAAR's peer id, the prefix pools it may
 * delegate and anchor, and a validity window. Every record and every peer request in the
 * discovery layer is checked against a TrustStore of operator keys.
 */
import { createHash } from 'node:crypto'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { RecordEnvelope } from '@libp2p/peer-record'
import { peerIdFromString } from '@libp2p/peer-id'
import { cachedByText, cachedPrefix, prefixContains } from '@dmm-mesh/wire'
import type { PrivateKey, PublicKey, Record as EnvelopeRecord } from '@libp2p/interface'
import { canonicalAddressText, fromBase64, isCanonicalAddress, isCanonicalPrefix, openEnvelope, parseStrictJson, signatureVerifies, toBase64 } from './util.js'

/** Envelope domain separation string and payload type of a certificate. */
const CERT_DOMAIN = 'dmm-mesh/maar-certificate'
const CERT_CODEC = new TextEncoder().encode('/dmm/cert/1')
export const MAX_CERTIFICATE_BYTES = 2048
const MAX_POOLS = 16
const MAX_ADDRESSES = 4
const MAX_DOMAIN_LENGTH = 253

export async function generateKey (): Promise<PrivateKey> {
  return await generateKeyPair('Ed25519')
}

export class KeyFileError extends Error {
  constructor (readonly path: string, readonly reason: string) {
    super(`key file ${path}: ${reason}`)
    this.name = 'KeyFileError'
  }
}

/** Writes `{ type, privateKey }` (base64 protobuf) readable by the owner only. */
export async function writeKeyFile (path: string, key: PrivateKey): Promise<void> {
  const body = JSON.stringify({ type: key.type, privateKey: toBase64(privateKeyToProtobuf(key)) }, null, 2) + '\n'
  await writeFile(path, body, { mode: 0o600 })
  await chmod(path, 0o600) // an existing file keeps its old mode otherwise
}

export async function readKeyFile (path: string): Promise<PrivateKey> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new KeyFileError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  if (text.length > 16384) throw new KeyFileError(path, 'too large for a key file')
  let parsed: Record<string, unknown>
  try {
    parsed = parseStrictJson(text, ['type', 'privateKey'])
  } catch (err) {
    throw new KeyFileError(path, `not a key file: ${(err as Error).message}`)
  }
  const { type, privateKey } = parsed
  if (typeof type !== 'string') throw new KeyFileError(path, '"type" must be a string such as "Ed25519"')
  if (typeof privateKey !== 'string') throw new KeyFileError(path, '"privateKey" must be a base64 string')
  const bytes = fromBase64(privateKey)
  if (bytes === undefined) throw new KeyFileError(path, '"privateKey" is not valid base64')
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KeyFileError(path, `"privateKey" is not a protobuf private key: ${(err as Error).message}`)
  }
  if (key.type !== type) throw new KeyFileError(path, `"type" says ${type} but the key is ${key.type}`)
  if (key.type !== 'Ed25519') throw new KeyFileError(path, `only Ed25519 keys are used here, got ${key.type}`)
  return key
}

/**
 * What a certified peer may act as (draft-bernardos-dmm-pmip §3, RFC 8885 §3): a MAAR anchors
 * and serves MNs from its pools; a CMD (Central Mobility Database, partially distributed mode)
 * keeps mobility sessions and relays signalling, and owns no pool.
 */
export type PeerRole = 'maar' | 'cmd'

export interface MaarCertificate {
  /** A certificate without the field is a MAAR's (files issued before roles keep working). */
  role: PeerRole
  domain: string
  peerId: string
  /** Empty for a CMD. */
  pools: string[]
  /** The MAAR's tunnel addresses: the only addresses it may give as its own in hellos, PBUs and records. */
  addresses: string[]
  notBefore: number
  notAfter: number
  /** Operator public key, base64 protobuf. */
  operator: string
}

export type CertificateErrorReason =
  'malformed' | 'bad-signature' | 'unknown-domain' | 'unknown-operator' | 'expired' | 'not-yet-valid' | 'peer-mismatch'

export class CertificateError extends Error {
  constructor (readonly reason: CertificateErrorReason, detail: string) {
    super(`certificate ${reason}: ${detail}`)
    this.name = 'CertificateError'
  }
}

/** The signed body: `role` is left out for a MAAR, so its bytes are those of a pre-role certificate. */
type CertificateBody = Omit<MaarCertificate, 'operator' | 'role'> & { role?: 'cmd' }

class CertificatePayload implements EnvelopeRecord {
  readonly domain = CERT_DOMAIN
  readonly codec = CERT_CODEC
  constructor (private readonly body: CertificateBody) {}
  marshal (): Uint8Array { return new TextEncoder().encode(JSON.stringify(this.body)) }
  equals (other: EnvelopeRecord): boolean { return other instanceof CertificatePayload && JSON.stringify(other.body) === JSON.stringify(this.body) }
}

/** Signs a certificate with the operator key; returns the envelope bytes. */
export async function issueCertificate (operatorKey: PrivateKey, c: { role?: PeerRole, domain: string, peerId: string, pools: string[], addresses: string[], notBefore?: number, notAfter: number }): Promise<Uint8Array> {
  const body: CertificateBody = {
    ...(c.role === 'cmd' ? { role: 'cmd' as const } : {}),
    domain: c.domain, peerId: c.peerId, pools: c.pools, addresses: c.addresses, notBefore: c.notBefore ?? Date.now(), notAfter: c.notAfter
  }
  checkBody(body) // never sign what verify() would refuse
  const envelope = await RecordEnvelope.seal(new CertificatePayload(body), operatorKey)
  return envelope.marshal()
}

function checkBody (b: CertificateBody): void {
  const bad = (detail: string): never => { throw new CertificateError('malformed', detail) }
  if (typeof b.domain !== 'string' || b.domain.length === 0 || b.domain.length > MAX_DOMAIN_LENGTH) bad('domain must be a non-empty string of at most 253 characters')
  if (typeof b.peerId !== 'string' || b.peerId.length > 128) bad('peerId must be a peer id string')
  try { peerIdFromString(b.peerId) } catch { bad(`peerId ${JSON.stringify(b.peerId).slice(0, 80)} is not a peer id`) }
  if (b.role !== undefined && b.role !== 'cmd') bad('role must be "cmd" or absent (a MAAR)')
  if (b.role === 'cmd') {
    if (!Array.isArray(b.pools) || b.pools.length !== 0) bad('a CMD certificate grants no pools')
  } else if (!Array.isArray(b.pools) || b.pools.length === 0 || b.pools.length > MAX_POOLS) bad(`pools must list 1..${MAX_POOLS} prefixes`)
  for (const p of b.pools) if (!isCanonicalPrefix(p)) bad(`pool ${JSON.stringify(p).slice(0, 60)} is not a canonical IPv6 prefix`)
  if (!Array.isArray(b.addresses) || b.addresses.length === 0 || b.addresses.length > MAX_ADDRESSES) bad(`addresses must list 1..${MAX_ADDRESSES} tunnel addresses`)
  for (const a of b.addresses) if (!isCanonicalAddress(a)) bad(`address ${JSON.stringify(a).slice(0, 60)} is not a canonical IPv6 address`)
  if (!Number.isSafeInteger(b.notBefore) || b.notBefore < 0) bad('notBefore must be a time in ms')
  if (!Number.isSafeInteger(b.notAfter) || b.notAfter <= b.notBefore) bad('notAfter must be a time in ms after notBefore')
}

/** Text wrapping of a certificate file: one JSON object holding the envelope in base64. */
export function encodeCertificateFile (certificate: Uint8Array): string {
  return JSON.stringify({ dmmCertificate: 1, envelope: toBase64(certificate) }) + '\n'
}

export function decodeCertificateFile (text: string): Uint8Array {
  let parsed: Record<string, unknown>
  try {
    parsed = parseStrictJson(text, ['dmmCertificate', 'envelope'])
  } catch (err) {
    throw new CertificateError('malformed', `not a certificate file: ${(err as Error).message}`)
  }
  if (parsed.dmmCertificate !== 1) throw new CertificateError('malformed', 'certificate file version must be 1')
  const bytes = typeof parsed.envelope === 'string' ? fromBase64(parsed.envelope) : undefined
  if (bytes === undefined || bytes.length === 0 || bytes.length > MAX_CERTIFICATE_BYTES) throw new CertificateError('malformed', '"envelope" must be base64 of at most 2048 bytes')
  return bytes
}

export async function writeCertificateFile (path: string, certificate: Uint8Array): Promise<void> {
  await writeFile(path, encodeCertificateFile(certificate))
}

export async function readCertificateFile (path: string): Promise<Uint8Array> {
  const text = await readFile(path, 'utf8')
  if (text.length > 8192) throw new CertificateError('malformed', 'file too large for a certificate')
  return decodeCertificateFile(text)
}

/**
 * The operator keys this MAAR trusts, per domain (several keys per domain allow rotation): those
 * of its own domain(s), whose MAARs are members (DHT, records), and those of federated domains
 * (doc/ARCHITECTURE.md "Federation"), whose certificates prove foreign MAARs and anchors but
 * never membership: `verify` accepts them only when asked with `federated: true`.
 */
export class TrustStore {
  private readonly operators = new Map<string, Set<string>>()
  private readonly foreign = new Map<string, Set<string>>()
  /** Signature checks are the costly part; remember good envelopes by their bytes. */
  private readonly verified = new Map<string, MaarCertificate>()
  /** Digests of signed envelopes (session records) whose signature verified here. */
  private readonly goodSignatures = new Set<string>()

  constructor (domains: Array<{ domain: string, operatorPublicKey: string }>) {
    addKeys(this.operators, domains)
  }

  /**
   * Replaces the federated operators (an agreement loaded, reloaded or dropped). A domain of this
   * store's own cannot be federated: its members would otherwise be proven by a foreign key.
   */
  federate (domains: Array<{ domain: string, operatorPublicKey: string }>): void {
    const own = domains.find(d => this.operators.has(d.domain))
    if (own !== undefined) throw new TypeError(`domain ${own.domain} is this store's own domain; it cannot be federated`)
    this.foreign.clear()
    addKeys(this.foreign, domains)
    this.verified.clear()
  }

  /** True for a domain whose MAARs are members here (not a federated one). */
  isMemberDomain (domain: string): boolean {
    return this.operators.has(domain)
  }

  static fromOperatorKeys (domains: Array<{ domain: string, publicKey: PublicKey }>): TrustStore {
    return new TrustStore(domains.map(d => ({ domain: d.domain, operatorPublicKey: toBase64(publicKeyToProtobuf(d.publicKey)) })))
  }

  get domains (): string[] {
    return [...this.operators.keys()]
  }

  /** `federated`: a certificate of a federated domain is accepted too (default: members only). */
  async verify (certificate: Uint8Array, opts: { peerId?: string, now?: number, federated?: boolean } = {}): Promise<MaarCertificate> {
    if (!(certificate instanceof Uint8Array) || certificate.length === 0 || certificate.length > MAX_CERTIFICATE_BYTES) {
      throw new CertificateError('malformed', `certificate must be 1..${MAX_CERTIFICATE_BYTES} bytes`)
    }
    const cacheKey = toBase64(certificate)
    let cert = this.verified.get(cacheKey)
    if (cert === undefined) {
      cert = await this.check(certificate)
      if (this.verified.size >= 4096) this.verified.clear()
      this.verified.set(cacheKey, cert)
    }
    const now = opts.now ?? Date.now()
    if (now < cert.notBefore) throw new CertificateError('not-yet-valid', `valid from ${new Date(cert.notBefore).toISOString()}`)
    if (now > cert.notAfter) throw new CertificateError('expired', `expired at ${new Date(cert.notAfter).toISOString()}`)
    if (opts.peerId !== undefined && opts.peerId !== cert.peerId) throw new CertificateError('peer-mismatch', `issued to ${cert.peerId}, presented by ${opts.peerId}`)
    if (opts.federated !== true && !this.operators.has(cert.domain)) throw new CertificateError('unknown-domain', `domain ${JSON.stringify(cert.domain)} is federated, not a member domain here`)
    return { ...cert, pools: [...cert.pools], addresses: [...cert.addresses] }
  }

  /**
   * Whether the envelope in `bytes` carries a valid signature for `domain`, checked once per
   * distinct bytes: a session record reaches a MAAR many times (direct PUT, the kad-dht put, each
   * answer of a lookup), and the Ed25519 check with its key parsing dominates opening it. Only the
   * signature is remembered; what it proves (certificates, their validity now) is checked by the
   * caller every time. Bounded like the certificate cache.
   */
  async signatureVerifies (bytes: Uint8Array, envelope: RecordEnvelope, domain: string): Promise<boolean> {
    const digest = createHash('sha256').update(domain).update('\u0000').update(bytes).digest('base64')
    if (this.goodSignatures.has(digest)) return true
    if (!(await signatureVerifies(envelope, domain))) return false
    if (this.goodSignatures.size >= 4096) this.goodSignatures.clear()
    this.goodSignatures.add(digest)
    return true
  }

  /** True when the certificate names `address` (any IPv6 text) as one of the MAAR's tunnel addresses. */
  certifiesAddress (cert: MaarCertificate, address: string): boolean {
    try {
      return cert.addresses.includes(canonicalAddressText(address))
    } catch {
      return false
    }
  }

  /** True when every prefix lies inside the certificate's pools. */
  covers (cert: MaarCertificate, prefixes: string[]): boolean {
    try {
      return prefixes.every(p => cert.pools.some(pool => prefixWithin(`${p} ${pool}`)))
    } catch {
      return false
    }
  }

  private async check (certificate: Uint8Array): Promise<MaarCertificate> {
    const envelope = openEnvelope(certificate, CERT_CODEC, 'a MAAR certificate', detail => new CertificateError('malformed', detail))
    if (!(await signatureVerifies(envelope, CERT_DOMAIN))) throw new CertificateError('bad-signature', 'operator signature does not verify')
    let body: Record<string, unknown>
    try {
      body = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(envelope.payload), ['role', 'domain', 'peerId', 'pools', 'addresses', 'notBefore', 'notAfter'])
    } catch (err) {
      throw new CertificateError('malformed', (err as Error).message)
    }
    checkBody(body as unknown as CertificateBody)
    const { role, domain, peerId, pools, addresses, notBefore, notAfter } = body as unknown as CertificateBody
    const operator = toBase64(publicKeyToProtobuf(envelope.publicKey))
    const keys = this.operators.get(domain) ?? this.foreign.get(domain)
    if (keys === undefined) throw new CertificateError('unknown-domain', `domain ${JSON.stringify(domain)} is not trusted here`)
    if (!keys.has(operator)) throw new CertificateError('unknown-operator', `signed by a key that is not an operator of ${domain}`)
    return { role: role ?? 'maar', domain, peerId, pools, addresses, notBefore, notAfter, operator }
  }
}

/**
 * "inner pool" (two prefix texts) → whether inner lies in pool, memoized: a pure function of the
 * texts, asked for every anchor of every record opened, with the same few prefixes and pools.
 */
const prefixWithin = cachedByText((pair: string): boolean => {
  const [inner = '', pool = ''] = pair.split(' ')
  return prefixContains(cachedPrefix(pool), cachedPrefix(inner))
})

function addKeys (into: Map<string, Set<string>>, domains: Array<{ domain: string, operatorPublicKey: string }>): void {
  for (const d of domains) {
    const bytes = fromBase64(d.operatorPublicKey)
    if (bytes === undefined) throw new TypeError(`operator key of ${d.domain} is not base64`)
    // Canonical form, and fail now on a key that does not parse.
    const canonical = toBase64(publicKeyToProtobuf(publicKeyFromProtobuf(bytes)))
    const set = into.get(d.domain) ?? new Set<string>()
    set.add(canonical)
    into.set(d.domain, set)
  }
}
