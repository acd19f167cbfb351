/**
 * What a P-MAAR does with a PBU (RFC 8885 §3.1; RFC 5213 §5.3 processing rules), as a pure
 * function of its binding for the MN, the update and the authenticated sender: a refusal with its
 * status, or the binding to commit. The Maar applies the outcome (LevelDB, then data plane).
 */
import { BINDING_ACK_STATUS } from '@dmm-mesh/wire'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { maarRef } from '@dmm-mesh/wire'
import type { MaarRef } from '@dmm-mesh/wire'
import type { ProxyUpdate } from './messages.js'
import type { KnownMaar } from './peer-table.js'
import { PMaarList } from './pmaar-list.js'

export type AnchorDecision =
  | { kind: 'refuse', status: number, reason: string, referrals: MaarRef[] }
  /** Tunnel the MN's prefixes to the sender from now on. */
  | { kind: 'anchor', entry: BindingCacheEntry, prefixes: string[], referrals: MaarRef[], sessionSequence?: number, /** Granted (s) when below the PBU's (a bounded cross-border policy). */ lifetime?: number }
  /** De-registration: forget the MN and free its prefixes. */
  | { kind: 'release', mnId: string, prefixes: string[] }
  /**
   * The MN is served now in another domain this one does not tunnel to (a `drop` agreement, or one
   * no longer in force): forget it here and free its prefixes, refuse with `status` and `reason`
   * (naming the agreement), and refer the sender to whoever else holds state of the MN, so that
   * they let it go too (doc/ARCHITECTURE.md "Federation", "Leaving a domain that does not tunnel").
   */
  | { kind: 'let-go', mnId: string, prefixes: string[], status: number, reason: string, referrals: MaarRef[] }
  /** A retransmission of the registration already accepted (its PBA was lost): answer it again. */
  | { kind: 'repeat', prefixes: string[] }

export interface SenderChecks {
  /** True when the sender's certificate covers every prefix. */
  covers: (prefixes: string[]) => boolean
}

/**
 * How a MAAR decides on a PBU: decideAnchor below (RFC 8885 §3.1, every MAAR anchors what it
 * delegated), or legacy PMIPv6's (legacy-lma.ts: the LMA also delegates on a PBU). The anchor side
 * applies whichever decision it gets, so it has no branch per mode.
 */
export interface AnchorPolicy {
  decide: (entry: BindingCacheEntry | undefined, u: ProxyUpdate, from: KnownMaar, checks: SenderChecks, now: number, opts?: { anchorTimer?: boolean }) => AnchorDecision | Promise<AnchorDecision>
}

/** RFC 5213 §9.1: TimestampValidityWindow defaults to 300 ms. */
export const TIMESTAMP_VALIDITY_WINDOW_MS = 300

/**
 * RFC 5213 §5.5: a PBU whose timestamp lies outside the validity window is refused with 156
 * (TIMESTAMP_MISMATCH); returns the reason, or undefined when it is inside. Only the future bound
 * is enforced: ordering (decideAnchor) already refuses anything older than the binding, while a
 * retransmission (RFC 5213 §6.9.4) keeps its first timestamp so it never overtakes a newer
 * registration. Without it, one PBU stamped far ahead locks the MN out of every later one.
 */
export function timestampOutsideWindow (timestampMs: number, now: number, windowMs = TIMESTAMP_VALIDITY_WINDOW_MS): string | undefined {
  return timestampMs > now + windowMs ? `timestamp ${timestampMs} is ${timestampMs - now} ms ahead of this MAAR's clock (window ${windowMs} ms)` : undefined
}

function refuse (status: number, reason: string, referrals: MaarRef[] = []): AnchorDecision {
  return { kind: 'refuse', status, reason, referrals }
}

/**
 * `anchorTimer`: draft-bernardos-dmm-pmip §3.5 variant (b), this P-MAAR keeps the registration's
 * lifetime and asks the CMD when it runs out; otherwise (variant a) its timer stops.
 */
