/**
 * The consistency audit of a binding cache, run at every open and by `dmm cache check`.
 *
 * Invariant (RFC 8885 §3.1, RFC 5213 §5.1): every prefix this MAAR delegated has exactly one
 * owner — one allocation record naming an MN whose BCE lists the prefix among its localPrefixes,
 * and no other BCE listing it. The audit reads the raw buckets, the delegation ledger and what
 * LevelDB dropped, and sorts each prefix into:
 *
 * - owned: one owner is certain (possibly after healing in memory a missing allocation record of
 *   a BCE nobody else claims); the pool must skip it, the entry is served as usual;
 * - quarantined: the owner is in doubt (two claimants, an allocation whose MN has no readable BCE
 *   or does not list it, a ledger delegation whose record vanished, an operator-kept quarantine);
 *   it is never handed out again until `dmm cache repair --release-quarantined`.
 *
 * Everything else is kept: one undecodable value among hundreds costs its key, not the cache.
 * Every problem names the LevelDB key (or ledger line / log file) so an operator can find it.
 */
import { Bucket, bucketKey, idOf } from './buckets.js'
import { SchemaError, decodeAllocation, decodeEntry, decodeIncident, decodeQuarantine, prefix as canonicalPrefix } from './codec.js'
import type { LedgerLoad } from './delegation-ledger.js'
import { LEDGER_FILE } from './delegation-ledger.js'
import type { BindingCacheEntry } from './types.js'

export type CacheProblemKind =
  /** LevelDB dropped part of its write-ahead log or a table at an open (key: the file). */
  | 'wal-corruption'
  /** A table block could not be read while scanning a bucket (key: the bucket). */
  | 'table-corruption'
  /** A value that does not decode (key: the LevelDB key); it is left out. */
  | 'undecodable'
  /** An allocation naming an MN that has no BCE (or only an undecodable one). */
  | 'orphan-allocation'
  /** An allocation naming an MN whose BCE does not list the prefix. */
  | 'unclaimed-allocation'
  /** A BCE listing a prefix with no allocation record (healed in memory when it is the only claimant). */
  | 'missing-allocation'
  /** Two or more BCEs, or a BCE and another MN's allocation, claim one prefix. */
  | 'conflicting-owners'
  /** The ledger says the prefix was delegated, the database has no trace of it (lost with the WAL). */
  | 'lost-delegation'
  /** The ledger names another MN than the database for a prefix (the database wins; repair rewrites the ledger). */
  | 'ledger-mismatch'
  /** A ledger line that fails its checksum. */
  | 'ledger-corruption'
  /** Kept in quarantine by an earlier repair. */
  | 'quarantined'

export interface CacheProblem {
  kind: CacheProblemKind
  /** LevelDB key (`bce!<mnId>`, `alloc!<prefix>`, ...), `delegations.journal:<line>` or a log file name. */
  key: string
  message: string
  /** The prefix concerned, when there is one. */
  prefix?: string
  /** The MNs concerned, when known. */
  mnIds?: string[]
}

export interface CacheReport {
  problems: CacheProblem[]
  /** prefix -> why its owner is in doubt; never delegated while listed here. */
  quarantined: Map<string, string>
}

/** The raw contents the audit reads; `text` is the stored value. */
export interface RawRecord { key: string, text: string }

export interface AuditInput {
  entries: RawRecord[]
  allocations: RawRecord[]
  quarantine: RawRecord[]
  incidents: RawRecord[]
  /** Buckets whose scan stopped on a LevelDB error, with the error. */
  scanErrors: Array<{ bucket: string, message: string }>
  ledger?: LedgerLoad
}

export interface AuditResult {
  report: CacheReport
  /** The decodable entries, in key order. */
  entries: BindingCacheEntry[]
  /** prefix -> owner MN, for every prefix with a certain owner (quarantined ones excluded). */
  owners: Map<string, string>
  /** Operator's view of quarantined prefixes: the last MN known to hold each (for the repair). */
  lastOwners: Map<string, string>
}

function why (err: unknown): string {
  if (err instanceof SchemaError || err instanceof Error) return err.message
  return String(err)
}

