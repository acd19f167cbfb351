import type { MaarRef } from '@dmm-mesh/wire'

/** A prefix of the MN anchored at another MAAR (a P-MAAR, RFC 8885 §3.1), e.g. "2001:db8:1:5::/64". */
export interface RemoteAnchor extends MaarRef {
  prefix: string
  /**
   * Set while the anchor has not acknowledged the current registration (it was unreachable): the
   * PBU is retransmitted (RFC 5213 §6.9.4) and the prefix stays in the session until this time
   * (ms epoch, the end of the anchor's last known lifetime). Absent once the anchor accepted.
   */
  pendingUntil?: number
}

/**
 * A Binding Cache Entry (RFC 5213 §5.1) as a MAAR keeps it in the distributed mode of RFC 8885:
 * the prefixes it anchors for the MN and, depending on where the MN is, either the serving MAAR
 * (this MAAR is a P-MAAR) or the P-MAARs anchoring the MN's older prefixes (this MAAR serves it).
 */
export interface BindingCacheEntry {
  mnId: string
  /** Prefixes THIS MAAR delegated to the MN (anchored here). */
  localPrefixes: string[]
  /** The MN is attached to this MAAR now (this MAAR is its serving MAAR). */
  attached: boolean
  access?: { link: string, linkLayerId: string, accessTechnology: number }
  /** When not attached here: where the MN is (tunnel target). */
  servingMaar?: MaarRef
  /** When attached here: prefixes anchored elsewhere. */
  remoteAnchors: RemoteAnchor[]
  /** Newest accepted PBU or own update (RFC 5213 §5.3.3 ordering by timestamp / sequence). */
  lastUpdate: { sequence: number, timestampMs: number }
  /** Sequence of the MN's session record. */
  sessionSequence: number
  /** ms epoch; set on the serving MAAR, undefined = timer stopped (RFC 8885 §3.5: only it de-registers). */
  expiresAt?: number
  createdAt: number
  updatedAt: number
}

/** One atomic change of the cache (one LevelDB batch). */
export interface Transaction {
  put?: BindingCacheEntry[]
  delete?: string[]
  allocate?: Array<{ prefix: string, mnId: string }>
  release?: string[]
}
