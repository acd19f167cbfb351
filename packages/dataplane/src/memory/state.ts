/**
 * The in-memory "kernel": a DataPlaneState validated and keyed the way the Linux driver programs
 * it — one main-table route per prefix (local delivery, uplink delivery of decapsulated packets,
 * or downlink tunnel; two kinds for one prefix cannot coexist in one FIB, so they are refused)
 * and one router advertisement per MN. Diffing two of them gives the change lines of apply().
 */
import { canonicalIpv6, formatPrefix, parsePrefix } from '@dmm-mesh/wire'
import type { Advertisement, DataPlaneState, DownlinkTunnel, LocalDelivery, UplinkTunnel } from '../types.js'
import type { MnSlice } from '../mn-slices.js'

export type Route =
  | ({ kind: 'local' } & LocalDelivery)
  | ({ kind: 'uplink' } & UplinkTunnel)
  | ({ kind: 'downlink' } & DownlinkTunnel)

export interface Programmed {
  /** Canonical prefix -> its route. */
  routes: Map<string, Route>
  /** MN-ID -> the advertisement sent to it. */
  ads: Map<string, Advertisement>
}

/** A desired state that cannot be programmed; apply() changed nothing. */
export class DataPlaneStateError extends Error {
  constructor (readonly path: string, reason: string) {
    super(`invalid data-plane state at ${path}: ${reason}`)
    this.name = 'DataPlaneStateError'
  }
}

export function emptyProgrammed (): Programmed {
  return { routes: new Map(), ads: new Map() }
}

function text (v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new DataPlaneStateError(path, `expected a non-empty string, got ${JSON.stringify(v)}`)
  return v
}

function prefixOf (v: unknown, path: string): string {
  try {
    return formatPrefix(parsePrefix(text(v, path)))
  } catch (err) {
    if (err instanceof DataPlaneStateError) throw err
    throw new DataPlaneStateError(path, err instanceof Error ? err.message : String(err))
  }
}

function addressOf (v: unknown, path: string): string {
  try {
    return canonicalIpv6(text(v, path))
  } catch (err) {
    if (err instanceof DataPlaneStateError) throw err
    throw new DataPlaneStateError(path, err instanceof Error ? err.message : String(err))
  }
}

function list (v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new DataPlaneStateError(path, 'expected an array')
  return v
}

function record (v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) throw new DataPlaneStateError(path, 'expected an object')
  return v as Record<string, unknown>
}

export function describeRoute (r: Route): string {
  switch (r.kind) {
    case 'local': return `local ${r.prefix} dev ${r.accessLink} mn ${r.mnId} lladdr ${r.linkLayerId}`
    case 'uplink': return `uplink ${r.prefix} from ${r.accessLink} -> ${r.remote} mn ${r.mnId}`
    case 'downlink': return `downlink ${r.prefix} -> ${r.remote} mn ${r.mnId}`
  }
}

export function describeAd (a: Advertisement): string {
  const prefixes = a.prefixes.map(p => `${p.prefix} ${p.preferred ? 'preferred' : 'deprecated'} anchor ${p.anchor}`)
  return `ra ${a.mnId} on ${a.accessLink} to ${a.linkLayerId}: ${prefixes.join(', ')}`
}

/** Throws DataPlaneStateError unless `desired` is an object with the four arrays. */
export function checkShape (desired: DataPlaneState): void {
  const d = record(desired, 'state')
  for (const kind of ['local', 'uplinks', 'downlinks', 'advertisements']) list(d[kind], kind)
}

/**
 * Validates and canonicalises a desired state; throws DataPlaneStateError on the first problem.
 * `at` gives each item's index in the whole state when `desired` is one MN's slice of it.
 */
