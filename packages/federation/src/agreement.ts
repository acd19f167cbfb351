/**
 * A federation agreement (doc/ARCHITECTURE.md "Federation"; RFC 7333 REQ5 as quoted in
 * draft-bernardos-dmm-pmip Appendix A.5: domains work together "as allowed by the trust
 * relationship between them"): operator A (the issuer) accepts operator B (the subject) for a
 * stated scope — which of B's MAARs, which pools and tunnel addresses they may claim — with a
 * policy for A's prefixes of MNs that cross into B, for a validity window. A signs it; B's
 * MAARs never sign anything A's MAARs act on.
 *
 * The file is JSON (so also YAML) an operator can read: the agreement as written, plus the
 * issuer's Ed25519 signature over its canonical encoding (agreementBytes: a fixed field order,
 * behind a domain separation string), so re-indenting the file keeps it valid and any change to a
 * field breaks it.
 */
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { parsePrefix, prefixContains } from '@dmm-mesh/wire'
import type { PrivateKey } from '@libp2p/interface'
import { canonicalKey, checkDomain, checkIsoTime, checkPrefixList, fieldError, jsonLine, strictFields } from './fields.js'

/** What happens to the issuer's prefixes of an MN that moves into the subject's domain. */
export type CrossBorderPolicy =
  /** Kept: the issuer's anchors tunnel them to the subject's serving MAAR. */
  | { prefixes: 'tunnel' }
  /** Dropped: no inter-domain tunnel; the MN keeps only the new domain's prefix. */
  | { prefixes: 'drop' }
  /** Kept through tunnels for at most `seconds` after the MN first crossed. */
  | { prefixes: 'bounded', seconds: number }

export interface OperatorRef {
  domain: string
  /** The operator's public key, base64 protobuf (as `dmm keygen` prints it). */
  operatorPublicKey: string
}

export interface AgreementScope {
  /** The subject's MAARs accepted: every MAAR its operator certifies, or these peer ids. */
  maars: 'any' | string[]
  /** Prefixes the subject's MAARs may delegate as Local Prefix (their pools lie inside). */
  pools: string[]
  /** Prefixes the subject's MAARs' tunnel addresses lie inside. */
  addresses: string[]
}

export interface FederationAgreement {
  id: string
  /** The accepting operator, who signs. */
  issuer: OperatorRef
  /** The accepted operator. */
  subject: OperatorRef
  scope: AgreementScope
  policy: CrossBorderPolicy
  /** ISO 8601 times. */
  notBefore: string
  notAfter: string
}

export interface SignedAgreement {
  agreement: FederationAgreement
  /** Base64 Ed25519 signature of agreementBytes(agreement) by the issuer's operator key. */
  signature: string
}

export type AgreementErrorReason = 'malformed' | 'bad-signature' | 'expired' | 'not-yet-valid' | 'revoked' | 'wrong-issuer' | 'wrong-subject' | 'not-ours'

export class AgreementError extends Error {
  constructor (readonly reason: AgreementErrorReason, detail: string) {
    super(`federation agreement ${reason}: ${detail}`)
    this.name = 'AgreementError'
  }
}

const AGREEMENT_CONTEXT = 'dmm-mesh/federation-agreement/1\n'
const MAX_ID = 128
const MAX_SCOPE = 64
/** RFC 5213 §8.1: a lifetime is 16 bits in units of 4 s, so no bound beyond it means anything. */
export const MAX_BOUND_SECONDS = 0xffff * 4

/** The bytes the issuer signs: the agreement's fields in one fixed order. */
export function agreementBytes (a: FederationAgreement): Uint8Array {
  const ordered = {
    id: a.id,
    issuer: { domain: a.issuer.domain, operatorPublicKey: a.issuer.operatorPublicKey },
    subject: { domain: a.subject.domain, operatorPublicKey: a.subject.operatorPublicKey },
    scope: { maars: a.scope.maars, pools: a.scope.pools, addresses: a.scope.addresses },
    policy: a.policy.prefixes === 'bounded' ? { prefixes: 'bounded', seconds: a.policy.seconds } : { prefixes: a.policy.prefixes },
    notBefore: a.notBefore,
    notAfter: a.notAfter
  }
  return new TextEncoder().encode(AGREEMENT_CONTEXT + JSON.stringify(ordered))
}

