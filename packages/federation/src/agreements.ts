/**
 * The agreements one MAAR honours (doc/ARCHITECTURE.md "Federation"), loaded from its config:
 * - incoming: its own operator is the issuer; the subject's MAARs may signal this domain's
 *   anchors and ask its border lookups, within scope and policy (authorize);
 * - outgoing: its own operator is the subject; the issuer's domain accepts this one, and its
 *   operator key proves the issuer's records and anchors here (foreignOperators).
 * Every answer that refuses names the agreement (or the lack of one) and why, so the log, the
 * handover report and the API can say it.
 */
import type { MaarCertificate, TrustStore } from '@dmm-mesh/discovery'
import { AgreementError, checkValidity, insideScope, verifyAgreement } from './agreement.js'
import type { FederationAgreement, OperatorRef, SignedAgreement } from './agreement.js'
import { verifyRevocation } from './revocation.js'
import type { SignedRevocation } from './revocation.js'
import { canonicalKey } from './fields.js'

/**
 * An agreement that lets a foreign MAAR act here, or why none does; `lapsed` is an agreement that
 * would let it, the MAAR and its claims in scope, were it in force (revoked, expired, not yet valid).
 */
export type Authorization = { agreement: FederationAgreement } | { refused: string, lapsed?: FederationAgreement }

export class FederationAgreements {
  private agreements: FederationAgreement[] = []
  private readonly revoked = new Map<string, number>()
  private readonly ownKey: string

  constructor (readonly own: OperatorRef) {
    const key = canonicalKey(own.operatorPublicKey)
    if (key === undefined) throw new TypeError(`operator key of ${own.domain} is not a base64 public key`)
    this.ownKey = key
  }

  /**
   * Verifies and takes `signed` (replacing what was loaded) and `revocations`. Throws
   * AgreementError naming the first that does not verify or is not this domain's; the set is then
   * left as it was. Validity is checked at each use, so an agreement may start or end later.
   */
  async load (signed: SignedAgreement[], revocations: SignedRevocation[] = []): Promise<void> {
    const taken: FederationAgreement[] = []
    for (const s of signed) {
      const a = await verifyAgreement(s, Date.parse(s.agreement.notBefore))
      this.checkOurs(a)
      if (taken.some(t => t.id === a.id)) throw new AgreementError('malformed', `two agreements have the id ${a.id}`)
      taken.push(a)
    }
    const revoked = new Map<string, number>()
    for (const s of revocations) {
      const r = await verifyRevocation(s)
      const target = taken.find(a => a.id === r.agreement)
      // Only the issuer may revoke what it signed.
      if (target !== undefined && (target.issuer.domain !== r.issuer.domain || canonicalKey(target.issuer.operatorPublicKey) !== canonicalKey(r.issuer.operatorPublicKey))) {
        throw new AgreementError('wrong-issuer', `revocation of ${r.agreement} is signed by ${r.issuer.domain}'s key, not by the agreement's issuer ${target.issuer.domain}`)
      }
      revoked.set(r.agreement, Date.parse(r.revokedAt))
    }
    this.agreements = taken
    this.revoked.clear()
    for (const [id, at] of revoked) this.revoked.set(id, at)
  }

  /** Takes one more revocation at run time (same rules as load). */
  async revoke (s: SignedRevocation): Promise<void> {
    const r = await verifyRevocation(s)
    const target = this.agreements.find(a => a.id === r.agreement)
    if (target === undefined) throw new AgreementError('malformed', `no agreement ${r.agreement} is loaded here`)
    if (canonicalKey(target.issuer.operatorPublicKey) !== canonicalKey(r.issuer.operatorPublicKey)) throw new AgreementError('wrong-issuer', `revocation of ${r.agreement} is not signed by its issuer ${target.issuer.domain}`)
    this.revoked.set(r.agreement, Date.parse(r.revokedAt))
  }

  list (): FederationAgreement[] { return [...this.agreements] }

  /** Gives `trust` the other sides' operator keys (after load, and after every reload). */
  federate (trust: TrustStore): void {
    trust.federate(this.foreignOperators())
  }

  /** The operators of the other side of every agreement, for TrustStore.federate. */
  foreignOperators (): OperatorRef[] {
    return this.agreements.map(a => a.issuer.domain === this.own.domain ? a.subject : a.issuer)
  }

