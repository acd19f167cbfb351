/**
 * Legacy PMIPv6 fallback (draft-bernardos-dmm-pmip Appendix A.5): classic centralised PMIPv6
 * (RFC 5213) on the same MAARs. One MAAR of the domain is the LMA, every other one only a MAG:
 * - the LMA delegates each MN's home network prefix from its own pool, on the MN's first attach
 *   anywhere — natively when the MN attaches to it, on the MAG's PBU otherwise (RFC 5213 §5.3.2,
 *   where the distributed mode answers 153 NOT_LMA) — and anchors it for the whole session;
 * - a MAG delegates nothing (noLocalPrefix): the MN's only prefix is the LMA's, tunnelled to it.
 * What a PBU does here is the anchor side's policy (AnchorPolicy); everything else — ordering,
 * handover to another MAG, de-registration — is decideAnchor as in the distributed mode.
 */
import { BINDING_ACK_STATUS, maarRef } from '@dmm-mesh/wire'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { decideAnchor } from './anchor-decision.js'
import type { AnchorDecision, AnchorPolicy } from './anchor-decision.js'
import type { ProxyUpdate } from './messages.js'
import type { KnownMaar } from './peer-table.js'
import type { PrefixDelegation } from './prefix-reservation.js'

/** A MAG's delegation: no prefix of its own for the MN (RFC 5213 §6.9.1.1: the LMA assigns it). */
export const noLocalPrefix: PrefixDelegation = {
  reserve: async (_mnId, entryFor) => ({ entry: entryFor([]), delegated: Promise.resolve() })
}

/**
 * The policy of every MAAR in legacy mode. `pool` is given to the LMA only: with it, a PBU for an
 * MN the LMA has never seen gets a prefix from the LMA's pool, tunnelled to the sending MAG.
 */
export function legacyAnchoring (pool?: PrefixDelegation): AnchorPolicy {
  return {
    decide: async (entry, u, from, checks, now) => {
      if (entry === undefined && pool !== undefined) return await delegate(pool, u, from, now)
      if (entry !== undefined && entry.attached && entry.localPrefixes.length === 0) return magLeft(entry, u, from)
      const d = decideAnchor(entry, u, from, checks, now)
      if (d.kind !== 'anchor' || entry === undefined) return d
      // The session goes on at a new MAG: its sequence, above the one before, is what the MAG's
      // session record must carry (as a CMD's, draft-bernardos-dmm-pmip §3.1); its presence in
      // the PBA tells the MAG that this is a handover, not a first registration (legacy-signaller.ts).
      const sessionSequence = Math.max(entry.sessionSequence + 1, u.sequence)
      return { ...d, entry: { ...d.entry, sessionSequence }, sessionSequence }
    }
  }
}

/** RFC 5213 §5.3.2 initial registration at the LMA: a home network prefix for the MN, tunnelled to the MAG. */
async function delegate (pool: PrefixDelegation, u: ProxyUpdate, from: KnownMaar, now: number): Promise<AnchorDecision> {
  if (u.lifetime === 0) return refuse(BINDING_ACK_STATUS.NOT_LMA_FOR_THIS_MOBILE_NODE, 'de-registration of an MN with no binding here')
  // RFC 5213 §5.3.2: a MAG asking for a prefix the LMA never delegated to this MN.
  if (u.anchoredPrefixes.length > 0) return refuse(BINDING_ACK_STATUS.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `prefixes not anchored here for this MN: ${u.anchoredPrefixes.join(', ')}`)
  if (u.servingAddress !== from.address) return refuse(BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, `Serving MAAR ${u.servingAddress ?? 'none'} is not the sender (${from.address})`)
  const { entry, delegated } = await pool.reserve(u.mnId, prefixes => ({
    mnId: u.mnId,
    localPrefixes: prefixes,
    attached: false,
    servingMaar: maarRef(from),
    remoteAnchors: [],
    lastUpdate: { sequence: u.sequence, timestampMs: u.timestampMs },
    sessionSequence: u.sequence,
    createdAt: now,
    updatedAt: now
  }))
  // The PBA hands the prefix out: the ledger holds it first.
  await delegated
  return { kind: 'anchor', entry, prefixes: entry.localPrefixes, referrals: [] }
}

/**
 * A MAG serving the MN (a binding with no prefix of its own) hears from the MAG or LMA that serves
 * it now, named by the LMA as the previous serving MAAR: the MN left, the uplink goes. Only a
 * newer registration (RFC 5213 §5.5 ordering) from another MAAR ends it.
 */
function magLeft (entry: BindingCacheEntry, u: ProxyUpdate, from: KnownMaar): AnchorDecision {
  if (u.lifetime === 0) return refuse(BINDING_ACK_STATUS.NOT_LMA_FOR_THIS_MOBILE_NODE, 'this MAG anchors no prefix of the MN')
  if (u.servingAddress !== from.address) return refuse(BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, `Serving MAAR ${u.servingAddress ?? 'none'} is not the sender (${from.address})`)
  if (u.timestampMs <= entry.lastUpdate.timestampMs) {
    return refuse(BINDING_ACK_STATUS.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED, `timestamp ${u.timestampMs} not after ${entry.lastUpdate.timestampMs}`)
  }
  return { kind: 'release', mnId: entry.mnId, prefixes: [] }
}

function refuse (status: number, reason: string): AnchorDecision {
  return { kind: 'refuse', status, reason, referrals: [] }
}

