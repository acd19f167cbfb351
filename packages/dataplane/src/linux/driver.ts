/**
 * The Linux data plane: a declarative, idempotent apply() over iproute2 (tailscale
 * router_linux.go). Everything of ours in the kernel is tagged (route/rule protocol number,
 * device names), so start() reads it back and the first apply() removes what the desired state
 * lacks and adds what it misses (reconciliation on start).
 */
import { canonicalIpv6 } from '@dmm-mesh/wire'
import { diffKernel, readKernel } from './kernel.js'
import { assignTables, normalizeState, planKernel } from './plan.js'
import { RadvdManager, radvdConfig } from './radvd.js'
import { ExecRunner, runChecked } from './runner.js'
import type { KernelState } from './model.js'
import type { PlanOptions } from './plan.js'
import type { CommandRunner } from './runner.js'
import type { ApplyResult, DataPlane, DataPlaneState } from '../types.js'
import { emptyState } from '../types.js'

export interface LinuxDataPlaneOptions {
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
  /** First routing table for per-prefix uplink tables (default 1000). */
  tableBase?: number
  /** Priority of the source-based uplink rules (default 1000, before main at 32766). */
  rulePriority?: number
  /** rtm_protocol tag on our routes and rules (default 213, unassigned in rt_protos). */
  routeProtocol?: number
  runner?: CommandRunner
  radvd?: { enabled: boolean, runDir: string, binary?: string }
  /** RFC 8885 DLIF: one macvlan logical router per anchoring MAAR on each access link. */
  dlif?: boolean
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
  private tables = new Map<string, number>()
  private state: DataPlaneState = emptyState()
  private running = false

  constructor (private readonly opts: LinuxDataPlaneOptions) {
    if (opts.tunnelKind !== 'seg6' && opts.tunnelKind !== 'ip6tnl') throw new TypeError(`tunnelKind must be seg6 or ip6tnl, got ${JSON.stringify(opts.tunnelKind)}`)
    this.name = opts.name ?? `linux-${opts.tunnelKind}`
    this.runner = opts.runner ?? new ExecRunner(opts.netns !== undefined ? { netns: opts.netns } : {})
    this.plan = {
      tunnelKind: opts.tunnelKind,
      tunnelAddress: canonicalIpv6(opts.tunnelAddress),
      backboneInterface: opts.backboneInterface,
      dlif: opts.dlif ?? false,
      rulePriority: opts.rulePriority ?? 1000
    }
    this.tableBase = opts.tableBase ?? 1000
    this.proto = opts.routeProtocol ?? 213
    this.radvd = opts.radvd?.enabled === true ? new RadvdManager(this.runner, opts.radvd.runDir, opts.radvd.binary) : undefined
  }

  async start (): Promise<void> {
    // Forwarding on (RFC 5213 §6.10.3 forwarding); seg6_enabled on the backbone for SRv6 input.
    const sysctls = ['net.ipv6.conf.all.forwarding=1']
    if (this.plan.tunnelKind === 'seg6') sysctls.push('net.ipv6.conf.all.seg6_enabled=1', `net.ipv6.conf.${this.plan.backboneInterface}.seg6_enabled=1`)
    await runChecked(this.runner, ['sysctl', '-q', '-w', ...sysctls])
    await this.sync()
    this.running = true
  }

  /** Re-reads what the kernel has of ours, and which prefix uses which uplink table. */
  private async sync (): Promise<KernelState> {
    const k = await readKernel(this.runner, this.proto)
    this.tables = new Map([...k.rules.values()].map(r => [r.src, r.table]))
    this.kernel = k
    return k
  }

  async apply (desired: DataPlaneState): Promise<ApplyResult> {
    const t0 = performance.now()
    const want = normalizeState(desired)
    const changes = await this.program(want, this.running)
    return { changes, elapsedMs: performance.now() - t0 }
  }

  private async program (want: DataPlaneState, running: boolean): Promise<string[]> {
    const kernel = this.kernel ?? await this.sync()
    const inKernel = new Set([...kernel.routes.values()].map(r => r.table).filter((t): t is number => t !== 'main'))
    const tables = assignTables([...new Set(want.uplinks.map(u => u.prefix))], this.tables, inKernel, this.tableBase)
    const target = planKernel(want, this.plan, tables, running)
    const lines = diffKernel(kernel, target, this.proto)
    if (lines.length > 0) {
      try {
        await runChecked(this.runner, ['ip', '-6', '-batch', '-'], lines.join('\n') + '\n')
      } catch (err) {
        this.kernel = undefined // part of the batch may have run: re-read before the next apply
        throw err
      }
    }
    this.kernel = target
    this.tables = tables
    const changes = describeChanges(this.state, want)
    if (changes.length === 0 && lines.length > 0) changes.push(`~ kernel reconciled (${lines.length} commands)`)
    this.state = want
    if (this.radvd !== undefined) {
      const configs = new Map(want.advertisements.map(a => [a.mnId, radvdConfig(a, this.plan.dlif)]))
      changes.push(...await this.radvd.sync(running ? configs : new Map()))
    }
    return changes
  }

  current (): DataPlaneState {
    return structuredClone(this.state)
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

/** "+ x" for what appears, "- x" for what goes, in the ApplyResult style. */
function describeChanges (from: DataPlaneState, to: DataPlaneState): string[] {
  const a = new Set(lines(from))
  const b = new Set(lines(to))
  return [...[...b].filter(x => !a.has(x)).map(x => `+ ${x}`), ...[...a].filter(x => !b.has(x)).map(x => `- ${x}`)]
}
