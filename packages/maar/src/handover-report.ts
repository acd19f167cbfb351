/** What an attach answers (the management API returns it as JSON; the quickstart prints it). */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { BINDING_ACK_STATUS, statusName } from '@dmm-mesh/wire'
import type { MaarRef } from '@dmm-mesh/wire'

/** The answer of one P-MAAR to one PBU. */
export interface PeerOutcome { peerId: string, address: string, status: string, prefixes: string[], error?: string }

/** A P-MAAR's PBA as the report shows it: its status named, a refusal's reason (RFC 5094 vendor option) as `error`. */
export function peerOutcome (peer: Pick<MaarRef, 'peerId' | 'address'>, status: number, prefixes: string[], reason: string | undefined): PeerOutcome {
  return { peerId: peer.peerId, address: peer.address, status: statusName(status), prefixes, ...(status !== BINDING_ACK_STATUS.ACCEPTED && reason !== undefined ? { error: reason } : {}) }
}

export interface HandoverReport {
  mnId: string
  maar: string
  kind: 'first-attach' | 'handover' | 'return' | 'refresh'
  localPrefix: string
  /**
   * Every prefix of the MN and the MAAR address that anchors it; `pending` while that anchor has
   * not acknowledged the registration (it is retransmitted to, RFC 5213 §6.9.4).
   */
  anchors: Array<{ prefix: string, anchor: string, native: boolean, pending?: true }>
  /** False when some anchor has not acknowledged yet: a partial handover, not a plain success. */
  complete: boolean
  lookupMs: number
  lookupSource: string
  signallingMs: number
  programMs: number
  /** Attach trigger to both ends programmed. */
  totalMs: number
  peers: PeerOutcome[]
  /** P-MAARs found only through referrals in PBAs (the DHT record was stale). */
  referralsFollowed: number
  sessionSequence: number
}

export type HandoverFigures = Omit<HandoverReport, 'mnId' | 'maar' | 'kind' | 'localPrefix' | 'anchors' | 'complete' | 'sessionSequence'>

export function handoverReport (maar: { name: string, address: string }, entry: BindingCacheEntry, kind: HandoverReport['kind'], figures: HandoverFigures): HandoverReport {
  return {
    mnId: entry.mnId,
    maar: maar.name,
    kind,
    localPrefix: entry.localPrefixes[0] ?? '',
    anchors: [
      ...entry.localPrefixes.map(prefix => ({ prefix, anchor: maar.address, native: true })),
      ...entry.remoteAnchors.map(a => ({ prefix: a.prefix, anchor: a.address, native: false, ...(a.pendingUntil !== undefined ? { pending: true as const } : {}) }))
    ],
    // An unanswered P-MAAR named by a referral has no prefix in the entry, but is pending too.
    complete: entry.remoteAnchors.every(a => a.pendingUntil === undefined) && figures.peers.every(p => p.status !== 'UNREACHABLE'),
    sessionSequence: entry.sessionSequence,
    ...figures
  }
}

/** Milliseconds rounded to 0.01 for log lines. */
export function roundMs (ms: number): number {
  return Math.round(ms * 100) / 100
}