/** Strict schema of an agreement; throws AgreementError('malformed') naming the field. */
export function checkAgreement (value: unknown, at = 'agreement'): asserts value is FederationAgreement {
  const bad = (field: string, why: string): never => { throw new AgreementError('malformed', fieldError(`${at}.${field}`, why)) }
  const a = strictFields(value, ['id', 'issuer', 'subject', 'scope', 'policy', 'notBefore', 'notAfter'], at, detail => new AgreementError('malformed', detail))
  if (typeof a.id !== 'string' || a.id.length === 0 || a.id.length > MAX_ID || !/^[\w.:@-]+$/.test(a.id)) bad('id', `must be 1..${MAX_ID} characters of letters, digits and . : @ _ -`)
  for (const side of ['issuer', 'subject'] as const) {
    const o = strictFields(a[side], ['domain', 'operatorPublicKey'], `${at}.${side}`, detail => new AgreementError('malformed', detail))
    const domainWhy = checkDomain(o.domain)
    if (domainWhy !== undefined) bad(`${side}.domain`, domainWhy)
    if (canonicalKey(o.operatorPublicKey) === undefined) bad(`${side}.operatorPublicKey`, 'is not a base64 public key (as dmm keygen prints it)')
  }
  const issuer = a.issuer as OperatorRef
  const subject = a.subject as OperatorRef
  if (issuer.domain === subject.domain) bad('subject.domain', `is the issuer's own domain ${issuer.domain}: an agreement is between two domains`)
  const scope = strictFields(a.scope, ['maars', 'pools', 'addresses'], `${at}.scope`, detail => new AgreementError('malformed', detail))
  if (scope.maars !== 'any') {
    if (!Array.isArray(scope.maars) || scope.maars.length === 0 || scope.maars.length > MAX_SCOPE) bad('scope.maars', `must be "any" or a list of 1..${MAX_SCOPE} peer ids`)
    ;(scope.maars as unknown[]).forEach((p, i) => {
      try { peerIdFromString(String(p)) } catch { bad(`scope.maars[${i}]`, `${JSON.stringify(p).slice(0, 60)} is not a peer id`) }
      if (typeof p !== 'string') bad(`scope.maars[${i}]`, 'must be a peer id string')
    })
  }
  for (const field of ['pools', 'addresses'] as const) {
    const why = checkPrefixList(scope[field], MAX_SCOPE)
    if (why !== undefined) bad(`scope.${field}${why.index !== undefined ? `[${why.index}]` : ''}`, why.reason)
  }
  const policy = strictFields(a.policy, ['prefixes', 'seconds'], `${at}.policy`, detail => new AgreementError('malformed', detail))
  if (policy.prefixes === 'bounded') {
    if (!Number.isInteger(policy.seconds) || (policy.seconds as number) < 4 || (policy.seconds as number) > MAX_BOUND_SECONDS) bad('policy.seconds', `must be an integer 4..${MAX_BOUND_SECONDS} for policy bounded`)
  } else if (policy.prefixes === 'tunnel' || policy.prefixes === 'drop') {
    if (policy.seconds !== undefined) bad('policy.seconds', `only policy bounded takes seconds, not ${String(policy.prefixes)}`)
  } else bad('policy.prefixes', `must be tunnel, drop or bounded, not ${JSON.stringify(policy.prefixes).slice(0, 40)}`)
  for (const field of ['notBefore', 'notAfter'] as const) {
    const why = checkIsoTime(a[field])
    if (why !== undefined) bad(field, why)
  }
  if (Date.parse(a.notAfter as string) <= Date.parse(a.notBefore as string)) bad('notAfter', 'must be after notBefore')
}

