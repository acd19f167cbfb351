/**
 * A CPU quota per process through Linux cgroups (v2 `cpu.max`, or v1 `cpu.cfs_quota_us`), for
 * benchmarks that give every node of a domain the same slice of a core, as if each ran on its own
 * (equal, small) machine. Needs root and a mounted cpu controller; `cpuQuotaSupport` says why not.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const V2_ROOT = '/sys/fs/cgroup'
const V1_ROOT = '/sys/fs/cgroup/cpu'
/**
 * A short period, 10 ms: a throttled node waits at most about this long for its next share (the
 * default 100 ms would dominate latencies). The kernel's smallest quota is 1 ms, so below 0.1 of a
 * core the period grows to keep the share.
 */
const MIN_PERIOD_US = 10_000
const MIN_QUOTA_US = 1000

type Flavour = 'v2' | 'v1'

async function flavour (): Promise<Flavour | string> {
  if (process.getuid?.() !== 0) return 'not root (cgroups are writable by root only)'
  if (existsSync(join(V2_ROOT, 'cgroup.controllers'))) {
    const controllers = await readFile(join(V2_ROOT, 'cgroup.controllers'), 'utf8')
    return controllers.split(/\s+/).includes('cpu') ? 'v2' : 'cgroup v2 without the cpu controller'
  }
  if (existsSync(join(V1_ROOT, 'cpu.cfs_quota_us'))) return 'v1'
  return `no cpu cgroup controller mounted at ${V2_ROOT} or ${V1_ROOT}`
}

/** undefined when quotas can be set here, else the reason they cannot. */
export async function cpuQuotaSupport (): Promise<string | undefined> {
  const f = await flavour()
  return f === 'v1' || f === 'v2' ? undefined : f
}

export class CpuQuotaGroup {
  private constructor (private readonly dir: string, private readonly kind: Flavour) {}

  /** A new group named `name` (under the cpu controller's root). */
  static async create (name: string): Promise<CpuQuotaGroup> {
    const kind = await flavour()
    if (kind !== 'v1' && kind !== 'v2') throw new Error(`CPU quotas unavailable: ${kind}`)
    const dir = join(kind === 'v2' ? V2_ROOT : V1_ROOT, name)
    await mkdir(dir, { recursive: true })
    return new CpuQuotaGroup(dir, kind)
  }

  async add (pid: number): Promise<void> {
    await writeFile(join(this.dir, 'cgroup.procs'), `${pid}\n`)
  }

  /** At most `cores` of a core (0.1 = 10 %); undefined lifts the limit. */
  async limit (cores: number | undefined): Promise<void> {
    if (cores !== undefined && !(cores > 0)) throw new RangeError(`a CPU quota must be above 0 cores, got ${cores}`)
    const period = cores === undefined ? MIN_PERIOD_US : Math.max(MIN_PERIOD_US, Math.ceil(MIN_QUOTA_US / cores))
    const quota = cores === undefined ? undefined : Math.round(cores * period)
    if (this.kind === 'v2') {
      await writeFile(join(this.dir, 'cpu.max'), `${quota ?? 'max'} ${period}\n`)
    } else {
      await writeFile(join(this.dir, 'cpu.cfs_period_us'), `${period}\n`)
      await writeFile(join(this.dir, 'cpu.cfs_quota_us'), `${quota ?? -1}\n`)
    }
  }

  /**
   * Ten times the default weight: when the machine is busy with other work, the group still gets
   * its quota first (a quota is only a ceiling).
   */
  async prioritise (): Promise<void> {
    if (this.kind === 'v2') await writeFile(join(this.dir, 'cpu.weight'), '1000\n')
    else await writeFile(join(this.dir, 'cpu.shares'), '10240\n')
  }

  /** Removes the group (its processes must have exited). */
  async remove (): Promise<void> {
    await rmdir(this.dir).catch(() => {})
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export async function processCpuSeconds (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return ticks / 100
}
