/**
 * The Linux data plane: a declarative, idempotent apply() over iproute2 (tailscale
 * router_linux.go). Everything of ours in the kernel is tagged (route/rule protocol number,
 * device names), so start() reads it back and the first apply() removes what the desired state
 * lacks and adds what it misses (reconciliation on start).
 */
import { canonicalIpv6 } from '@dmm-mesh/wire'
import { diffKernel, readKernel } from './kernel.js'
import { KernelPlan } from './kernel-plan.js'
import { normalizePools, normalizeState, planMns, planOwn } from './plan.js'
import { RadvdManager, radvdConfig } from './radvd.js'
import { CommandError, ExecRunner, runChecked } from './runner.js'
import { routerDevice } from './names.js'
import { render } from './model.js'
import { routerMode, sharedRouter } from '../dlif.js'
import type { DlifSettings } from '../dlif.js'
import type { KernelState, Route } from './model.js'
import type { PlanOptions } from './plan.js'
import type { CommandRunner } from './runner.js'
import type { ApplyOptions, ApplyResult, DataPlane, DataPlaneState } from '../types.js'
import { FullApplyNeeded, emptyState } from '../types.js'
import { SliceTracker, joinSlices } from '../mn-slices.js'
import type { MnSlice } from '../mn-slices.js'

/** What the driver keeps of one MN between applies: its validated slice and its kernel objects. */
interface MnProgram { state: DataPlaneState, part: KernelState }

/** The KernelPlan owner of the driver's own objects (no MN-ID is empty). */
const OWN = ''

/** `dlif` and `accessRouter` (DlifSettings, dlif.ts): which router the MN sees on its access link. */
export interface LinuxDataPlaneOptions extends DlifSettings {
  /** `seg6`: SRv6 reduced encapsulation + End.DT6 (works without tunnel devices); `ip6tnl`: one ip6ip6 device per remote MAAR. */
  tunnelKind: 'seg6' | 'ip6tnl'
  /**
   * This MAAR's tunnel endpoint; other MAARs name it as `remote`. seg6: it IS this MAAR's
   * decapsulating SID (End.DT6): a /128 the backbone routes to this MAAR that must NOT be
   * assigned to a local interface (a local address is delivered before the seg6local route).
   * ip6tnl: the local tunnel endpoint, which must be assigned to a local interface.
   */
  tunnelAddress: string
  /** Interface towards the other MAARs (tunnels leave through it; the SID route hangs on it). */
  backboneInterface: string
  /**
   * The MAAR's own pools, which every prefix it anchors comes from (RFC 8885 §3.1). Given, seg6's
   * backbone rules let the pools through with two rules each instead of one or two per MN
   * anchored here, and each pool gets an unreachable route at the lowest preference, so an
   * address no MN holds is refused rather than sent out of a default route (plan.ts planOwn).
   */
  ownPools?: string[]
  /**
   * Where the driver's routing tables end (default 1000, at least 3): the uplink table (every
   * served MN's `default from PREFIX` into its anchor's tunnel, plan.ts planMns) is tableBase - 2,
   * seg6's served table (the delivery routes of the MNs served here for another anchor, plan.ts
   * planOwn) tableBase - 1. Tables from tableBase up held one uplink per prefix in earlier
   * versions; tables no version gave an uplink, so an upgraded MAAR finds them free and its first
   * apply empties the old ones.
   */
  tableBase?: number
  /**
   * Priority of the source-based uplink rules and of seg6's backbone rules (default 1000, before
   * main at 32766); seg6 refuses the rest of the backbone's packets at this + 1 (plan.ts).
   */
  rulePriority?: number
  /** rtm_protocol tag on our routes and rules (default 213, unassigned in rt_protos). */
  routeProtocol?: number
  runner?: CommandRunner
  radvd?: { enabled: boolean, runDir: string, binary?: string }
  /** Network namespace to program (used when no runner is given). */
  netns?: string
  name?: string
}

export class LinuxDataPlane implements DataPlane {
  readonly name: string
  private readonly runner: CommandRunner
  private readonly plan: PlanOptions
  private readonly tableBase: number
  private readonly proto: number
  private readonly radvd: RadvdManager | undefined
  /** What the kernel has of ours; undefined = unknown (before start, after a failed batch). */
  private kernel: KernelState | undefined
  /**
   * Access links whose shared router device stays while the driver runs, MN or not: the router
   * belongs to the link, and removing a device waits for the kernel's RCU grace periods (~30 ms
   * measured) inside the apply the anchor answers its PBA after. Seeded from the kernel on sync,
   * so a link that went away (its macvlan with it) drops out.
   */
  private routerLinks = new Set<string>()
  /** What is programmed per MN (the last successful apply). */
  private readonly mns = new SliceTracker<MnProgram>()
  /** The wanted kernel objects, per owner; undefined = plan everything again against a fresh read. */
  private kernelPlan: KernelPlan | undefined
  private running = false

