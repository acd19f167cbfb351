/**
 * Building and reading the PBU/PBA exchanged between MAARs (RFC 5213 §8.1–8.2 with the RFC 8885
 * §4 options), independent of any transport.
 */
import {
  BINDING_ACK_STATUS, HANDOFF_INDICATOR, MN_ID_SUBTYPE_NAI, SUBTYPE_ANSWER_SERVING_MAAR, SUBTYPE_PENDING, decodeMaarLocator, decodeVendorSpecific, DMM_MESH_VENDOR_ID, encodePending, decodeSessionSequence,
  encodeAnswerServingMaar, encodeMaarLocator, encodeSessionSequence, encodeReason, decodeReason, encodeRefusal, decodeRefusal, findDmmVendor, findOption, findOptions,
  cachedPrefix, formatPrefix, statusName, timestampFromMillis, timestampToMillis
} from '@dmm-mesh/wire'
import type { BindingAck, BindingUpdate, MaarRef, MobilityOption, Refusal } from '@dmm-mesh/wire'
import type { Logger } from './logger.js'

/** What a serving MAAR asks of one P-MAAR. */
export interface ProxyUpdate {
  mnId: string
  sequence: number
  /** Seconds, multiple of 4; 0 de-registers (RFC 5213 §5.3.5). */
  lifetime: number
  timestampMs: number
  /** Prefixes anchored at the receiver; empty means "every prefix you anchor for this MN". */
  anchoredPrefixes: string[]
  /** The serving MAAR's own prefix for the MN (RFC 8885 §4.4 Local Prefix). */
  localPrefix?: string
  /** The serving MAAR's tunnel address (RFC 8885 §4.6 Serving MAAR); absent on de-registration. */
  servingAddress?: string
  accessTechnology?: number
  /**
   * Set by a CMD relaying the serving MAAR's PBU (draft-bernardos-dmm-pmip §3.2–3.4): the serving
   * MAAR it acts for, as an RFC 5094 locator after the Serving MAAR option. The receiver checks
   * it against that MAAR's own certificate (anchor-side.ts).
   */
  servingLocator?: MaarRef
  /** Locator mode (draft §3.3): the P-MAAR also answers the serving MAAR directly. */
  answerServingMaar?: boolean
}

/**
 * A MAAR a PBA names in a Previous MAAR option (RFC 8885 §4.5) with its locator, followed by the
 * Anchored Prefix options that belong to it: none for a referral ("may hold state of the MN"),
 * the prefixes it accepted to anchor when a CMD answers for the P-MAARs.
 */
export interface PreviousMaar extends MaarRef {
  prefixes: string[]
  /** The CMD has no acknowledgement from it yet: its prefixes are pending. */
  pending?: boolean
  /** It refused the PBU the CMD relayed (status and reason of its PBA); it anchors nothing. */
  refusal?: Refusal
}

/** What a P-MAAR answers. */
export interface ProxyAck {
  status: number
  sequence: number
  lifetime: number
  mnId: string
  timestampMs?: number
  /** Prefixes the P-MAAR now tunnels to the sender (RFC 8885 §4.3 Anchored Prefix). */
  anchoredPrefixes: string[]
  /**
   * MAARs the P-MAAR knows to hold state of this MN that the sender may not know of: the serving
   * MAAR it knew before this PBU, or the anchors it used while it was serving. This is how a new
   * serving MAAR that read a stale DHT record still finds every anchor (doc/ARCHITECTURE.md
   * "When the record is stale").
   */
  referrals: PreviousMaar[]
  /** A CMD's session sequence for the MN (dmm-mesh vendor option), which records must exceed. */
  sessionSequence?: number
  /** Why a refusal refused (dmm-mesh vendor option 5), e.g. the agreement that did. */
  reason?: string
  /**
   * A CMD in locator mode (draft §3.3): the pending P-MAARs answer the serving MAAR themselves
   * (dmm-mesh vendor sub-type 2, as in the PBUs it relays), so their PBAs are worth waiting for.
   */
  answerServingMaar?: boolean
}

export class ProxyUpdateError extends Error {
  constructor (readonly status: number, message: string) {
    super(message)
    this.name = 'ProxyUpdateError'
  }
}

function prefixOptions (type: 'anchored-prefix' | 'local-prefix', prefixes: string[]): MobilityOption[] {
  return prefixes.map(p => ({ type, ...cachedPrefix(p) }))
}

