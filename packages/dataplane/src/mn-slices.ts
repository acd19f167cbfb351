/**
 * A DataPlaneState cut into one slice per MN, and a tracker of which slices changed since the
 * last apply. A MAAR hands its driver the whole desired state on every change (so that a
 * handover, a restart and a reconciliation stay one call), but a handover changes one MN: the
 * drivers re-validate and re-plan only the slices that differ, so an apply costs O(changed MNs)
 * in parsing and programming, and one cheap comparison per unchanged MN.
 */
import type { DataPlaneState } from './types.js'

type Kind = keyof DataPlaneState
const KINDS: Kind[] = ['local', 'downlinks', 'uplinks', 'advertisements']

/** One MN's part of a state, with the index each item had in the whole state (for error paths). */
export interface MnSlice {
  state: DataPlaneState
  at: Record<Kind, number[]>
}

/** The key under which an item with no usable mnId is kept, so validation still names it. */
const NO_MN = '\u0000no mnId'

/** Throws TypeError when `s` is not the four arrays; items are checked by the driver's validation. */
export function splitByMn (s: DataPlaneState): Map<string, MnSlice> {
  if (s === null || typeof s !== 'object' || !KINDS.every(k => Array.isArray(s[k]))) {
    throw new TypeError('state: needs local, downlinks, uplinks and advertisements arrays')
  }
  const out = new Map<string, MnSlice>()
  for (const kind of KINDS) {
    const items = s[kind] as Array<{ mnId?: unknown }>
    items.forEach((item, i) => {
      const id = typeof item?.mnId === 'string' && item.mnId.length > 0 ? item.mnId : NO_MN
      let slice = out.get(id)
      if (slice === undefined) {
        slice = { state: { local: [], downlinks: [], uplinks: [], advertisements: [] }, at: { local: [], downlinks: [], uplinks: [], advertisements: [] } }
        out.set(id, slice)
      }
      ;(slice.state[kind] as unknown[]).push(item)
      slice.at[kind].push(i)
    })
  }
  return out
}

/** The slices back as one state, in MN order. */
export function joinSlices (slices: Iterable<DataPlaneState>): DataPlaneState {
  const out: DataPlaneState = { local: [], downlinks: [], uplinks: [], advertisements: [] }
  for (const s of slices) {
    out.local.push(...s.local)
    out.downlinks.push(...s.downlinks)
    out.uplinks.push(...s.uplinks)
    out.advertisements.push(...s.advertisements)
  }
  return out
}

export interface SliceChanges {
  /** MNs that are new or whose slice differs, with the slice as given. */
  changed: Map<string, MnSlice>
  /** MNs known before and absent now. */
  removed: string[]
}

/**
 * A route has one owner: the first key an owner in `wants` asks for while another owner holds it
 * and keeps it (is not in `changing`), or another owner in `wants` asks for it too.
 */
export function firstClash (wants: Iterable<[owner: string, keys: Iterable<string>]>, holderOf: (key: string) => string | undefined, changing: Set<string>): { key: string, holder: string, owner: string } | undefined {
  const claimed = new Map<string, string>()
  for (const [owner, keys] of wants) {
    for (const key of keys) {
      const holder = claimed.get(key) ?? holderOf(key)
      if (holder !== undefined && holder !== owner && (claimed.has(key) || !changing.has(holder))) return { key, holder, owner }
      claimed.set(key, owner)
    }
  }
  return undefined
}

/** Deep equality of plain data (what a DataPlaneState is made of), without serialising it. */
export function sameData (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (!sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  return true
}

/**
 * Per MN, a copy of the slice last programmed (to compare with) and what the driver derived
 * from it. `changes()` only compares; `record()` stores once the change is programmed, so a
 * failed apply leaves the tracker describing what is really in place.
 */
export class SliceTracker<T> {
  private readonly known = new Map<string, { given: DataPlaneState, value: T }>()

  /** `everything`: report every MN of `s` as changed (to re-plan all of them). */
  changes (s: DataPlaneState, opts: { everything?: boolean, only?: Iterable<string> } = {}): SliceChanges {
    const changed = new Map<string, MnSlice>()
    const slices = splitByMn(s)
    if (opts.only !== undefined) {
      // `s` holds these MNs' parts alone (DataPlane.apply's `only`): nobody else is compared.
      const removed: string[] = []
      for (const mnId of new Set([...opts.only, ...slices.keys()])) {
        const slice = slices.get(mnId)
        const known = this.known.get(mnId)
        if (slice === undefined) { if (known !== undefined) removed.push(mnId); continue }
        if (opts.everything === true || known === undefined || !sameData(known.given, slice.state)) changed.set(mnId, slice)
      }
      return { changed, removed }
    }
    let fresh = 0
    for (const [mnId, slice] of slices) {
      const known = this.known.get(mnId)
      if (known === undefined) fresh++
      else if (opts.everything !== true && sameData(known.given, slice.state)) continue
      changed.set(mnId, slice)
    }
    // Some known MN is absent exactly when fewer known MNs are present than are known.
    const removed: string[] = []
    if (slices.size - fresh < this.known.size) for (const mnId of this.known.keys()) if (!slices.has(mnId)) removed.push(mnId)
    return { changed, removed }
  }

  get (mnId: string): T | undefined {
    return this.known.get(mnId)?.value
  }

  /** Keeps a copy of `given`: the caller may reuse or change its objects afterwards. */
  record (mnId: string, given: DataPlaneState, value: T): void {
    this.known.set(mnId, { given: structuredClone(given), value })
  }

  forget (mnId: string): void {
    this.known.delete(mnId)
  }

  clear (): void {
    this.known.clear()
  }

  values (): IterableIterator<T> {
    return [...this.known.values()].map(k => k.value)[Symbol.iterator]()
  }
}
