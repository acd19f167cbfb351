/**
 * The kernel objects the driver wants, kept as the union of each owner's part (an MN's routes,
 * rules and devices; the driver's own SID route and router devices), so that a change of one MN
 * replaces that MN's part only. Routes belong to one owner: two MNs wanting the same prefix is
 * refused. Devices (a tunnel per remote MAAR, a router per access link) and rules (an access-side
 * device's rule into the uplink table, plan.ts planMns) are shared and stay while any owner uses
 * them.
 */
import { emptyKernel } from './model.js'
import { firstClash } from '../mn-slices.js'
import type { KernelState } from './model.js'
import type { KernelKeys } from './kernel.js'

export interface TouchedKeys extends KernelKeys { routes: Set<string>, rules: Set<string>, links: Set<string> }

export class KernelPlan {
  readonly target: KernelState = emptyKernel()
  private readonly parts = new Map<string, KernelState>()
  private readonly routeOwner = new Map<string, string>()
  private readonly linkUsers = new Map<string, number>()
  private readonly ruleUsers = new Map<string, number>()

  /**
   * Replaces the parts of the owners in `changes` (undefined removes one). Returns the keys that
   * may have changed and their objects before, for diffKernel(from, target, proto, keys).
   * Throws, changing nothing, when two owners want one route.
   */
  update (changes: Map<string, KernelState | undefined>): { from: KernelState, keys: TouchedKeys } {
    const clash = firstClash([...changes].map(([owner, part]) => [owner, part?.routes.keys() ?? []]), key => this.routeOwner.get(key), new Set(changes.keys()))
    if (clash !== undefined) throw new TypeError(`route ${clash.key} is wanted for both ${clash.holder} and ${clash.owner}`)
    const keys: TouchedKeys = { routes: new Set(), rules: new Set(), links: new Set() }
    for (const [owner, part] of changes) {
      for (const k of [this.parts.get(owner), part]) {
        if (k === undefined) continue
        for (const key of k.routes.keys()) keys.routes.add(key)
        for (const key of k.rules.keys()) keys.rules.add(key)
        for (const name of k.links.keys()) keys.links.add(name)
      }
    }
    const from = snapshot(this.target, keys)
    for (const owner of changes.keys()) this.remove(owner)
    for (const [owner, part] of changes) if (part !== undefined) this.add(owner, part)
    return { from, keys }
  }

  private remove (owner: string): void {
    const old = this.parts.get(owner)
    if (old === undefined) return
    for (const key of old.routes.keys()) { this.target.routes.delete(key); this.routeOwner.delete(key) }
    for (const key of old.rules.keys()) release(this.ruleUsers, this.target.rules, key)
    for (const name of old.links.keys()) release(this.linkUsers, this.target.links, name)
    this.parts.delete(owner)
  }

  private add (owner: string, part: KernelState): void {
    for (const [key, r] of part.routes) { this.target.routes.set(key, r); this.routeOwner.set(key, owner) }
    for (const [key, r] of part.rules) use(this.ruleUsers, this.target.rules, key, r)
    for (const [name, l] of part.links) use(this.linkUsers, this.target.links, name, l)
    this.parts.set(owner, part)
  }
}

/** One more owner of a shared object. */
function use<T> (users: Map<string, number>, target: Map<string, T>, key: string, value: T): void {
  users.set(key, (users.get(key) ?? 0) + 1)
  target.set(key, value)
}

/** One owner fewer; the object goes with its last one. */
function release<T> (users: Map<string, number>, target: Map<string, T>, key: string): void {
  const left = (users.get(key) ?? 1) - 1
  if (left > 0) users.set(key, left)
  else { users.delete(key); target.delete(key) }
}

/** The objects of `keys` as they are in `k` now. */
function snapshot (k: KernelState, keys: KernelKeys): KernelState {
  const out = emptyKernel()
  for (const key of keys.routes) { const r = k.routes.get(key); if (r !== undefined) out.routes.set(key, r) }
  for (const key of keys.rules) { const r = k.rules.get(key); if (r !== undefined) out.rules.set(key, r) }
  for (const name of keys.links) { const l = k.links.get(name); if (l !== undefined) out.links.set(name, l) }
  return out
}
