/**
 * The data-plane interface of a MAAR: a declarative, idempotent `apply(desired)` that diffs
 * against what is programmed (tailscale's router.Set), so that a restart, a handover and a
 * reconciliation are all the same call.
 *
 * Every prefix is text "2001:db8:1:5::/64"; every address canonical IPv6 text.
 */

/** An MN's prefix delivered on this MAAR's access link (the MN is attached here). */
export interface LocalDelivery {
  mnId: string
  prefix: string
  /** Access link (interface name in the Linux driver). */
  accessLink: string
  /** The MN's link-layer id (MAC text "02:00:00:00:00:01"), for unicast RAs. */
  linkLayerId: string
}

/**
 * Downlink at the anchor (RFC 5213 §5.6.1 LMA role, RFC 8885 P-MAAR): packets to `prefix`
 * go into the IPv6-in-IPv6 tunnel to `remote`, the MN's serving MAAR.
 */
export interface DownlinkTunnel {
  mnId: string
  prefix: string
  remote: string
}

/**
 * Uplink at the serving MAAR (RFC 5213 §6.10.3 MAG role): packets from the MN with a source
 * in `prefix` (anchored at `remote`) leave through the tunnel to `remote`; packets to
 * `prefix` coming out of that tunnel are delivered on `accessLink`.
 */
export interface UplinkTunnel {
  mnId: string
  prefix: string
  remote: string
  accessLink: string
}

/**
 * Router advertisement to one MN (draft-ietf-dmm-distributed-mobility-anchoring §4.1):
 * the local prefix preferred, prefixes anchored elsewhere valid but deprecated. Which router
 * each prefix is advertised from (its anchor's DLIF router or the shared one) is the driver's
 * router mode, dlif.ts, not part of the state.
 */
export interface Advertisement {
  mnId: string
  accessLink: string
  linkLayerId: string
  prefixes: Array<{ prefix: string, preferred: boolean, anchor: string }>
}

export interface DataPlaneState {
  local: LocalDelivery[]
  downlinks: DownlinkTunnel[]
  uplinks: UplinkTunnel[]
  advertisements: Advertisement[]
}

export interface ApplyResult {
  /** Human-readable lines of what changed (e.g. "+ downlink 2001:db8:1::/64 -> 2001:db8:ff::2"). */
  changes: string[]
  /** Milliseconds spent programming (for the benchmark). */
  elapsedMs: number
}

export interface ApplyOptions {
  /** The MNs whose parts `desired` holds; the others are left as they are. */
  only?: Iterable<string>
}

/** A partial apply (`only`) was asked of a driver that must first see the whole state. */
export class FullApplyNeeded extends Error {
  constructor (driver: string) {
    super(`data plane ${driver} needs the whole state before a partial apply`)
    this.name = 'FullApplyNeeded'
  }
}

export interface DataPlane {
  readonly name: string
  /** Prepares the driver; a driver that finds state it does not know removes it on first apply. */
  start (): Promise<void>
  /**
   * Makes the programmed state equal `desired`: adds before it deletes, returns what changed.
   * With `only`, `desired` holds the parts of those MNs alone (an MN of `only` absent from it is
   * removed) and every other MN keeps its part: the MAAR passes the MNs it changed, so an apply
   * costs O(them), not O(every MN). Throws FullApplyNeeded when the driver does not know what is
   * programmed yet (before its first apply, after a failed one).
   */
  apply (desired: DataPlaneState, opts?: ApplyOptions): Promise<ApplyResult>
  /** The state as the driver believes it is programmed. */
  current (): DataPlaneState
  /** Stops the driver; `flush` removes everything it programmed (else it stays for a restart). */
  stop (opts?: { flush?: boolean }): Promise<void>
}

export function emptyState (): DataPlaneState {
  return { local: [], downlinks: [], uplinks: [], advertisements: [] }
}