function tryPrefix (text: string): string | undefined {
  try { return canonicalPrefix(text, 'prefix') } catch { return undefined }
}

export function auditCache (input: AuditInput): AuditResult {
  const problems: CacheProblem[] = []
  const quarantined = new Map<string, string>()
  const lastOwners = new Map<string, string>()
  const owners = new Map<string, string>()
  const problem = (p: CacheProblem): void => { problems.push(p) }
  const quarantine = (prefix: string, reason: string, lastOwner?: string): void => {
    if (!quarantined.has(prefix)) quarantined.set(prefix, reason)
    if (lastOwner !== undefined && !lastOwners.has(prefix)) lastOwners.set(prefix, lastOwner)
  }

  for (const { key, text } of input.incidents) {
    let incident
    try {
      incident = decodeIncident(text)
    } catch (err) {
      problem({ kind: 'undecodable', key, message: `incident record unreadable: ${why(err)}` })
      continue
    }
    problem({ kind: 'wal-corruption', key: incident.file, message: `at an open, LevelDB ${incident.message}; the records lost cannot be named, lost-delegation lines name the prefixes that went with them (${key})` })
  }
  for (const { bucket, message } of input.scanErrors) {
    problem({ kind: 'table-corruption', key: `${bucket} bucket`, message: `scan stopped: ${message}` })
  }
  for (const { line, reason } of input.ledger?.badLines ?? []) {
    problem({ kind: 'ledger-corruption', key: `${LEDGER_FILE}:${line}`, message: `ledger line ${line} skipped: ${reason}` })
  }

  // Entries: good ones kept, undecodable ones named. claimants: prefix -> MNs listing it.
  const entries: BindingCacheEntry[] = []
  const entryOf = new Map<string, BindingCacheEntry>()
  const unreadable = new Set<string>()
  const claimants = new Map<string, string[]>()
  for (const { key, text } of input.entries) {
    try {
      const e = decodeEntry(text)
      if (e.mnId !== idOf(Bucket.bce, key)) throw new SchemaError('entry.mnId', `${JSON.stringify(e.mnId)} is stored under another key`)
      entries.push(e)
      entryOf.set(e.mnId, e)
      for (const p of e.localPrefixes) claimants.set(p, [...(claimants.get(p) ?? []), e.mnId])
    } catch (err) {
      unreadable.add(idOf(Bucket.bce, key))
      problem({ kind: 'undecodable', key, message: `entry left out: ${why(err)}`, mnIds: [idOf(Bucket.bce, key)] })
    }
  }

  // Operator-kept quarantine comes first: it holds whatever else is found.
  for (const { key, text } of input.quarantine) {
    const prefix = tryPrefix(idOf(Bucket.quarantine, key))
    let reason = 'quarantine record unreadable'
    let lastOwner: string | undefined
    try {
      ({ reason, lastOwner } = decodeQuarantine(text))
    } catch (err) {
      problem({ kind: 'undecodable', key, message: `quarantine record unreadable (${why(err)}); the prefix stays quarantined` })
    }
    if (prefix === undefined) continue
    quarantine(prefix, reason, lastOwner)
    problem({ kind: 'quarantined', key, prefix, message: `quarantined by an earlier repair: ${reason}`, ...(lastOwner !== undefined ? { mnIds: [lastOwner] } : {}) })
  }

  // Allocation records against the entries.
  const recorded = new Set<string>()
  for (const { key, text } of input.allocations) {
    const prefix = tryPrefix(idOf(Bucket.alloc, key))
    const claims = prefix === undefined ? [] : (claimants.get(prefix) ?? [])
    let holder: string
    try {
      if (prefix === undefined) throw new SchemaError('key', 'not a prefix')
      holder = decodeAllocation(text)
    } catch (err) {
      if (prefix === undefined) {
        problem({ kind: 'undecodable', key, message: `allocation key is not a prefix (${why(err)}); ignored` })
        continue
      }
      recorded.add(prefix)
      if (claims.length === 1) {
        owners.set(prefix, claims[0] ?? '')
        problem({ kind: 'undecodable', key, prefix, mnIds: claims, message: `allocation unreadable (${why(err)}); owner taken from the only BCE listing it` })
      } else {
        quarantine(prefix, 'allocation record unreadable')
        problem({ kind: 'undecodable', key, prefix, mnIds: claims, message: `allocation unreadable (${why(err)}) and ${claims.length} BCEs list the prefix: quarantined` })
      }
      continue
    }
    recorded.add(prefix)
    if (claims.length === 1 && claims[0] === holder) {
      owners.set(prefix, holder)
    } else if (claims.length === 0) {
      const kind = entryOf.has(holder) ? 'unclaimed-allocation' : 'orphan-allocation'
      const detail = entryOf.has(holder) ? 'whose BCE does not list it' : unreadable.has(holder) ? 'whose BCE is undecodable' : 'that has no BCE'
      quarantine(prefix, `allocated to ${JSON.stringify(holder)} ${detail}`, holder)
      problem({ kind, key, prefix, mnIds: [holder], message: `allocated to ${JSON.stringify(holder)} ${detail}: quarantined` })
    } else if (claims.length === 1) {
      quarantine(prefix, `allocated to ${JSON.stringify(holder)} but listed by ${JSON.stringify(claims[0])}`, holder)
      problem({ kind: 'conflicting-owners', key, prefix, mnIds: [holder, ...claims], message: `allocated to ${JSON.stringify(holder)} but the BCE of ${JSON.stringify(claims[0])} lists it: quarantined` })
    }
  }

  for (const [prefix, claims] of claimants) {
    if (claims.length > 1) {
      quarantine(prefix, `listed by ${claims.length} BCEs`)
      problem({ kind: 'conflicting-owners', key: bucketKey(Bucket.alloc, prefix), prefix, mnIds: claims, message: `listed by the BCEs of ${claims.map(c => JSON.stringify(c)).join(' and ')}: quarantined` })
    } else if (!recorded.has(prefix)) {
      const mnId = claims[0] ?? ''
      const ledgerOwner = input.ledger?.delegated.get(prefix)
      if (ledgerOwner !== undefined && ledgerOwner !== mnId) {
        quarantine(prefix, `listed by ${JSON.stringify(mnId)}, the ledger delegated it to ${JSON.stringify(ledgerOwner)}`, ledgerOwner)
        problem({ kind: 'conflicting-owners', key: bucketKey(Bucket.bce, mnId), prefix, mnIds: [mnId, ledgerOwner], message: `lists ${prefix} without an allocation record, and the ledger delegated it to ${JSON.stringify(ledgerOwner)}: quarantined` })
      } else {
        owners.set(prefix, mnId)
        problem({ kind: 'missing-allocation', key: bucketKey(Bucket.bce, mnId), prefix, mnIds: [mnId], message: `lists ${prefix} without an allocation record; counted as allocated to it` })
      }
    }
  }

  // Ledger delegations against what the database still knows.
  for (const [prefix, mnId] of input.ledger?.delegated ?? []) {
    if (recorded.has(prefix) || claimants.has(prefix)) {
      const owner = owners.get(prefix)
      if (owner !== undefined && owner !== mnId) {
        problem({ kind: 'ledger-mismatch', key: bucketKey(Bucket.alloc, prefix), prefix, mnIds: [owner, mnId], message: `the ledger says ${JSON.stringify(mnId)}, the database ${JSON.stringify(owner)}; the database is kept` })
      }
      continue
    }
    if (quarantined.has(prefix)) continue
    quarantine(prefix, `delegated to ${JSON.stringify(mnId)} (ledger) but its records are gone`, mnId)
    problem({ kind: 'lost-delegation', key: bucketKey(Bucket.alloc, prefix), prefix, mnIds: [mnId], message: `delegated to ${JSON.stringify(mnId)} per the ledger, no allocation or BCE left in LevelDB (lost with its log?): quarantined` })
  }

  for (const prefix of quarantined.keys()) owners.delete(prefix)
  return { report: { problems, quarantined }, entries, owners, lastOwners }
}