  /** The domains that accept this one (outgoing agreements in force now). */
  accepting (now = Date.now()): FederationAgreement[] {
    return this.agreements.filter(a => a.subject.domain === this.own.domain && this.inForce(a, now) === undefined)
  }

  /**
   * Whether the foreign MAAR `cert` may act here now, under an incoming agreement: its operator
   * is the subject's key, the agreement is valid and not revoked, the MAAR is in scope and its
   * tunnel addresses lie inside the agreed ones. `prefixes` (a Local Prefix it claims) must lie
   * inside the agreed pools. For a border `lookup` the subject's CMD may ask too (it is a CMD
   * domain's gateway, doc/ARCHITECTURE.md "CMD domains"); it has no tunnel, and anchors nothing.
   */
  authorize (cert: MaarCertificate, prefixes: string[] = [], now = Date.now(), purpose: 'anchor' | 'lookup' = 'anchor'): Authorization {
    const candidates = this.agreements.filter(a => a.issuer.domain === this.own.domain && a.subject.domain === cert.domain)
    if (candidates.length === 0) return { refused: `no federation agreement of ${this.own.domain} accepts domain ${cert.domain}` }
    const reasons: string[] = []
    let lapsed: FederationAgreement | undefined
    for (const a of candidates) {
      const scope = outOfScope(a, cert, prefixes, purpose === 'lookup' && cert.role === 'cmd')
      const why = this.inForce(a, now) ?? scope
      if (why === undefined) return { agreement: a }
      if (scope === undefined) lapsed ??= a
      reasons.push(`agreement ${a.id}: ${why}`)
    }
    return lapsed === undefined ? { refused: reasons.join('; ') } : { refused: reasons.join('; '), lapsed }
  }

  /** Why `a` is not in force at `now` (revoked, expired, not yet valid), or undefined. */
  inForce (a: FederationAgreement, now = Date.now()): string | undefined {
    const revokedAt = this.revoked.get(a.id)
    if (revokedAt !== undefined && revokedAt <= now) return `revoked at ${new Date(revokedAt).toISOString()}`
    try {
      checkValidity(a, now)
    } catch (err) {
      return err instanceof AgreementError ? err.message.replace(/^federation agreement /, '') : String(err)
    }
    return undefined
  }

  private checkOurs (a: FederationAgreement): void {
    if (a.issuer.domain === this.own.domain) {
      if (canonicalKey(a.issuer.operatorPublicKey) !== this.ownKey) throw new AgreementError('wrong-issuer', `${a.id} names ${a.issuer.domain} as issuer with another key than this domain's operator key`)
      return
    }
    if (a.subject.domain === this.own.domain) {
      if (canonicalKey(a.subject.operatorPublicKey) !== this.ownKey) throw new AgreementError('wrong-subject', `${a.id} names ${a.subject.domain} as subject with another key than this domain's operator key`)
      return
    }
    throw new AgreementError('not-ours', `${a.id} is between ${a.issuer.domain} and ${a.subject.domain}, not ${this.own.domain}`)
  }
}

/** Why the MAAR of `cert` or its `prefixes` lie outside the agreement's scope, or undefined. */
function outOfScope (a: FederationAgreement, cert: MaarCertificate, prefixes: string[], cmdLookup = false): string | undefined {
  if (canonicalKey(cert.operator) !== canonicalKey(a.subject.operatorPublicKey)) return `${cert.peerId} is certified by another key than ${a.subject.domain}'s operator key in the agreement`
  if (cmdLookup) return undefined
  if (cert.role !== 'maar') return `${cert.peerId} is certified as ${cert.role}, not as a MAAR`
  if (a.scope.maars !== 'any' && !a.scope.maars.includes(cert.peerId)) return `MAAR ${cert.peerId} is not in its scope`
  if (!insideScope(a.scope.addresses, cert.addresses)) return `tunnel address ${cert.addresses.join(', ')} lies outside the agreed addresses ${a.scope.addresses.join(', ')}`
  const outside = prefixes.filter(p => !insideScope(a.scope.pools, [p]))
  if (outside.length > 0) return `prefix ${outside.join(', ')} lies outside the agreed pools ${a.scope.pools.join(', ')}`
  return undefined
}