export function normalize (desired: DataPlaneState, at?: MnSlice['at']): Programmed {
  const d = record(desired, 'state')
  const out = emptyProgrammed()
  const index = (kind: keyof DataPlaneState, i: number): number => at?.[kind][i] ?? i
  const addRoute = (route: Route, path: string): void => {
    const existing = out.routes.get(route.prefix)
    if (existing !== undefined && describeRoute(existing) !== describeRoute(route)) {
      throw new DataPlaneStateError(path, `prefix ${route.prefix} already has "${describeRoute(existing)}"`)
    }
    out.routes.set(route.prefix, route)
  }
  list(d.local, 'local').forEach((v, i) => {
    const p = `local[${index('local', i)}]`; const o = record(v, p)
    addRoute({ kind: 'local', mnId: text(o.mnId, `${p}.mnId`), prefix: prefixOf(o.prefix, `${p}.prefix`), accessLink: text(o.accessLink, `${p}.accessLink`), linkLayerId: text(o.linkLayerId, `${p}.linkLayerId`) }, p)
  })
  list(d.uplinks, 'uplinks').forEach((v, i) => {
    const p = `uplinks[${index('uplinks', i)}]`; const o = record(v, p)
    addRoute({ kind: 'uplink', mnId: text(o.mnId, `${p}.mnId`), prefix: prefixOf(o.prefix, `${p}.prefix`), remote: addressOf(o.remote, `${p}.remote`), accessLink: text(o.accessLink, `${p}.accessLink`) }, p)
  })
  list(d.downlinks, 'downlinks').forEach((v, i) => {
    const p = `downlinks[${index('downlinks', i)}]`; const o = record(v, p)
    addRoute({ kind: 'downlink', mnId: text(o.mnId, `${p}.mnId`), prefix: prefixOf(o.prefix, `${p}.prefix`), remote: addressOf(o.remote, `${p}.remote`) }, p)
  })
  list(d.advertisements, 'advertisements').forEach((v, i) => {
    const p = `advertisements[${index('advertisements', i)}]`; const o = record(v, p)
    const ad: Advertisement = {
      mnId: text(o.mnId, `${p}.mnId`),
      accessLink: text(o.accessLink, `${p}.accessLink`),
      linkLayerId: text(o.linkLayerId, `${p}.linkLayerId`),
      prefixes: list(o.prefixes, `${p}.prefixes`).map((x, j) => {
        const q = `${p}.prefixes[${j}]`; const e = record(x, q)
        if (typeof e.preferred !== 'boolean') throw new DataPlaneStateError(`${q}.preferred`, 'expected a boolean')
        return { prefix: prefixOf(e.prefix, `${q}.prefix`), preferred: e.preferred, anchor: addressOf(e.anchor, `${q}.anchor`) }
      })
    }
    const seen = new Set<string>()
    for (const x of ad.prefixes) {
      if (seen.has(x.prefix)) throw new DataPlaneStateError(p, `prefix ${x.prefix} advertised twice`)
      seen.add(x.prefix)
    }
    const existing = out.ads.get(ad.mnId)
    if (existing !== undefined && describeAd(existing) !== describeAd(ad)) throw new DataPlaneStateError(p, `a second advertisement for ${ad.mnId}`)
    out.ads.set(ad.mnId, ad)
  })
  return out
}

/** The union of MNs' parts (their prefixes are disjoint: apply() checks that first). */
export function merge (parts: Iterable<Programmed>): Programmed {
  const out = emptyProgrammed()
  for (const part of parts) {
    for (const [prefix, route] of part.routes) out.routes.set(prefix, route)
    for (const [mnId, ad] of part.ads) out.ads.set(mnId, ad)
  }
  return out
}

/** Change lines from `from` to `to`: additions and replacements first, then deletions. */
export function diff (from: Programmed, to: Programmed): string[] {
  const adds: string[] = []
  const dels: string[] = []
  const compare = <T>(a: Map<string, T>, b: Map<string, T>, describe: (x: T) => string): void => {
    for (const [key, next] of b) {
      const prev = a.get(key)
      if (prev === undefined) adds.push(`+ ${describe(next)}`)
      else if (describe(prev) !== describe(next)) adds.push(`~ ${describe(next)} (was: ${describe(prev)})`)
    }
    for (const [key, prev] of a) if (!b.has(key)) dels.push(`- ${describe(prev)}`)
  }
  compare(from.routes, to.routes, describeRoute)
  compare(from.ads, to.ads, describeAd)
  return [...adds, ...dels]
}

/** The DataPlaneState view of a programmed state (copies, sorted by prefix / MN-ID). */
export function toState (p: Programmed): DataPlaneState {
  const routes = [...p.routes.values()].sort((a, b) => a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0)
  const strip = <R extends Route>({ kind: _k, ...rest }: R): Omit<R, 'kind'> => rest
  return {
    local: routes.flatMap(r => r.kind === 'local' ? [strip(r)] : []),
    uplinks: routes.flatMap(r => r.kind === 'uplink' ? [strip(r)] : []),
    downlinks: routes.flatMap(r => r.kind === 'downlink' ? [strip(r)] : []),
    advertisements: [...p.ads.values()].sort((a, b) => a.mnId < b.mnId ? -1 : a.mnId > b.mnId ? 1 : 0)
      .map(a => ({ ...a, prefixes: a.prefixes.map(x => ({ ...x })) }))
  }
}
