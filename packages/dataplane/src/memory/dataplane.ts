/**
 * The DataPlane driver of one simulated MAAR. Its "kernel" lives in the MemoryNetwork and
 * outlives the driver: stop() without flush leaves the routes in place, and the next driver for
 * the same MAAR finds them and reconciles them on its first apply, as the Linux driver does.
 */
import { FullApplyNeeded } from '../types.js'
import type { ApplyOptions, ApplyResult, DataPlane, DataPlaneState } from '../types.js'
import { formatPrefix, parsePrefix } from '@dmm-mesh/wire'
import { SliceTracker, firstClash } from '../mn-slices.js'
import type { MnSlice } from '../mn-slices.js'
import { program, replaceParts } from './router.js'
import type { Router } from './router.js'
import { DataPlaneStateError, checkShape, describeRoute, diff, emptyProgrammed, merge, normalize, toState } from './state.js'
import type { Programmed, Route } from './state.js'

export type DataPlaneStatus = 'created' | 'started' | 'stopped'

export class MemoryDataPlane implements DataPlane {
  private state: DataPlaneStatus = 'created'
  /** Each MN's part as last applied; until the first apply the router's state is not known to match. */
  private readonly mns = new SliceTracker<Programmed>()
  private synced = false

  /** Built by MemoryNetwork.createDataPlane; `changed` lets the network update the MNs on the link. */
  constructor (private readonly router: Router, private readonly changed: (router: Router, mnIds?: string[]) => void) {}

  get name (): string { return this.router.name }
  get address (): string { return this.router.address }
  get status (): DataPlaneStatus { return this.state }

  async start (): Promise<void> {
    if (this.state === 'stopped') throw new Error(`data plane ${this.name} was stopped; create a new one`)
    if (this.router.owner !== undefined && this.router.owner !== this) throw new Error(`MAAR ${this.name} already has a running data plane`)
    this.state = 'started'
    this.router.owner = this
    this.mns.clear()
    this.synced = false
  }

  /**
   * Makes the programmed state equal `desired`; validates all of it before changing anything.
   * Only the MNs whose slice changed since the last apply are validated and reprogrammed (all of
   * them on the first apply, against what the router holds), so a handover costs O(that MN).
   */
  async apply (desired: DataPlaneState, opts: ApplyOptions = {}): Promise<ApplyResult> {
    if (this.state !== 'started') throw new Error(`data plane ${this.name} is ${this.state}, not started`)
    const t0 = performance.now()
    checkShape(desired)
    const fresh = !this.synced
    if (fresh && opts.only !== undefined) throw new FullApplyNeeded(this.name)
    const { changed, removed } = this.mns.changes(desired, { everything: fresh, ...(opts.only !== undefined ? { only: opts.only } : {}) })
    const parts = new Map([...changed].map(([mnId, slice]) => [mnId, normalize(slice.state, slice.at)]))
    this.refuseSharedPrefixes(parts, changed, new Set([...changed.keys(), ...removed]), fresh)

    const old = [...changed.keys(), ...removed].flatMap(mnId => this.mns.get(mnId) ?? [])
    const next = merge(parts.values())
    const changes = diff(fresh ? this.router.programmed : merge(old), next)
    if (fresh) {
      if (changes.length > 0) program(this.router, next)
    } else {
      replaceParts(this.router, old, [...parts.values()])
    }
    for (const mnId of removed) this.mns.forget(mnId)
    for (const [mnId, part] of parts) this.mns.record(mnId, (changed.get(mnId) as MnSlice).state, part)
    this.synced = true
    // After a (re)start every MN on the link looks again: the new driver may show another router (dlif.ts).
    if (changes.length > 0 || fresh) this.changed(this.router, fresh ? undefined : [...changed.keys(), ...removed])
    return { changes, elapsedMs: performance.now() - t0 }
  }

  /** One route per prefix: an MN may not take a prefix another MN holds and keeps. */
  private refuseSharedPrefixes (parts: Map<string, Programmed>, slices: Map<string, MnSlice>, leaving: Set<string>, fresh: boolean): void {
    const held = (prefix: string): Route | undefined => fresh ? undefined : this.router.programmed.routes.get(prefix)
    const clash = firstClash([...parts].map(([mnId, part]) => [mnId, part.routes.keys()]), prefix => held(prefix)?.mnId, leaving)
    if (clash === undefined) return
    const route = parts.get(clash.owner)?.routes.get(clash.key) as Route
    const holder = parts.get(clash.holder)?.routes.get(clash.key) ?? held(clash.key) as Route
    throw new DataPlaneStateError(pathOf(slices.get(clash.owner), route), `prefix ${clash.key} already has "${describeRoute(holder)}"`)
  }

  current (): DataPlaneState {
    return toState(this.router.programmed)
  }

  async stop (opts: { flush?: boolean } = {}): Promise<void> {
    if (this.state === 'stopped') return
    if (opts.flush === true && this.state === 'started') {
      program(this.router, emptyProgrammed())
      this.changed(this.router)
    }
    this.state = 'stopped'
    if (this.router.owner === this) delete this.router.owner
  }
}

/** Where `route` sits in the whole desired state (for the error), e.g. "downlinks[3]". */
function pathOf (slice: MnSlice | undefined, route: Route): string {
  const kind = route.kind === 'local' ? 'local' : route.kind === 'uplink' ? 'uplinks' : 'downlinks'
  const i = (slice?.state[kind] ?? []).findIndex(item => formatPrefix(parsePrefix(item.prefix)) === route.prefix)
  return i < 0 ? `mn ${route.mnId}` : `${kind}[${slice?.at[kind][i] ?? i}]`
}
