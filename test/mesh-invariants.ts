/**
 * What must hold across the binding caches of a mesh once signalling has settled (RFC 8885 §3:
 * one serving MAAR per MN, every anchor of the MN tunnels to it, and it knows every anchor;
 * doc/ARCHITECTURE.md: pools are disjoint and a prefix belongs to one MN at a time).
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'

/** One MAAR's binding cache as `GET /bindings` returns it. */
export interface CacheSnapshot { name: string, address: string, bindings: BindingCacheEntry[] }

/**
 * Every broken invariant, one line each (empty: the mesh is consistent). `expectedServing` maps
 * an MN to the name of the MAAR it attached to last; MNs not in it are checked for the rest.
 */
export function meshViolations (caches: CacheSnapshot[], expectedServing = new Map<string, string>()): string[] {
  const violations: string[] = []
  const byMn = new Map<string, Array<{ maar: CacheSnapshot, entry: BindingCacheEntry }>>()
  const prefixOwner = new Map<string, string>()
  for (const maar of caches) {
    for (const entry of maar.bindings) {
      byMn.set(entry.mnId, [...(byMn.get(entry.mnId) ?? []), { maar, entry }])
      for (const prefix of entry.localPrefixes) {
        const owner = prefixOwner.get(prefix)
        if (owner !== undefined && owner !== entry.mnId) violations.push(`prefix ${prefix} is held by ${owner} and by ${entry.mnId} (at ${maar.name})`)
        prefixOwner.set(prefix, entry.mnId)
      }
    }
  }
  for (const mnId of expectedServing.keys()) if (!byMn.has(mnId)) violations.push(`${mnId}: no MAAR holds it`)

  for (const [mnId, holders] of byMn) {
    const serving = holders.filter(h => h.entry.attached)
    const expected = expectedServing.get(mnId)
    if (serving.length !== 1) {
      violations.push(`${mnId}: ${serving.length} serving MAARs (${serving.map(s => s.maar.name).join(', ') || 'none'}), expected exactly one${expected !== undefined ? ` (${expected})` : ''}`)
      continue
    }
    const server = serving[0]
    if (server === undefined) continue
    if (expected !== undefined && server.maar.name !== expected) violations.push(`${mnId}: served by ${server.maar.name}, but it attached to ${expected} last`)
    const anchors = holders.filter(h => !h.entry.attached)
    for (const a of anchors) {
      const points = a.entry.servingMaar?.address
      if (points !== server.maar.address) violations.push(`${mnId}: anchor ${a.maar.name} points to ${points ?? 'nothing'}, the serving MAAR is ${server.maar.name} (${server.maar.address})`)
    }
    // The serving MAAR's remote anchors are exactly the prefixes the other MAARs anchor for the MN.
    const held = new Set(anchors.flatMap(a => a.entry.localPrefixes.map(p => `${p}@${a.maar.address}`)))
    const listed = new Set(server.entry.remoteAnchors.map(r => `${r.prefix}@${r.address}`))
    for (const h of held) if (!listed.has(h)) violations.push(`${mnId}: ${server.maar.name} does not list the anchored prefix ${h} among its remote anchors`)
    for (const l of listed) if (!held.has(l)) violations.push(`${mnId}: ${server.maar.name} lists ${l} as a remote anchor, but no MAAR there anchors it`)
  }
  return violations
}
