/**
 * The anchor side's decision for a PBU from another domain's MAAR (doc/ARCHITECTURE.md
 * "Federation"): a decorator of the mode's AnchorPolicy. A member's PBU goes straight through;
 * a federated MAAR's registration is taken only within an agreement this domain's operator signed
 * (FederationAgreements.authorize: in force, the MAAR in scope, its Local Prefix in the agreed
 * pools) and under its policy — `tunnel` as for a member, `drop` refused (the binding let go: the
 * MN left; so too under an agreement no longer in force), `bounded` accepted with
 * the PBA's lifetime capped to what is left of the bound (RFC 5213 §5.3: the LMA may grant a
 * shorter lifetime) and the binding released when it ends (CrossBorderBound). Every refusal names
 * the agreement or policy. A de-registration is always taken: it only frees this domain's prefixes.
 */
import { BINDING_ACK_STATUS } from '@dmm-mesh/wire'
import type { MaarRef } from '@dmm-mesh/wire'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { TrustStore } from '@dmm-mesh/discovery'
import type { FederationAgreements } from '@dmm-mesh/federation'
import type { AnchorDecision, AnchorPolicy } from './anchor-decision.js'

export interface CrossBorderParts {
  agreements: FederationAgreements
  trust: TrustStore
}

function refuse (reason: string, referrals: MaarRef[] = []): AnchorDecision {
  return { kind: 'refuse', status: BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, reason, referrals }
}

export function federatedAnchoring (inner: AnchorPolicy, parts: CrossBorderParts): AnchorPolicy {
  return {
    decide: async (entry, u, from, checks, now, opts) => {
      if (parts.trust.isMemberDomain(from.cert.domain) || u.lifetime === 0) return await inner.decide(entry, u, from, checks, now, opts)
      const own = parts.agreements.own.domain
      // Not tunnelling, this domain still takes the PBU as news that the MN left it (RFC 5213 §5.3:
      // the newer registration is checked as for a member), so its serving MAAR stops serving it.
      // Nothing here to let go: the inner policy is not asked (a legacy LMA would delegate a prefix).
      const letGo = async (reason: string): Promise<AnchorDecision> => {
        if (entry === undefined) return refuse(reason)
        const d = await inner.decide(entry, u, from, checks, now, opts)
        if (d.kind === 'anchor') return { kind: 'let-go', mnId: u.mnId, prefixes: d.prefixes, status: BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, reason, referrals: d.referrals }
        return d.kind === 'refuse' ? refuse(`${reason}; ${d.reason}`, d.referrals) : refuse(reason)
      }
      const allowed = parts.agreements.authorize(from.cert, u.localPrefix !== undefined ? [u.localPrefix] : [], now)
      if ('refused' in allowed) {
        const reason = `${from.cert.domain} refused: ${allowed.refused}`
        // An agreement that has ended (revoked, expired) with the MAAR in scope: no tunnel, as under drop.
        return allowed.lapsed === undefined ? refuse(reason) : await letGo(reason)
      }
      const { agreement } = allowed
      const policy = agreement.policy
      if (policy.prefixes === 'drop') return await letGo(`agreement ${agreement.id}: policy drop: ${own}'s prefixes are not tunnelled into ${from.cert.domain}`)
      const d = await inner.decide(entry, u, from, checks, now, opts)
      if (policy.prefixes === 'tunnel' || d.kind !== 'anchor') return d
      const until = boundOf(entry, now + policy.seconds * 1000)
      // RFC 5213 §8.1: lifetimes count units of 4 s.
      const left = Math.floor((until - now) / 4000) * 4
      if (left < 4) return refuse(`agreement ${agreement.id}: policy bounded: the ${policy.seconds} s ${own}'s prefixes may stay in ${from.cert.domain} have run out`)
      return { ...d, entry: { ...d.entry, expiresAt: until }, lifetime: Math.min(u.lifetime, left) }
    }
  }
}

/** The bound already running for an MN anchored here for another domain, or a new one. */
function boundOf (entry: BindingCacheEntry | undefined, fresh: number): number {
  return entry !== undefined && !entry.attached && entry.expiresAt !== undefined ? Math.min(entry.expiresAt, fresh) : fresh
}
