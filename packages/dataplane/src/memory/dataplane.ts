/**
 * The DataPlane driver of one simulated MAAR. Its "kernel" lives in the MemoryNetwork and
 * outlives the driver: stop() without flush leaves the routes in place, and the next driver for
 * the same MAAR finds them and reconciles them on its first apply, as the Linux driver does.
 */
import type { ApplyResult, DataPlane, DataPlaneState } from '../types.js'
import { program } from './router.js'
import type { Router } from './router.js'
import { diff, emptyProgrammed, normalize, toState } from './state.js'

export type DataPlaneStatus = 'created' | 'started' | 'stopped'

export class MemoryDataPlane implements DataPlane {
  private state: DataPlaneStatus = 'created'

  /** Built by MemoryNetwork.createDataPlane; `changed` lets the network update the MNs on the link. */
  constructor (private readonly router: Router, private readonly changed: (router: Router) => void) {}

  get name (): string { return this.router.name }
  get address (): string { return this.router.address }
  get status (): DataPlaneStatus { return this.state }

  async start (): Promise<void> {
    if (this.state === 'stopped') throw new Error(`data plane ${this.name} was stopped; create a new one`)
    if (this.router.owner !== undefined && this.router.owner !== this) throw new Error(`MAAR ${this.name} already has a running data plane`)
    this.state = 'started'
    this.router.owner = this
  }

  /** Makes the programmed state equal `desired`; validates all of it before changing anything. */
  async apply (desired: DataPlaneState): Promise<ApplyResult> {
    if (this.state !== 'started') throw new Error(`data plane ${this.name} is ${this.state}, not started`)
    const t0 = performance.now()
    const next = normalize(desired)
    const changes = diff(this.router.programmed, next)
    if (changes.length > 0) {
      program(this.router, next)
      this.changed(this.router)
    }
    return { changes, elapsedMs: performance.now() - t0 }
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
