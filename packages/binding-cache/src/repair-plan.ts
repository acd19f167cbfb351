/**
 * What `dmm cache repair` writes, decided from an audit (./audit.ts) and the raw records it read:
 * the smallest batch after which the cache is consistent (every allocation record names the one
 * MN whose BCE lists the prefix), every change described for the operator. Pure; the cache
 * applies the batch and rewrites the ledger (binding-cache.ts).
 */
import type { AbstractBatchOperation } from 'abstract-level'
import type { AuditInput, AuditResult } from './audit.js'
import { Bucket, bucketKey } from './buckets.js'
import { encodeAllocation, encodeQuarantine } from './codec.js'
import type { TextLevel } from './binding-cache.js'

export interface RepairOptions {
  /**
   * Free quarantined prefixes: one listed by exactly one BCE goes to that MN, one listed by none
   * goes back to the pool, one listed by several stays quarantined (deregister all but one MN).
   */
  releaseQuarantined?: boolean
}

export interface RepairPlan {
  batch: Array<AbstractBatchOperation<TextLevel, string, string>>
  /** The ledger afterwards: prefix -> MN (last known MN for a quarantined prefix). */
  ledger: Map<string, string>
  changes: string[]
}

export function planRepair (audit: AuditResult, raw: AuditInput, ledgerNow: ReadonlyMap<string, string>, opts: RepairOptions): RepairPlan {
  const batch: RepairPlan['batch'] = []
  const changes: string[] = []
  const good = new Set(audit.entries.map(e => bucketKey(Bucket.bce, e.mnId)))
  for (const { key } of raw.entries) {
    if (good.has(key)) continue
    batch.push({ type: 'del', key })
    changes.push(`deleted ${key}: undecodable entry`)
  }

  const owners = new Map(audit.owners)
  const kept = new Map<string, string>()
  for (const [prefix, reason] of audit.report.quarantined) {
    if (opts.releaseQuarantined !== true) {
      kept.set(prefix, reason)
      continue
    }
    const claims = audit.entries.filter(e => e.localPrefixes.includes(prefix)).map(e => e.mnId)
    if (claims.length === 1) {
      owners.set(prefix, claims[0] ?? '')
      changes.push(`released ${prefix} from quarantine to ${JSON.stringify(claims[0])}, the only MN listing it`)
    } else if (claims.length === 0) {
      changes.push(`released ${prefix} from quarantine back to the pool`)
    } else {
      kept.set(prefix, reason)
      changes.push(`kept ${prefix} quarantined: listed by ${claims.map(c => JSON.stringify(c)).join(' and ')}; deregister all but one of them, then repair again`)
    }
  }

  // Allocation records: exactly one per certain owner, none for anything else.
  const storedAlloc = new Map(raw.allocations.map(r => [r.key, r.text]))
  for (const [key, text] of storedAlloc) {
    const prefix = key.slice(bucketKey(Bucket.alloc, '').length)
    if (owners.has(prefix)) continue
    batch.push({ type: 'del', key })
    changes.push(`deleted ${key} (was ${text})${kept.has(prefix) ? ': owner in doubt, quarantined instead' : ''}`)
  }
  for (const [prefix, mnId] of owners) {
    const key = bucketKey(Bucket.alloc, prefix)
    const value = encodeAllocation(mnId)
    if (storedAlloc.get(key) === value) continue
    batch.push({ type: 'put', key, value })
    changes.push(`wrote ${key} -> ${JSON.stringify(mnId)}`)
  }

  // Quarantine records: the ones kept, rewritten from what the audit decided.
  const storedQuarantine = new Map(raw.quarantine.map(r => [r.key, r.text]))
  for (const key of storedQuarantine.keys()) {
    if (kept.has(key.slice(bucketKey(Bucket.quarantine, '').length))) continue
    batch.push({ type: 'del', key })
  }
  for (const [prefix, reason] of kept) {
    const key = bucketKey(Bucket.quarantine, prefix)
    const lastOwner = audit.lastOwners.get(prefix) ?? ledgerNow.get(prefix)
    const value = encodeQuarantine({ reason, ...(lastOwner !== undefined ? { lastOwner } : {}) })
    if (storedQuarantine.get(key) === value) continue
    if (!storedQuarantine.has(key)) changes.push(`quarantined ${prefix}: ${reason} (kept until repair --release-quarantined)`)
    batch.push({ type: 'put', key, value })
  }

  for (const { key, text } of raw.incidents) {
    batch.push({ type: 'del', key })
    changes.push(`acknowledged ${key}: ${text}`)
  }

  const ledger = new Map(owners)
  for (const prefix of kept.keys()) ledger.set(prefix, audit.lastOwners.get(prefix) ?? ledgerNow.get(prefix) ?? 'unknown')
  if (!sameMap(ledger, ledgerNow) || changes.length > 0) changes.push(`rewrote the delegation ledger: ${ledger.size} prefixes (${kept.size} quarantined)`)
  return { batch, ledger, changes }
}

function sameMap (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)
}
