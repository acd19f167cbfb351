/**
 * What must hold across the binding caches of a mesh once signalling has settled (RFC 8885 §3:
 * one serving MAAR per MN, every anchor of the MN tunnels to it, and it knows every anchor;
 * doc/ARCHITECTURE.md: pools are disjoint and a prefix belongs to one MN at a time).
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'

/** One MAAR's binding cache as `GET /bindings` returns it. */
export interface CacheSnapshot { name: string, address: string, bindings: BindingCacheEntry[] }

/** A broken invariant and the scenario check it belongs to. */
export interface Violation { check: 'no-prefix-held-twice' | 'one-serving-maar', line: string }

/**
 * Every broken invariant, one line each (empty: the mesh is consistent). `expectedServing` maps
 * an MN to the name of the MAAR it attached to last; MNs not in it are checked for the rest.
 */
export function meshViolations (caches: CacheSnapshot[], expectedServing = new Map<string, string>()): string[] {
  return classifiedViolations(caches, expectedServing).map(v => v.line)
}

/** meshViolations, each line with its check: a prefix held twice, or the MN's serving MAAR and its anchors disagreeing. */
export function classifiedViolations (caches: CacheSnapshot[], expectedServing = new Map<string, string>()): Violation[] {
  const violations: Violation[] = []
  const twice = (line: string): void => { violations.push({ check: 'no-prefix-held-twice', line }) }
  const serving = (line: string): void => { violations.push({ check: 'one-serving-maar', line }) }
  const byMn = new Map<string, Array<{ maar: CacheSnapshot, entry: BindingCacheEntry }>>()
  const prefixOwner = new Map<string, string>()
  for (const maar of caches) {
    for (const entry of maar.bindings) {
      byMn.set(entry.mnId, [...(byMn.get(entry.mnId) ?? []), { maar, entry }])
      for (const prefix of entry.localPrefixes) {
        const owner = prefixOwner.get(prefix)
        if (owner !== undefined && owner !== entry.mnId) twice(`prefix ${prefix} is held by ${owner} and by ${entry.mnId} (at ${maar.name})`)
        prefixOwner.set(prefix, entry.mnId)
      }
    }
  }
  for (const mnId of expectedServing.keys()) if (!byMn.has(mnId)) serving(`${mnId}: no MAAR holds it`)

  for (const [mnId, holders] of byMn) {
    const servers = holders.filter(h => h.entry.attached)
    const expected = expectedServing.get(mnId)
    if (servers.length !== 1) {
      serving(`${mnId}: ${servers.length} serving MAARs (${servers.map(s => s.maar.name).join(', ') || 'none'}), expected exactly one${expected !== undefined ? ` (${expected})` : ''}`)
      continue
    }
    const server = servers[0]
    if (server === undefined) continue
    if (expected !== undefined && server.maar.name !== expected) serving(`${mnId}: served by ${server.maar.name}, but it attached to ${expected} last`)
    const anchors = holders.filter(h => !h.entry.attached)
    for (const a of anchors) {
      const points = a.entry.servingMaar?.address
      if (points !== server.maar.address) serving(`${mnId}: anchor ${a.maar.name} points to ${points ?? 'nothing'}, the serving MAAR is ${server.maar.name} (${server.maar.address})`)
    }
    // The serving MAAR's remote anchors are exactly the prefixes the other MAARs anchor for the MN.
    const held = new Set(anchors.flatMap(a => a.entry.localPrefixes.map(p => `${p}@${a.maar.address}`)))
    const listed = new Set(server.entry.remoteAnchors.map(r => `${r.prefix}@${r.address}`))
    for (const h of held) if (!listed.has(h)) serving(`${mnId}: ${server.maar.name} does not list the anchored prefix ${h} among its remote anchors`)
    for (const l of listed) if (!held.has(l)) serving(`${mnId}: ${server.maar.name} lists ${l} as a remote anchor, but no MAAR there anchors it`)
  }
  return violations
}
