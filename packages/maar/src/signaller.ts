/**
 * How a serving MAAR reaches the MN's previous anchors: one strategy per way of doing it, behind
 * one interface, so the serving side does not know which is in use (doc/ARCHITECTURE.md "Adding
 * a discovery or signalling mode").
 * - DirectSignaller (direct-signaller.ts): a PBU to each P-MAAR, following referrals (RFC 8885
 *   §3.1, the fully distributed mode of this build).
 * - CmdSignaller (cmd-signaller.ts): one PBU to the CMD, which reaches the P-MAARs in relay,
 *   locator or proxy mode (draft-bernardos-dmm-pmip §3.2–3.4; the mode is the CMD's).
 * - HybridSignaller (hybrid-signaller.ts): the CMD when it answers within a bound, else the DHT
 *   lookup and a PBU to each P-MAAR.
 * - LegacySignaller (legacy-signaller.ts): classic PMIPv6 (draft-bernardos-dmm-pmip Appendix A.5),
 *   one PBU to the fixed LMA of the domain.
 */
import type { RemoteAnchor } from '@dmm-mesh/binding-cache'
import type { PeerOutcome } from './handover-report.js'
import type { BindingAck } from '@dmm-mesh/wire'
import type { KnownMaar } from './peer-table.js'
import type { PMaar, PMaarList } from './pmaar-list.js'

/** A registration of the MN at this (serving) MAAR that its previous anchors must learn. */
export interface Registration {
  mnId: string
  sequence: number
  timestampMs: number
  /** Seconds, a multiple of 4. */
  lifetime: number
  /** This MAAR's prefix for the MN (RFC 8885 §4.4 Local Prefix). */
  localPrefix?: string
  /** This MAAR's tunnel address (RFC 8885 §4.6 Serving MAAR). */
  servingAddress: string
  accessTechnology: number
  /** The P-MAARs known before signalling (from the session record and this MAAR's own BCE). */
  previous: PMaarList
}

export interface RegistrationOutcome {
  /** The prefixes the previous anchors now tunnel to this MAAR. */
  anchors: RemoteAnchor[]
  /** One outcome per P-MAAR asked. */
  peers: PeerOutcome[]
  /** P-MAARs found only through referrals (the record was stale). */
  referralsFollowed: number
  /** P-MAARs that did not answer (unreachable): retransmit() keeps trying them. */
  pending: PMaar[]
  /** The session sequence the domain already holds (a CMD's answer, or a record read on the way). */
  sessionSequence?: number
  /**
   * Whether the domain held a session of the MN before this registration, when the signaller can
   * tell better than the record and the answers (an LMA that delegated the prefix just now).
   */
  knownBefore?: boolean
}

/** The end of the MN's session (RFC 5213 §5.3.5, lifetime 0), sent by its serving MAAR. */
export interface Deregistration {
  mnId: string
  sequence: number
  timestampMs: number
  anchors: PMaarList
  /**
   * An anchor that does not answer is sent the de-registration again (RFC 5213 §6.9.4) while this
   * holds (the MN has not registered here again) and until `until` (ms epoch): an anchor never
   * expires a binding by itself, so a lost de-registration would hold its prefix for good.
   * Asked from the first retry on, which may come while deregister() is still running.
   */
  stillWanted: () => boolean
  until: number
}

export interface AnchorSignaller {
  /**
   * Whether register() needs `r.previous` filled from the MN's session record: true for a
   * strategy that signals the P-MAARs itself; false when someone else (a CMD) knows them, so the
   * serving side does no lookup before signalling.
   */
  readonly needsSessionRecord: boolean
  /**
   * Throws when it cannot tell who the P-MAARs are (the CMD down and no fallback): the serving
   * side then defers the attach, as for a failed lookup.
   */
  register: (r: Registration) => Promise<RegistrationOutcome>
  /**
   * Opens the streams register() will use for these P-MAARs, in the background: the serving side
   * calls it once the lookup has named them, so that opening overlaps the intent's commit
   * (doc/ARCHITECTURE.md "A handover"). Absent: nothing to open ahead (a CMD's stream is kept).
   */
  connect?: (previous: PMaarList) => void
  /** An unsolicited PBA reached this MAAR (draft-bernardos-dmm-pmip §3.2–3.3). */
  acknowledged: (pba: BindingAck, from: KnownMaar) => Promise<void>
  /**
   * Keeps sending the registration to every P-MAAR of `r.previous` in the background until each
   * answers or `until(p)` (ms epoch) passes; the answers reach the late-answer hook the strategy
   * was built with (RFC 5213 §6.9.4).
   */
  retransmit: (r: Registration, until: (p: PMaar) => number, firstDelayMs?: number) => void
  /** Stops retransmitting anything of the MN. */
  cancel: (mnId: string) => void
  deregister: (d: Deregistration) => Promise<PeerOutcome[]>
  /**
   * Draft-bernardos-dmm-pmip §3.5 variant (b), only with a CMD configured for it: this MAAR, as a
   * P-MAAR, keeps a lifetime timer on what it anchors and, when it runs out, sends its
   * de-registration to the CMD. Answers the lifetime (s) the CMD grants: > 0 while the MN is
   * still in the domain (renewed), 0 when it is not (release), undefined when the CMD did not
   * answer (asked again at the next check). Absent: variant (a), anchors keep no timer.
   */
  renewAnchor?: (r: AnchorRenewal) => Promise<number | undefined>
  stop: () => void
}

/** A P-MAAR's de-registration to the CMD (draft §3.5 b): the MN and the prefixes anchored here. */
export interface AnchorRenewal {
  mnId: string
  sequence: number
  timestampMs: number
  prefixes: string[]
}
