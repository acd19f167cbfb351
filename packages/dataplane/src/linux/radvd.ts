/**
 * Router advertisements to each MN with radvd, one radvd per MN (PMIPv6 treats the MN's access
 * link as point-to-point, RFC 5213 §6.2): `clients { MN link-local }` makes radvd send only
 * unicast RAs to that MN and answer only its solicitations (radvd.conf(5)), so MNs sharing an
 * access link never learn each other's prefixes.
 *
 * draft-ietf-dmm-distributed-mobility-anchoring §4.1: the local prefix preferred, prefixes
 * anchored elsewhere valid but deprecated (AdvPreferredLifetime 0) so new flows use the local one.
 * Each prefix is advertised from the device of the router dlif.ts says the MN sees for its anchor:
 * with DLIF (RFC 8885 §3.6) that anchor's logical interface; without it the shared router device,
 * with its fixed link-local as the source (AdvRASrcAddress), so every MAAR is the same default
 * router to the MN (RFC 5213 §6.8).
 */
import { readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { mnTag } from './names.js'
import { routerLink } from './plan.js'
import { eui64LinkLocal } from '../dlif.js'
import type { RouterMode } from '../dlif.js'
import { runChecked } from './runner.js'
import type { CommandRunner } from './runner.js'
import type { Advertisement } from '../types.js'

export const RA_TIMING = { minInterval: 3, maxInterval: 10, validLifetime: 86400, preferredLifetime: 14400 }

/** radvd.conf text for one MN (its link-local is the EUI-64 one of its link-layer id). */
export function radvdConfig (a: Advertisement, o: RouterMode): string {
  const byIf = new Map<string, { source?: string, prefixes: Advertisement['prefixes'] }>()
  for (const p of a.prefixes) {
    const dev = routerLink(o, a.accessLink, p.anchor)
    const ifname = dev?.name ?? a.accessLink
    const entry = byIf.get(ifname) ?? { ...(dev?.linkLocal !== undefined ? { source: dev.linkLocal } : {}), prefixes: [] }
    entry.prefixes.push(p)
    byIf.set(ifname, entry)
  }
  const client = eui64LinkLocal(a.linkLayerId)
  const blocks = [...byIf].map(([ifname, { source, prefixes }]) => [
    `interface ${ifname} {`,
    '  AdvSendAdvert on;',
    '  IgnoreIfMissing on;',
    ...(source !== undefined ? [`  AdvRASrcAddress { ${source}; };`] : []),
    `  MinRtrAdvInterval ${RA_TIMING.minInterval};`,
    `  MaxRtrAdvInterval ${RA_TIMING.maxInterval};`,
    ...prefixes.map(p => [
      `  prefix ${p.prefix} {`,
      // Off-link: every packet goes through the router, which is where the uplink rules are.
      '    AdvOnLink off;',
      '    AdvAutonomous on;',
      `    AdvValidLifetime ${RA_TIMING.validLifetime};`,
      `    AdvPreferredLifetime ${p.preferred ? RA_TIMING.preferredLifetime : 0};`,
      '  };'
    ].join('\n')),
    `  clients { ${client}; };`,
    '};'
  ].join('\n'))
  return `# ${a.mnId}\n${blocks.join('\n')}\n`
}

/** Starts, reloads (SIGHUP) and stops one radvd per MN; files live in runDir. */
export class RadvdManager {
  private readonly written = new Map<string, string>()

  constructor (private readonly runner: CommandRunner, private readonly runDir: string, private readonly binary = 'radvd') {}

  private paths (tag: string): { conf: string, pid: string, log: string } {
    return { conf: join(this.runDir, `radvd-${tag}.conf`), pid: join(this.runDir, `radvd-${tag}.pid`), log: join(this.runDir, `radvd-${tag}.log`) }
  }

  private async pidOf (tag: string): Promise<number | undefined> {
    const text = await readFile(this.paths(tag).pid, 'utf8').catch(() => '')
    const pid = Number(text.trim())
    if (!Number.isInteger(pid) || pid <= 0) return undefined
    try { process.kill(pid, 0); return pid } catch { return undefined }
  }

  /** Tags of the MNs whose radvd files are in runDir (left by a previous run). */
  async found (): Promise<string[]> {
    const names = await readdir(this.runDir).catch(() => [] as string[])
    return [...new Set(names.map(n => /^radvd-([0-9a-f]{12})\.(conf|pid)$/.exec(n)?.[1]).filter((t): t is string => t !== undefined))]
  }

  /**
   * Makes the running radvds match `configs` (MN id -> config), stopping every other one this
   * manager knows or finds in runDir, and restarting any that died; returns change lines.
   */
  async sync (configs: Map<string, string>): Promise<string[]> {
    const changes = await this.update(configs)
    const wanted = new Set([...configs.keys()].map(mnTag))
    for (const tag of new Set([...this.written.keys(), ...await this.found()])) {
      if (wanted.has(tag)) continue
      await this.stopOne(tag)
      changes.push(`- radvd ${tag}`)
    }
    return changes
  }

  /** Starts or reloads the radvd of each MN given a config, stops it for MNs given undefined. */
  async update (configs: Map<string, string | undefined>): Promise<string[]> {
    const changes: string[] = []
    for (const [mnId, text] of configs) {
      const tag = mnTag(mnId)
      if (text === undefined) {
        if (!this.written.has(tag) && await this.pidOf(tag) === undefined) continue
        await this.stopOne(tag)
        changes.push(`- radvd ${tag}`)
        continue
      }
      if (this.written.get(tag) === text && await this.pidOf(tag) !== undefined) continue
      const p = this.paths(tag)
      await writeFile(p.conf, text)
      const pid = await this.pidOf(tag)
      if (pid !== undefined) {
        await runChecked(this.runner, ['kill', '-HUP', String(pid)])
        changes.push(`~ radvd ${mnId}`)
      } else {
        await runChecked(this.runner, [this.binary, '-C', p.conf, '-p', p.pid, '-m', 'logfile', '-l', p.log])
        await this.awaitPid(tag)
        changes.push(`+ radvd ${mnId}`)
      }
      this.written.set(tag, text)
    }
    return changes
  }

  /** radvd forks before it writes its pid file; wait for it so a quick reload or stop finds it. */
  private async awaitPid (tag: string): Promise<void> {
    for (let i = 0; i < 50 && await this.pidOf(tag) === undefined; i++) await new Promise(resolve => setTimeout(resolve, 20))
  }

  /** Stops every radvd this manager knows or finds. */
  async stopAll (): Promise<string[]> {
    return await this.sync(new Map())
  }

  private async stopOne (tag: string): Promise<void> {
    const pid = await this.pidOf(tag)
    if (pid !== undefined) await runChecked(this.runner, ['kill', '-TERM', String(pid)])
    const p = this.paths(tag)
    await Promise.all([rm(p.conf, { force: true }), rm(p.pid, { force: true })])
    this.written.delete(tag)
  }
}