/** Signs an agreement with the issuer's operator key (whose public key the agreement must name). */
export async function signAgreement (agreement: FederationAgreement, issuerKey: PrivateKey): Promise<SignedAgreement> {
  checkAgreement(agreement) // never sign what verifyAgreement would refuse
  if (canonicalKey(agreement.issuer.operatorPublicKey) !== canonicalKey(Buffer.from(publicKeyToProtobuf(issuerKey.publicKey)).toString('base64'))) {
    throw new AgreementError('wrong-issuer', `the key given is not the issuer's operator key named in the agreement (${agreement.issuer.domain})`)
  }
  const signature = await issuerKey.sign(agreementBytes(agreement))
  return { agreement, signature: Buffer.from(signature).toString('base64') }
}

/**
 * Checks the signature against the issuer's key the agreement names and its validity at `now`.
 * Which keys are the right ones is the caller's: FederationAgreements compares them with its own
 * domain's configured operator key.
 */
export async function verifyAgreement (signed: SignedAgreement, now = Date.now()): Promise<FederationAgreement> {
  checkAgreement(signed.agreement)
  const a = signed.agreement
  const key = publicKeyFromProtobuf(Buffer.from(a.issuer.operatorPublicKey, 'base64'))
  let ok = false
  try {
    ok = typeof signed.signature === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(signed.signature) &&
      await key.verify(agreementBytes(a), Buffer.from(signed.signature, 'base64'))
  } catch {
    ok = false
  }
  if (!ok) throw new AgreementError('bad-signature', `${a.id}: the signature does not verify with the issuer's key (${a.issuer.domain}): the file was changed or signed by another key`)
  checkValidity(a, now)
  return a
}

/** Throws `not-yet-valid` or `expired` naming the agreement. */
export function checkValidity (a: FederationAgreement, now: number): void {
  if (now < Date.parse(a.notBefore)) throw new AgreementError('not-yet-valid', `${a.id} is valid from ${a.notBefore}`)
  if (now > Date.parse(a.notAfter)) throw new AgreementError('expired', `${a.id} expired at ${a.notAfter}`)
}

/** True when every prefix lies inside one of `within` (pool or address scope). */
export function insideScope (within: string[], prefixes: string[]): boolean {
  try {
    const outer = within.map(p => parsePrefix(p))
    return prefixes.every(p => {
      const inner = parsePrefix(p.includes('/') ? p : `${p}/128`)
      return outer.some(o => prefixContains(o, inner))
    })
  } catch {
    return false
  }
}

/** The signed-agreement file: `{ dmmFederationAgreement: 1, agreement, signature }`, indented. */
export function encodeAgreementFile (signed: SignedAgreement): string {
  return JSON.stringify({ dmmFederationAgreement: 1, agreement: signed.agreement, signature: signed.signature }, null, 2) + '\n'
}

/** Parses an agreement file's text; a problem is named with `source:line` and the field. */
export function decodeAgreementFile (text: string, source = 'agreement'): SignedAgreement {
  const doc = jsonLine(text, source, detail => new AgreementError('malformed', detail))
  const top = strictFields(doc, ['dmmFederationAgreement', 'agreement', 'signature'], source, detail => new AgreementError('malformed', detail))
  if (top.dmmFederationAgreement !== 1) throw new AgreementError('malformed', `${source}: dmmFederationAgreement must be 1 (is this an agreement file?)`)
  if (typeof top.signature !== 'string' || top.signature.length === 0 || top.signature.length > 256) throw new AgreementError('malformed', `${source}: signature must be a base64 string`)
  try {
    checkAgreement(top.agreement)
  } catch (err) {
    if (err instanceof AgreementError) throw new AgreementError('malformed', `${source}: ${err.message.replace(/^federation agreement malformed: /, '')}`)
    throw err
  }
  return { agreement: top.agreement, signature: top.signature }
}