  constructor (private readonly opts: LinuxDataPlaneOptions) {
    if (opts.tunnelKind !== 'seg6' && opts.tunnelKind !== 'ip6tnl') throw new TypeError(`tunnelKind must be seg6 or ip6tnl, got ${JSON.stringify(opts.tunnelKind)}`)
    this.tableBase = opts.tableBase ?? 1000
    if (!Number.isInteger(this.tableBase) || this.tableBase < 3 || this.tableBase > 0xfffffff0) throw new TypeError(`tableBase must be an integer from 3 to ${0xfffffff0}, got ${JSON.stringify(opts.tableBase)}`)
    this.name = opts.name ?? `linux-${opts.tunnelKind}`
    this.runner = opts.runner ?? new ExecRunner(opts.netns !== undefined ? { netns: opts.netns } : {})
    this.plan = {
      tunnelKind: opts.tunnelKind,
      tunnelAddress: canonicalIpv6(opts.tunnelAddress),
      backboneInterface: opts.backboneInterface,
      rulePriority: opts.rulePriority ?? 1000,
      servedTable: this.tableBase - 1,
      uplinkTable: this.tableBase - 2,
      ownPools: normalizePools(opts.ownPools),
      ...routerMode(opts)
    }
    this.proto = opts.routeProtocol ?? 213
    this.radvd = opts.radvd?.enabled === true ? new RadvdManager(this.runner, opts.radvd.runDir, opts.radvd.binary) : undefined
  }

  async start (): Promise<void> {
    // Forwarding on (RFC 5213 §6.10.3 forwarding); seg6_enabled on the backbone for SRv6 input.
    const sysctls = ['net.ipv6.conf.all.forwarding=1']
    if (this.plan.tunnelKind === 'seg6') sysctls.push('net.ipv6.conf.all.seg6_enabled=1', `net.ipv6.conf.${this.plan.backboneInterface}.seg6_enabled=1`)
    await runChecked(this.runner, ['sysctl', '-q', '-w', ...sysctls])
    await this.checkSourceRoutes()
    await this.sync()
    this.running = true
  }

  /**
   * The uplink table holds source-specific routes (`default from PREFIX`), which a kernel built
   * without CONFIG_IPV6_SUBTREES refuses: one such route in the uplink table (from the
   * discard-only prefix, RFC 6666), added and removed, tells before any MN depends on it.
   */
  private async checkSourceRoutes (): Promise<void> {
    const probe: Route = { table: this.plan.uplinkTable, dst: 'default', src: '100::/64', via: { kind: 'unreachable' } }
    try {
      await runChecked(this.runner, ['ip', '-6', '-batch', '-'], `${render.routeReplace(probe, this.proto)}\n${render.routeDel(probe, this.proto)}\n`)
    } catch (err) {
      if (!(err instanceof CommandError)) throw err
      throw new Error(`this kernel refuses source-specific IPv6 routes (ip -6 route ... from PREFIX), which the uplink table needs (kernel built without CONFIG_IPV6_SUBTREES?): ${err.result.stderr.trim()}`)
    }
  }

  /** Re-reads what the kernel has of ours. */
  private async sync (): Promise<KernelState> {
    const k = await readKernel(this.runner, this.proto)
    const router = sharedRouter(this.plan)
    this.routerLinks = new Set(router === undefined
      ? []
      : [...k.links.values()].flatMap(l => l.kind === 'macvlan' && l.name === routerDevice(l.parent, router) ? [l.parent] : []))
    this.kernel = k
    this.kernelPlan = undefined
    return k
  }

  async apply (desired: DataPlaneState, opts: ApplyOptions = {}): Promise<ApplyResult> {
    const t0 = performance.now()
    if (opts.only !== undefined && (this.kernel === undefined || this.kernelPlan === undefined)) throw new FullApplyNeeded(this.name)
    const changes = await this.program(desired, this.running, opts.only)
    return { changes, elapsedMs: performance.now() - t0 }
  }

