/**
 * Restart repair: a MAAR that was down (crashed, killed) may hold bindings that the domain moved
 * past meanwhile — it believes it serves an MN that attached elsewhere, or tunnels an MN's prefix
 * to a serving MAAR the MN has left. PBUs it missed are retransmitted to it (RFC 5213 §6.9.4),
 * but only by serving MAARs that still try; so at start it re-establishes the truth for every
 * binding itself, from the MN's session record (signed by the serving MAAR that published it,
 * doc/ARCHITECTURE.md "Trust"):
 * - a record newer than the binding that names another serving MAAR and still lists this MAAR's
 *   prefixes: re-point them to that serving MAAR (its PBU, newer than the binding, is still
 *   accepted when it comes);
 * - a newer record that no longer lists them, or a withdrawn one: release them;
 * - a reservation that never became a registration: release it;
 * - otherwise (the record agrees, or the lookup cannot tell): keep, and let signalling correct it.
 * The serving side separately takes no MN as present until it attaches again (serving-side.ts).
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { Discovery, SessionRecord } from '@dmm-mesh/discovery'
import { maarRef } from '@dmm-mesh/wire'
import type { Bindings } from './bindings.js'
import type { Logger } from './logger.js'

export type RepairAction = 'kept' | 're-pointed' | 'released' | 'unknown'

export interface RepairOutcome { mnId: string, action: RepairAction, reason: string }

/** Lookups in flight at once, so a large cache does not flood the domain at start. */
const CONCURRENCY = 8

export class RestartRepair {
  private stopped = false

  constructor (
    private readonly bindings: Bindings,
    private readonly discovery: Discovery,
    private readonly selfPeerId: () => string,
    private readonly clock: () => number,
    private readonly log: Logger
  ) {}

  /** Repairs every binding of `entries` (as loaded at start); resolves with what it did. */
  async run (entries: BindingCacheEntry[]): Promise<RepairOutcome[]> {
    const outcomes: RepairOutcome[] = []
    const queue = entries.map(e => e.mnId)
    const worker = async (): Promise<void> => {
      for (let mnId = queue.shift(); mnId !== undefined && !this.stopped; mnId = queue.shift()) {
        const id = mnId
        outcomes.push(await this.bindings.withMn(id, async () => await this.repairOne(id)))
      }
    }
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker))
    const count = (a: RepairAction): number => outcomes.filter(o => o.action === a).length
    if (outcomes.length > 0) {
      this.log.info('restart repair done', { bindings: outcomes.length, kept: count('kept'), repointed: count('re-pointed'), released: count('released'), unknown: count('unknown') })
    }
    return outcomes
  }

  stop (): void {
    this.stopped = true
  }

  private async repairOne (mnId: string): Promise<RepairOutcome> {
    const e = this.bindings.get(mnId)
    if (e === undefined) return { mnId, action: 'kept', reason: 'gone since start' }
    if (!e.attached && e.servingMaar === undefined) return await this.release(e, 'a reservation that never became a registration')
    let record: SessionRecord | undefined
    try {
      record = (await this.discovery.lookup(mnId))?.record
    } catch (err) {
      return { mnId, action: 'unknown', reason: `lookup failed: ${err instanceof Error ? err.message : String(err)}` }
    }
    if (record === undefined) return { mnId, action: 'kept', reason: 'no session record' }
    // issuedAt is never before the registration a record describes (session-publisher.ts).
    if (record.issuedAt <= e.lastUpdate.timestampMs) return { mnId, action: 'kept', reason: 'the binding is as new as the record' }
    if (record.serving === null) return await this.release(e, `the session was withdrawn (sequence ${record.sequence})`)
    const self = this.selfPeerId()
    const believed = e.attached ? self : e.servingMaar?.peerId
    if (record.serving.peerId === believed || record.serving.peerId === self) return { mnId, action: 'kept', reason: 'the record agrees' }
    const stillAnchored = e.localPrefixes.filter(p => record.anchors.some(a => a.peerId === self && a.prefix === p))
    if (stillAnchored.length === 0) return await this.release(e, `the session (sequence ${record.sequence}) no longer lists ${e.localPrefixes.join(',')}`)
    const repointed: BindingCacheEntry = { ...e, attached: false, servingMaar: maarRef(record.serving), remoteAnchors: [], updatedAt: this.clock() }
    delete repointed.access
    // Only the serving MAAR de-registers (draft-bernardos-dmm-pmip §3.5): no timer here.
    delete repointed.expiresAt
    await this.bindings.commit({ put: [repointed] })
    await this.bindings.program()
    const reason = `the MN is served by ${record.serving.address} since sequence ${record.sequence}`
    this.log.info('restart repair: re-pointed', { mn: mnId, prefixes: e.localPrefixes.join(','), serving: record.serving.address })
    return { mnId, action: 're-pointed', reason }
  }

  private async release (e: BindingCacheEntry, reason: string): Promise<RepairOutcome> {
    await this.bindings.commit({ delete: [e.mnId], release: e.localPrefixes })
    await this.bindings.program()
    this.log.info('restart repair: released', { mn: e.mnId, prefixes: e.localPrefixes.join(','), reason })
    return { mnId: e.mnId, action: 'released', reason }
  }
}