export function buildPbu (u: ProxyUpdate): BindingUpdate {
  const options: MobilityOption[] = [
    { type: 'mn-identifier', subtype: MN_ID_SUBTYPE_NAI, identifier: u.mnId },
    ...prefixOptions('anchored-prefix', u.anchoredPrefixes),
    ...(u.localPrefix !== undefined ? prefixOptions('local-prefix', [u.localPrefix]) : []),
    ...(u.servingAddress !== undefined ? [{ type: 'serving-maar' as const, address: u.servingAddress }] : []),
    ...(u.servingLocator !== undefined ? [encodeMaarLocator(u.servingLocator)] : []),
    ...(u.answerServingMaar === true ? [encodeAnswerServingMaar()] : []),
    // RFC 5213 §8.4: the MN changed MAG on the same interface.
    { type: 'handoff-indicator', value: HANDOFF_INDICATOR.HANDOFF_BETWEEN_MAGS_SAME_INTERFACE },
    ...(u.accessTechnology !== undefined ? [{ type: 'access-technology-type' as const, value: u.accessTechnology }] : []),
    timestampFromMillis(u.timestampMs)
  ]
  // RFC 5213 §6.9.1.1: A (ack requested) and P (proxy registration) set; RFC 8885 §4.1: D set
  // by a MAAR signalling another MAAR in a distributed mobility domain.
  return {
    kind: 'binding-update',
    sequence: u.sequence & 0xffff,
    flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true, D: true },
    lifetime: u.lifetime,
    options
  }
}

/** A PBU read, or the PBA refusing it with the status RFC 5213 §5.3.1 names, and why in words. */
export type PbuReading = { update: ProxyUpdate } | { refusal: BindingAck, reason: string }

/** `readPbu` for a peer that answers every PBU: an unreadable one becomes its refusal (MAAR and CMD alike). */
function readPbuOrRefusal (pbu: BindingUpdate): PbuReading {
  try {
    return { update: readPbu(pbu) }
  } catch (err) {
    const status = err instanceof ProxyUpdateError ? err.status : BINDING_ACK_STATUS.REASON_UNSPECIFIED
    return {
      refusal: buildPba({ status, sequence: pbu.sequence, lifetime: 0, mnId: '', anchoredPrefixes: [], referrals: [] }),
      reason: err instanceof Error ? err.message : String(err)
    }
  }
}

/** `readPbuOrRefusal` with the refusal logged, naming the peer that sent the PBU (MAAR and CMD alike). */
export function readPbuLogged (pbu: BindingUpdate, peerId: string, log: Logger): PbuReading {
  const read = readPbuOrRefusal(pbu)
  if ('refusal' in read) log.warn('rejected PBU', { peer: peerId, status: statusName(read.refusal.status), reason: read.reason })
  return read
}

/** Reads a PBU; a PBU this MAAR cannot act on throws ProxyUpdateError with the RFC status to answer. */
export function readPbu (m: BindingUpdate): ProxyUpdate {
  if (!m.flags.P) throw new ProxyUpdateError(BINDING_ACK_STATUS.REASON_UNSPECIFIED, 'P flag not set: not a proxy binding update (RFC 5213 §8.1)')
  const mnIdOption = findOption(m, 'mn-identifier')
  // RFC 5213 §5.3.1: a PBU without the MN-ID option is rejected with status 160.
  if (mnIdOption === undefined || mnIdOption.subtype !== MN_ID_SUBTYPE_NAI || mnIdOption.identifier.length === 0) {
    throw new ProxyUpdateError(BINDING_ACK_STATUS.MISSING_MN_IDENTIFIER_OPTION, 'missing MN Identifier option (NAI)')
  }
  const ts = findOption(m, 'timestamp')
  // RFC 5213 §5.5: timestamp-based ordering; a PBU without one cannot be ordered.
  if (ts === undefined) throw new ProxyUpdateError(BINDING_ACK_STATUS.TIMESTAMP_MISMATCH, 'missing Timestamp option')
  const serving = findOption(m, 'serving-maar')
  if (m.lifetime > 0 && serving === undefined) {
    throw new ProxyUpdateError(BINDING_ACK_STATUS.REASON_UNSPECIFIED, 'missing Serving MAAR option (RFC 8885 §4.6) in a registration')
  }
  const local = findOption(m, 'local-prefix')
  const att = findOption(m, 'access-technology-type')
  const locator = m.options.map(decodeMaarLocator).find(l => l !== undefined)
  return {
    mnId: mnIdOption.identifier,
    sequence: m.sequence,
    lifetime: m.lifetime,
    timestampMs: timestampToMillis(ts),
    anchoredPrefixes: findOptions(m, 'anchored-prefix').map(o => formatPrefix(o)),
    ...(local !== undefined ? { localPrefix: formatPrefix(local) } : {}),
    ...(serving !== undefined ? { servingAddress: serving.address } : {}),
    ...(att !== undefined ? { accessTechnology: att.value } : {}),
    ...(locator !== undefined ? { servingLocator: locator } : {}),
    ...(findDmmVendor(m.options, SUBTYPE_ANSWER_SERVING_MAAR) !== undefined ? { answerServingMaar: true } : {})
  }
}

