/**
 * A revocation of a federation agreement (doc/ARCHITECTURE.md "Federation"), signed by the
 * agreement's issuer: from `revokedAt` on, the issuer's MAARs take no new cross-border
 * registration under it; tunnels set up before end at their lifetime (ISSUE: "existing tunnels
 * end at their lifetime", RFC 5213 §5.3 lifetimes).
 */
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { AgreementError } from './agreement.js'
import type { OperatorRef } from './agreement.js'
import { canonicalKey, checkDomain, checkIsoTime, fieldError, jsonLine, strictFields } from './fields.js'

export interface Revocation {
  /** The id of the agreement revoked. */
  agreement: string
  issuer: OperatorRef
  revokedAt: string
}

export interface SignedRevocation { revocation: Revocation, signature: string }

const REVOCATION_CONTEXT = 'dmm-mesh/federation-revocation/1\n'

export function revocationBytes (r: Revocation): Uint8Array {
  const ordered = { agreement: r.agreement, issuer: { domain: r.issuer.domain, operatorPublicKey: r.issuer.operatorPublicKey }, revokedAt: r.revokedAt }
  return new TextEncoder().encode(REVOCATION_CONTEXT + JSON.stringify(ordered))
}

export function checkRevocation (value: unknown, at = 'revocation'): asserts value is Revocation {
  const error = (detail: string): Error => new AgreementError('malformed', detail)
  const r = strictFields(value, ['agreement', 'issuer', 'revokedAt'], at, error)
  if (typeof r.agreement !== 'string' || r.agreement.length === 0 || r.agreement.length > 128) throw error(fieldError(`${at}.agreement`, 'must be the id of an agreement'))
  const issuer = strictFields(r.issuer, ['domain', 'operatorPublicKey'], `${at}.issuer`, error)
  const domainWhy = checkDomain(issuer.domain)
  if (domainWhy !== undefined) throw error(fieldError(`${at}.issuer.domain`, domainWhy))
  if (canonicalKey(issuer.operatorPublicKey) === undefined) throw error(fieldError(`${at}.issuer.operatorPublicKey`, 'is not a base64 public key'))
  const timeWhy = checkIsoTime(r.revokedAt)
  if (timeWhy !== undefined) throw error(fieldError(`${at}.revokedAt`, timeWhy))
}

export async function signRevocation (r: Revocation, issuerKey: PrivateKey): Promise<SignedRevocation> {
  checkRevocation(r)
  return { revocation: r, signature: Buffer.from(await issuerKey.sign(revocationBytes(r))).toString('base64') }
}

/** Checks the signature with the issuer key the revocation names (the caller compares that key with the agreement's). */
export async function verifyRevocation (signed: SignedRevocation): Promise<Revocation> {
  checkRevocation(signed.revocation)
  const r = signed.revocation
  let ok = false
  try {
    ok = /^[A-Za-z0-9+/]+={0,2}$/.test(signed.signature) &&
      await publicKeyFromProtobuf(Buffer.from(r.issuer.operatorPublicKey, 'base64')).verify(revocationBytes(r), Buffer.from(signed.signature, 'base64'))
  } catch {
    ok = false
  }
  if (!ok) throw new AgreementError('bad-signature', `revocation of ${r.agreement}: the signature does not verify with the issuer's key (${r.issuer.domain})`)
  return r
}

export function encodeRevocationFile (signed: SignedRevocation): string {
  return JSON.stringify({ dmmFederationRevocation: 1, revocation: signed.revocation, signature: signed.signature }, null, 2) + '\n'
}

export function decodeRevocationFile (text: string, source = 'revocation'): SignedRevocation {
  const error = (detail: string): Error => new AgreementError('malformed', detail)
  const top = strictFields(jsonLine(text, source, error), ['dmmFederationRevocation', 'revocation', 'signature'], source, error)
  if (top.dmmFederationRevocation !== 1) throw error(`${source}: dmmFederationRevocation must be 1 (is this a revocation file?)`)
  if (typeof top.signature !== 'string' || top.signature.length === 0 || top.signature.length > 256) throw error(`${source}: signature must be a base64 string`)
  checkRevocation(top.revocation, `${source}: revocation`)
  return { revocation: top.revocation, signature: top.signature }
}
