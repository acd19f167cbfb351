/**
 * The P-MAAR list of a mobility session (RFC 8885 §3.1: the MAARs that anchor the MN's earlier
 * prefixes), grouped by peer: each P-MAAR once, with the prefixes it is believed to anchor. A
 * P-MAAR named with no prefix (the record's serving MAAR, a referral in a PBA) is asked for
 * "whatever you anchor for this MN" (an empty Anchored Prefix list). Referrals merge into the list
 * as they arrive (doc/ARCHITECTURE.md "When the record is stale").
 */
import { maarRef } from '@dmm-mesh/wire'
import type { MaarRef } from '@dmm-mesh/wire'

export interface PMaar { ref: MaarRef, prefixes: string[] }

export class PMaarList {
  private readonly byPeer = new Map<string, { ref: MaarRef, prefixes: Set<string> }>()
  private readonly excluded: ReadonlySet<string>

  /** `exclude`: peers never listed (this MAAR itself, or the MAAR being answered). */
  constructor (exclude?: string | ReadonlySet<string>) {
    this.excluded = typeof exclude === 'string' ? new Set([exclude]) : exclude ?? new Set()
  }

  /** The anchors of a binding cache entry or a session record, grouped by peer. */
  static of (anchors: Array<MaarRef & { prefix: string }>, exclude?: string): PMaarList {
    const list = new PMaarList(exclude)
    for (const a of anchors) list.add(a, a.prefix)
    return list
  }

  /** Adds the peer (first reference wins) and the prefix it anchors, if known. */
  add (ref: MaarRef, prefix?: string): void {
    if (this.excluded.has(ref.peerId)) return
    let p = this.byPeer.get(ref.peerId)
    if (p === undefined) {
      p = { ref: maarRef(ref), prefixes: new Set() }
      this.byPeer.set(ref.peerId, p)
    }
    if (prefix !== undefined) p.prefixes.add(prefix)
  }

  /** Referrals from a PBA: MAARs that may hold state of the MN, prefixes unknown. */
  merge (referrals: MaarRef[]): void {
    for (const r of referrals) this.add(r)
  }

  has (peerId: string): boolean {
    return this.byPeer.has(peerId)
  }

  get size (): number {
    return this.byPeer.size
  }

  /** Every P-MAAR in the order first met. */
  entries (): PMaar[] {
    return [...this.byPeer.values()].map(p => ({ ref: p.ref, prefixes: [...p.prefixes] }))
  }

  /** The P-MAARs but `peerIds`, which are never listed either (referrals to them are ignored). */
  without (peerIds: Iterable<string>): PMaarList {
    const list = new PMaarList(new Set([...this.excluded, ...peerIds]))
    for (const p of this.byPeer.values()) for (const prefix of p.prefixes.size > 0 ? p.prefixes : [undefined]) list.add(p.ref, prefix)
    return list
  }

  refs (): MaarRef[] {
    return [...this.byPeer.values()].map(p => p.ref)
  }
}
