/**
 * How a MAAR finds the MN's previous anchors (RFC 8885 §3.1, handover step 3 in
 * doc/ARCHITECTURE.md) and tells the domain where the MN is now (step 7). The MAAR depends on this
 * interface only, so the DHT directory (SessionDirectory), a CMD-backed discovery, or composites
 * (a hybrid of two, a federation that picks one per realm, as js-libp2p's DualKadDHT composes two
 * DHTs) plug in without a change to the MAAR.
 */
import type { Startable } from '@libp2p/interface'
import type { SessionRecord } from './records.js'
import type { LookupResult } from './lookup.js'

export interface Discovery extends Startable {
  /**
   * The newest valid session record of the MN, or undefined when the MN has none. Throws when it
   * cannot tell (nobody reachable): the caller must not take that for a first attach.
   */
  lookup: (mnId: string, opts?: { signal?: AbortSignal }) => Promise<LookupResult | undefined>
  /**
   * Makes `record` the MN's session. `anchorCertificates` prove the anchors the record names
   * (records.ts). Throws RecordError for an invalid or stale record.
   */
  publish: (record: SessionRecord, anchorCertificates: Uint8Array[]) => Promise<void>
  /** Ends the MN's session: a withdrawn record (serving null) with this sequence. */
  withdraw: (mnId: string, sequence: number) => Promise<void>
}