export function buildPba (a: ProxyAck): BindingAck {
  const options: MobilityOption[] = [
    { type: 'mn-identifier', subtype: MN_ID_SUBTYPE_NAI, identifier: a.mnId },
    ...prefixOptions('anchored-prefix', a.anchoredPrefixes),
    // RFC 8885 §4.5 Previous MAAR option, one per referral, each followed by its locator (RFC 5094)
    // and the Anchored Prefix options that belong to it.
    ...a.referrals.flatMap(r => [{ type: 'previous-maar' as const, address: r.address }, encodeMaarLocator(r), ...(r.pending === true ? [encodePending()] : []), ...(r.refusal !== undefined ? [encodeRefusal(r.refusal)] : []), ...prefixOptions('anchored-prefix', r.prefixes)]),
    ...(a.sessionSequence !== undefined ? [encodeSessionSequence(a.sessionSequence)] : []),
    ...(a.reason !== undefined ? [encodeReason(a.reason)] : []),
    ...(a.answerServingMaar === true ? [encodeAnswerServingMaar()] : []),
    // RFC 5213 §5.3.6: the PBA echoes the timestamp of the PBU.
    ...(a.timestampMs !== undefined ? [timestampFromMillis(a.timestampMs)] : [])
  ]
  return {
    kind: 'binding-ack',
    status: a.status,
    sequence: a.sequence & 0xffff,
    flags: { K: false, R: false, P: true, D: true }, // RFC 8885 §4.2
    lifetime: a.lifetime,
    options
  }
}

export function readPba (m: BindingAck): ProxyAck {
  const mnIdOption = findOption(m, 'mn-identifier')
  const ts = findOption(m, 'timestamp')
  // Options in order: Anchored Prefixes before any Previous MAAR option are the responder's own;
  // after one, they belong to that MAAR (RFC 8885 §4.5). A Previous MAAR without its locator
  // cannot be reached and is left out.
  const own: string[] = []
  const referrals: PreviousMaar[] = []
  let group: { address: string, ref?: MaarRef, prefixes: string[], pending?: boolean, refusal?: Refusal } | undefined
  const close = (): void => {
    if (group?.ref === undefined) return
    referrals.push({ ...group.ref, prefixes: group.prefixes, ...(group.pending === true ? { pending: true } : {}), ...(group.refusal !== undefined ? { refusal: group.refusal } : {}) })
  }
  for (const o of m.options) {
    if (o.type === 'previous-maar') {
      close()
      group = { address: o.address, prefixes: [] }
    } else if (o.type === 'anchored-prefix') {
      (group?.prefixes ?? own).push(formatPrefix(o))
    } else {
      const l = decodeMaarLocator(o)
      if (l !== undefined && group !== undefined && group.ref === undefined && l.address === group.address) group.ref = l
      const v = decodeVendorSpecific(o)
      if (group !== undefined && v?.vendorId === DMM_MESH_VENDOR_ID && v.subtype === SUBTYPE_PENDING) group.pending = true
      const refusal = decodeRefusal(o)
      if (group !== undefined && refusal !== undefined) group.refusal = refusal
    }
  }
  close()
  const sessionSequence = decodeSessionSequence(m.options)
  const reason = decodeReason(m.options)
  return {
    status: m.status,
    sequence: m.sequence,
    lifetime: m.lifetime,
    mnId: mnIdOption?.identifier ?? '',
    ...(ts !== undefined ? { timestampMs: timestampToMillis(ts) } : {}),
    anchoredPrefixes: own,
    referrals,
    ...(sessionSequence !== undefined ? { sessionSequence } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(findDmmVendor(m.options, SUBTYPE_ANSWER_SERVING_MAAR) !== undefined ? { answerServingMaar: true } : {})
  }
}
