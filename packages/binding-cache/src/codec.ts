/**
 * Versioned JSON values of the binding cache. Decoding checks every field, so a value damaged on
 * disk or written by another version is reported (SchemaError, turned into CorruptEntryError by
 * the caller) instead of flowing into the MAAR as a half-valid object. Prefixes and addresses are
 * stored in canonical RFC 5952 text, so string comparison is prefix comparison.
 */
import { cachedByText, canonicalIpv6, formatPrefix, parsePrefix } from '@dmm-mesh/wire'
import { SCHEMA_VERSION } from './buckets.js'
import type { MaarRef } from '@dmm-mesh/wire'
import type { BindingCacheEntry, RemoteAnchor } from './types.js'

export class SchemaError extends Error {
  constructor (readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`)
    this.name = 'SchemaError'
  }
}

type Obj = Record<string, unknown>

function object (v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, 'expected an object')
  return v as Obj
}

function string (v: unknown, path: string, opts: { empty?: boolean } = {}): string {
  if (typeof v !== 'string') throw new SchemaError(path, 'expected a string')
  if (opts.empty !== true && v.length === 0) throw new SchemaError(path, 'empty string')
  return v
}

function boolean (v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new SchemaError(path, 'expected a boolean')
  return v
}

/** A non-negative safe integer (sequences, timestamps, code points). */
function count (v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new SchemaError(path, `expected a non-negative integer, got ${JSON.stringify(v)}`)
  return v
}

/** A non-negative time in ms that may hold a fraction (an RFC 5213 §8.8 timestamp steps by 1/65536 s). */
function instant (v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) throw new SchemaError(path, `expected a non-negative time in ms, got ${JSON.stringify(v)}`)
  return v
}

function array<T> (v: unknown, path: string, item: (x: unknown, p: string) => T): T[] {
  if (!Array.isArray(v)) throw new SchemaError(path, 'expected an array')
  return v.map((x, i) => item(x, `${path}[${i}]`))
}

/**
 * A text checked by `canonical` (a SchemaError at `path` when it throws). The canonical forms are
 * remembered (wire's cachedByText): an anchor writes the same few prefixes and addresses on every
 * PBU (a re-registration rewrites the whole entry), and parsing them each time was a tenth of its
 * CPU per PBU (bench/anchor-rate.ts).
 */
function canonicalText (canonical: (text: string) => string): (v: unknown, path: string) => string {
  const cached = cachedByText(canonical)
  return (v, path) => {
    const text = string(v, path)
    try {
      return cached(text)
    } catch (err) {
      throw new SchemaError(path, err instanceof Error ? err.message : String(err))
    }
  }
}

export const prefix = canonicalText(text => formatPrefix(parsePrefix(text)))

const address = canonicalText(canonicalIpv6)

function optional<T> (o: Obj, key: string, path: string, read: (x: unknown, p: string) => T): T | undefined {
  return o[key] === undefined ? undefined : read(o[key], `${path}.${key}`)
}

function peerRef (v: unknown, path: string): MaarRef {
  const o = object(v, path)
  return {
    peerId: string(o.peerId, `${path}.peerId`),
    address: address(o.address, `${path}.address`),
    multiaddrs: array(o.multiaddrs, `${path}.multiaddrs`, string)
  }
}

function remoteAnchor (v: unknown, path: string): RemoteAnchor {
  const o = object(v, path)
  const anchor: RemoteAnchor = { ...peerRef(v, path), prefix: prefix(o.prefix, `${path}.prefix`) }
  const pendingUntil = optional(o, 'pendingUntil', path, count)
  if (pendingUntil !== undefined) anchor.pendingUntil = pendingUntil
  return anchor
}

function version (o: Obj, path: string): void {
  if (o.v !== SCHEMA_VERSION) throw new SchemaError(`${path}.v`, `schema version ${JSON.stringify(o.v)}, this build reads ${SCHEMA_VERSION}`)
}

/** Checks and normalises an entry; used on the way in (put) and on the way out (decode). */
export function checkEntry (v: unknown, path = 'entry'): BindingCacheEntry {
  const o = object(v, path)
  const access = optional(o, 'access', path, (x, p) => {
    const a = object(x, p)
    return { link: string(a.link, `${p}.link`), linkLayerId: string(a.linkLayerId, `${p}.linkLayerId`), accessTechnology: count(a.accessTechnology, `${p}.accessTechnology`) }
  })
  const servingMaar = optional(o, 'servingMaar', path, peerRef)
  const expiresAt = optional(o, 'expiresAt', path, count)
  const last = object(o.lastUpdate, `${path}.lastUpdate`)
  const entry: BindingCacheEntry = {
    mnId: string(o.mnId, `${path}.mnId`),
    localPrefixes: array(o.localPrefixes, `${path}.localPrefixes`, prefix),
    attached: boolean(o.attached, `${path}.attached`),
    remoteAnchors: array(o.remoteAnchors, `${path}.remoteAnchors`, remoteAnchor),
    lastUpdate: { sequence: count(last.sequence, `${path}.lastUpdate.sequence`), timestampMs: instant(last.timestampMs, `${path}.lastUpdate.timestampMs`) },
    sessionSequence: count(o.sessionSequence, `${path}.sessionSequence`),
    createdAt: count(o.createdAt, `${path}.createdAt`),
    updatedAt: count(o.updatedAt, `${path}.updatedAt`)
  }
  // Optional fields are left out rather than set to undefined, so deepEqual round trips hold.
  if (access !== undefined) entry.access = access
  if (servingMaar !== undefined) entry.servingMaar = servingMaar
  if (expiresAt !== undefined) entry.expiresAt = expiresAt
  return entry
}

export function encodeEntry (entry: BindingCacheEntry): string {
  return JSON.stringify({ v: SCHEMA_VERSION, ...checkEntry(entry) })
}

function parseJson (text: string, path: string): Obj {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new SchemaError(path, `not JSON (${err instanceof Error ? err.message : String(err)})`)
  }
  const o = object(value, path)
  version(o, path)
  return o
}

export function decodeEntry (text: string): BindingCacheEntry {
  const { v: _v, ...rest } = parseJson(text, 'entry')
  return checkEntry(rest)
}

export function encodeAllocation (mnId: string): string {
  return JSON.stringify({ v: SCHEMA_VERSION, mnId: string(mnId, 'allocation.mnId') })
}

export function decodeAllocation (text: string): string {
  return string(parseJson(text, 'allocation').mnId, 'allocation.mnId')
}

export function encodeMeta (): string {
  return JSON.stringify({ v: SCHEMA_VERSION })
}

export function decodeMeta (text: string): void {
  parseJson(text, 'meta')
}

/** Why a prefix is quarantined, and the MN last known to hold it (if any). */
export interface QuarantineRecord { reason: string, lastOwner?: string }

export function encodeQuarantine (q: QuarantineRecord): string {
  return JSON.stringify({ v: SCHEMA_VERSION, reason: string(q.reason, 'quarantine.reason'), ...(q.lastOwner !== undefined ? { lastOwner: string(q.lastOwner, 'quarantine.lastOwner') } : {}) })
}

export function decodeQuarantine (text: string): QuarantineRecord {
  const o = parseJson(text, 'quarantine')
  const lastOwner = optional(o, 'lastOwner', 'quarantine', string)
  return { reason: string(o.reason, 'quarantine.reason'), ...(lastOwner !== undefined ? { lastOwner } : {}) }
}

/** What LevelDB reported dropping while opening (file and its words). */
export interface IncidentRecord { file: string, message: string }

export function encodeIncident (i: IncidentRecord): string {
  return JSON.stringify({ v: SCHEMA_VERSION, file: string(i.file, 'incident.file'), message: string(i.message, 'incident.message') })
}

export function decodeIncident (text: string): IncidentRecord {
  const o = parseJson(text, 'incident')
  return { file: string(o.file, 'incident.file'), message: string(o.message, 'incident.message') }
}