export function decideAnchor (entry: BindingCacheEntry | undefined, u: ProxyUpdate, from: KnownMaar, checks: SenderChecks, now: number, opts: { anchorTimer?: boolean } = {}): AnchorDecision {
  if (entry === undefined || entry.localPrefixes.length === 0) {
    return refuse(BINDING_ACK_STATUS.NOT_LMA_FOR_THIS_MOBILE_NODE, 'no binding for this MN here')
  }
  // Domain membership: what the sender claims must be covered by its certificate.
  if (u.localPrefix !== undefined && !checks.covers([u.localPrefix])) {
    return refuse(BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, `local prefix ${u.localPrefix} outside the sender's certified pools`)
  }
  if (u.servingAddress !== undefined && u.servingAddress !== from.address) {
    return refuse(BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, `Serving MAAR ${u.servingAddress} is not the sender (${from.address})`)
  }
  const otherServing = entry.servingMaar !== undefined && entry.servingMaar.peerId !== from.peerId ? [entry.servingMaar] : []
  const requestedHere = (u.anchoredPrefixes.length > 0 ? u.anchoredPrefixes : entry.localPrefixes).every(p => entry.localPrefixes.includes(p))
  if (u.lifetime > 0 && !entry.attached && entry.servingMaar?.peerId === from.peerId && requestedHere &&
      u.timestampMs === entry.lastUpdate.timestampMs && (u.sequence & 0xffff) === (entry.lastUpdate.sequence & 0xffff)) {
    return { kind: 'repeat', prefixes: entry.localPrefixes }
  }
  // RFC 5213 §5.5: only a PBU newer than the last accepted one may change the binding; the
  // refusal still tells the sender where the MN went.
  if (u.timestampMs <= entry.lastUpdate.timestampMs) {
    return refuse(BINDING_ACK_STATUS.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED, `timestamp ${u.timestampMs} not after ${entry.lastUpdate.timestampMs}`, otherServing)
  }
  const requested = u.anchoredPrefixes.length > 0 ? u.anchoredPrefixes : entry.localPrefixes
  const foreign = requested.filter(p => !entry.localPrefixes.includes(p))
  if (foreign.length > 0) {
    return refuse(BINDING_ACK_STATUS.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `prefixes not anchored here for this MN: ${foreign.join(', ')}`)
  }

  if (u.lifetime === 0) {
    // RFC 5213 §5.3.5 de-registration, accepted only from the MN's serving MAAR.
    if (entry.attached || entry.servingMaar?.peerId !== from.peerId) {
      return refuse(BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED, 'de-registration from a MAAR that is not the MN\'s serving MAAR')
    }
    return { kind: 'release', mnId: entry.mnId, prefixes: entry.localPrefixes }
  }

  // Whoever else holds state of this MN that the new serving MAAR may not know.
  const referrals: MaarRef[] = entry.attached
    ? PMaarList.of(entry.remoteAnchors, from.peerId).refs()
    : otherServing
  const updated: BindingCacheEntry = {
    ...entry,
    attached: false,
    servingMaar: maarRef(from),
    remoteAnchors: [],
    lastUpdate: { sequence: u.sequence, timestampMs: u.timestampMs },
    updatedAt: now
  }
  // Variant (a) of draft-bernardos-dmm-pmip §3.5: only the serving MAAR de-registers, our timer
  // stops. Variant (b): it runs for the registration's lifetime, then the CMD is asked.
  if (opts.anchorTimer === true) updated.expiresAt = now + u.lifetime * 1000
  else delete updated.expiresAt
  delete updated.access
  return { kind: 'anchor', entry: updated, prefixes: entry.localPrefixes, referrals }
}

/** The distributed mode's policy: decideAnchor as it is. */
export const distributedAnchoring: AnchorPolicy = { decide: decideAnchor }