  /**
   * Plans and programs the MNs whose slice of `desired` changed since the last apply (every MN
   * after start or a failed batch, diffed against what the kernel really holds), so a handover
   * costs O(its own objects) however many MNs the MAAR serves.
   */
  private async program (desired: DataPlaneState, running: boolean, only?: Iterable<string>): Promise<string[]> {
    const kernel = this.kernel ?? await this.sync()
    const fresh = this.kernelPlan === undefined
    const { changed, removed } = this.mns.changes(running ? desired : emptyState(), { everything: fresh, ...(running && only !== undefined ? { only } : {}) })
    // Everything is validated before anything changes.
    const wanted = new Map([...changed].map(([mnId, slice]) => [mnId, normalizeState(slice.state, slice.at)]))

    if (!running) this.routerLinks.clear()
    else for (const w of wanted.values()) for (const x of [...w.local, ...w.uplinks, ...w.advertisements]) this.routerLinks.add(x.accessLink)
    const parts = new Map<string, KernelState | undefined>([[OWN, planOwn(this.plan, running, sharedRouter(this.plan) !== undefined ? this.routerLinks : [])]])
    for (const [mnId, w] of wanted) parts.set(mnId, planMns(w, this.plan))
    for (const mnId of removed) parts.set(mnId, undefined)

    const plan = this.kernelPlan ?? new KernelPlan()
    const { from, keys } = plan.update(parts)
    const lines = fresh ? diffKernel(kernel, plan.target, this.proto) : diffKernel(from, plan.target, this.proto, keys)
    if (lines.length > 0) {
      try {
        await runChecked(this.runner, ['ip', '-6', '-batch', '-'], lines.join('\n') + '\n')
      } catch (err) {
        // Part of the batch may have run: re-read the kernel and plan everything before the next apply.
        this.kernel = undefined
        this.kernelPlan = undefined
        throw err
      }
    }
    this.kernelPlan = plan
    this.kernel = plan.target

    const before = (mnId: string): DataPlaneState => this.mns.get(mnId)?.state ?? emptyState()
    const changes = describeChanges([...wanted].map(([mnId, w]) => [before(mnId), w]), removed.map(mnId => [before(mnId), emptyState()]))
    if (changes.length === 0 && lines.length > 0) changes.push(`~ kernel reconciled (${lines.length} commands)`)
    const radvdConfigs = new Map<string, string | undefined>(removed.map(mnId => [mnId, undefined]))
    for (const [mnId, w] of wanted) {
      const ad = w.advertisements.at(-1)
      radvdConfigs.set(mnId, ad !== undefined ? radvdConfig(ad, this.plan) : undefined)
    }

    for (const mnId of removed) this.mns.forget(mnId)
    for (const [mnId, w] of wanted) this.mns.record(mnId, (changed.get(mnId) as MnSlice).state, { state: w, part: parts.get(mnId) as KernelState })

    if (this.radvd !== undefined) {
      // After a fresh read, radvds of MNs no longer here are stopped and dead ones restarted.
      if (fresh) changes.push(...await this.radvd.sync(new Map([...radvdConfigs].filter((e): e is [string, string] => e[1] !== undefined))))
      else changes.push(...await this.radvd.update(radvdConfigs))
    }
    return changes
  }

  current (): DataPlaneState {
    return structuredClone(joinSlices([...this.mns.values()].map(m => m.state)))
  }

  async stop (opts: { flush?: boolean } = {}): Promise<void> {
    if (opts.flush === true) await this.program(emptyState(), false)
    this.running = false
  }
}

function lines (s: DataPlaneState): string[] {
  return [
    ...s.local.map(l => `local ${l.prefix} on ${l.accessLink} (${l.mnId})`),
    ...s.downlinks.map(d => `downlink ${d.prefix} -> ${d.remote} (${d.mnId})`),
    ...s.uplinks.map(u => `uplink ${u.prefix} from ${u.accessLink} -> ${u.remote} (${u.mnId})`),
    ...s.advertisements.map(a => `advertise to ${a.mnId} on ${a.accessLink}: ${a.prefixes.map(p => `${p.prefix}${p.preferred ? '' : ' deprecated'}`).join(', ')}`)
  ]
}

/** "+ x" for what appears, "- x" for what goes, per MN (from, to), in the ApplyResult style. */
function describeChanges (...pairs: Array<Array<[DataPlaneState, DataPlaneState]>>): string[] {
  const added: string[] = []
  const gone: string[] = []
  for (const [from, to] of pairs.flat()) {
    const a = new Set(lines(from))
    const b = new Set(lines(to))
    for (const x of b) if (!a.has(x)) added.push(`+ ${x}`)
    for (const x of a) if (!b.has(x)) gone.push(`- ${x}`)
  }
  return [...added, ...gone]
}
