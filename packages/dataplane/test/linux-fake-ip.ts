/**
 * A fake `ip`/`sysctl`/`radvd`/`kill` that parses every command the Linux driver issues, keeps
 * kernel-like state, prints `ip -j` listings in the kernel's JSON shape, and fails the test on
 * anything it does not understand (tailscale router_linux_test.go style).
 */
import { writeFileSync } from 'node:fs'
import type { CommandResult, CommandRunner } from '../src/linux/index.js'

/** `dev` is 'lo' for an unreachable route, as the kernel lists it; `metric` undefined is 1024. */
export interface FakeRoute { table: string, dst: string, from?: string, dev: string, encap?: 'seg6' | 'seg6local', sid?: string, lookup?: string, unreachable?: true, metric?: string, proto: string }
/** `table` is 'unreachable' for a rule with that action. */
export interface FakeRule { priority: number, src: string, dst?: string, ipproto?: string, iif?: string, table: string, protocol?: string }
export interface FakeLink { name: string, kind: 'ip6tnl' | 'macvlan' | 'bridge' | 'veth', up: boolean, args: string, addrgen?: 'eui64' | 'none', linkLocal?: string[] }

export class UnexpectedCommand extends Error {}

/** What a kernel without CONFIG_IPV6_SUBTREES answers to a route with `from` (net/ipv6/route.c). */
const NO_SUBTREES = 'Error: Specifying source address requires IPV6_SUBTREES to be enabled'

/** The fake's key of a route: what tells routes apart in the kernel (table, destination, source, metric). */
export function routeId (table: string, dst: string, from?: string, metric?: string): string {
  return `${table} ${dst}${from !== undefined ? ` from ${from}` : ''}${metric !== undefined ? ` metric ${metric}` : ''}`
}

export class FakeIp implements CommandRunner {
  routes = new Map<string, FakeRoute>()
  rules: FakeRule[] = []
  links = new Map<string, FakeLink>()
  /** Every command, `ip -batch` input expanded as "batch: LINE". */
  log: string[] = []
  /** Lines of the batches only. */
  batches: string[][] = []
  /** A batch line matching this fails like the kernel would. */
  failOn?: { pattern: RegExp, stderr: string }
  missing = new Set<string>()
  /** false: a kernel without CONFIG_IPV6_SUBTREES, which refuses source-specific routes. */
  subtrees = true

  constructor () {
    for (const name of ['bb0', 'acc0', 'acc1']) this.links.set(name, { name, kind: 'bridge', up: true, args: '' })
  }

  ours (proto = '213'): { routes: string[], rules: string[], links: string[] } {
    return {
      routes: [...this.routes.values()].filter(r => r.proto === proto).map(r => `${r.table} ${r.dst}${r.from !== undefined ? ` from ${r.from}` : ''} ${r.encap ?? ''} ${r.sid ?? ''} ${r.unreachable === true ? 'unreachable' : r.dev}${r.metric !== undefined ? ` metric ${r.metric}` : ''}`.replace(/ +/g, ' ')).sort(),
      rules: this.rules.filter(r => r.protocol === proto).map(r => `${r.priority} ${r.src}${r.dst !== undefined ? ` to ${r.dst}` : ''}${r.ipproto !== undefined ? ` ipproto ${r.ipproto}` : ''} ${r.iif ?? ''} ${r.table}`).sort(),
      links: [...this.links.values()].filter(l => /^dm[tlr]/.test(l.name)).map(l => `${l.name} ${l.kind}${l.up ? ' up' : ''}${(l.linkLocal ?? []).map(a => ` ${a}`).join('')}`).sort()
    }
  }

  async run (argv: string[], input?: string): Promise<CommandResult> {
    this.log.push(argv.join(' '))
    const ok = (stdout = ''): CommandResult => ({ stdout, stderr: '', code: 0 })
    if (this.missing.has(argv[0] ?? '')) return { stdout: '', stderr: `spawn ${argv[0]} ENOENT`, code: 127 }
    const cmd = argv.join(' ')
    if (cmd === 'ip -V') return ok('ip utility, iproute2-6.1.0\n')
    if (/^sysctl -q -w( [a-z0-9_.]+=1)+$/.test(cmd)) return ok()
    if (cmd === 'sysctl -n net.ipv6.conf.all.seg6_enabled') return ok('1\n')
    if (cmd === 'ip -j -6 route show table all') return ok(JSON.stringify(this.routeJson(undefined)))
    let m = /^ip -j -6 route show table all proto (\d+)$/.exec(cmd)
    if (m !== null) return ok(JSON.stringify(this.routeJson(m[1])))
    if (cmd === 'ip -j -6 rule show') return ok(JSON.stringify(this.ruleJson()))
    if (cmd === 'ip -j -d link show') return ok(JSON.stringify(this.linkJson()))
    if (cmd === 'ip -6 -batch -') return this.batch(input ?? '')
    m = /^radvd -C (\S+) -p (\S+) -m logfile -l (\S+)$/.exec(cmd)
    if (m !== null) { writeFileSync(m[2] as string, `${process.pid}\n`); return ok() }
    if (/^kill -(HUP|TERM) \d+$/.test(cmd)) return ok()
    throw new UnexpectedCommand(`unexpected command: ${cmd}`)
  }

  private batch (input: string): CommandResult {
    const lines = input.split('\n').filter(l => l !== '')
    this.batches.push(lines)
    for (const [i, line] of lines.entries()) {
      this.log.push(`batch: ${line}`)
      const err = this.failOn !== undefined && this.failOn.pattern.test(line) ? this.failOn.stderr : this.line(line)
      if (err !== undefined) return { stdout: '', stderr: `${err}\nCommand failed -:${i + 1}\n`, code: 1 }
    }
    return { stdout: '', stderr: '', code: 0 }
  }

  /** Applies one batch line; returns the kernel's error text, or undefined. */
  private line (line: string): string | undefined {
    let m = /^route replace (\S+) (?:from (\S+) )?(?:encap seg6 mode encap\.red segs (\S+) |encap seg6local action End\.DT6 table (main|\d+) )?dev (\S+) table (\S+) proto (\d+)$/.exec(line)
    if (m !== null) {
      const [, dst, from, sid, lookup, dev, table, proto] = m as unknown as [string, string, string | undefined, string | undefined, string | undefined, string, string, string]
      if (from !== undefined && !this.subtrees) return NO_SUBTREES
      if (!this.links.has(dev)) return 'Cannot find device "' + dev + '"'
      const encap = sid !== undefined ? 'seg6' : lookup !== undefined ? 'seg6local' : undefined
      this.routes.set(routeId(table, dst, from), { table, dst, dev, proto, ...(from !== undefined ? { from } : {}), ...(encap !== undefined ? { encap } : {}), ...(sid !== undefined ? { sid } : {}), ...(lookup !== undefined ? { lookup } : {}) })
      return undefined
    }
    m = /^route replace unreachable (\S+) (?:from (\S+) )?table (\S+)(?: metric (\d+))? proto (\d+)$/.exec(line)
    if (m !== null) {
      const [, dst, from, table, metric, proto] = m as unknown as [string, string, string | undefined, string, string | undefined, string]
      if (from !== undefined && !this.subtrees) return NO_SUBTREES
      this.routes.set(routeId(table, dst, from, metric), { table, dst, dev: 'lo', unreachable: true, proto, ...(from !== undefined ? { from } : {}), ...(metric !== undefined ? { metric } : {}) })
      return undefined
    }
    m = /^route del (\S+) (?:from (\S+) )?table (\S+)(?: metric (\d+))? proto (\d+)$/.exec(line)
    if (m !== null) {
      const key = routeId(m[3] as string, m[1] as string, m[2], m[4])
      if (this.routes.get(key)?.proto !== m[5]) return 'RTNETLINK answers: No such process'
      this.routes.delete(key)
      return undefined
    }
    m = /^rule (add|del) from (\S+)(?: to (\S+))?(?: ipproto (\d+))? iif (\S+) (?:table (main|\d+)|(unreachable)) priority (\d+)(?: protocol (\d+))?$/.exec(line)
    if (m !== null) {
      const [, op, src, dst, ipproto, iif, lookup, action, priority, protocol] = m as unknown as [string, string, string, string | undefined, string | undefined, string, string | undefined, string | undefined, string, string | undefined]
      const table = lookup ?? action as string
      const i = this.rules.findIndex(r => r.src === src && r.dst === dst && r.ipproto === ipproto && r.iif === iif && r.table === table && r.priority === Number(priority))
      if (op === 'add') {
        if (i >= 0) return 'RTNETLINK answers: File exists'
        if (protocol === undefined) throw new UnexpectedCommand(`rule add without protocol: ${line}`)
        this.rules.push({ priority: Number(priority), src, ...(dst !== undefined ? { dst } : {}), ...(ipproto !== undefined ? { ipproto } : {}), iif, table, protocol })
      } else {
        if (i < 0) return 'RTNETLINK answers: No such file or directory'
        this.rules.splice(i, 1)
      }
      return undefined
    }
    m = /^link add (dm[tlr][0-9a-f]{10}) (type ip6tnl mode ip6ip6 local \S+ remote \S+ encaplimit none dev (\S+)|address ([0-9a-f:]{17}) link (\S+) type macvlan mode bridge)$/.exec(line)
    if (m !== null) {
      const name = m[1] as string
      if (this.links.has(name)) return 'RTNETLINK answers: File exists'
      const parent = m[3] ?? m[5] as string
      if (!this.links.has(parent)) return `Cannot find device "${parent}"`
      this.links.set(name, { name, kind: m[3] !== undefined ? 'ip6tnl' : 'macvlan', up: false, args: m[2] as string, addrgen: 'eui64', linkLocal: [] })
      return undefined
    }
    m = /^link set (\S+) up$/.exec(line)
    if (m !== null) {
      const l = this.links.get(m[1] as string)
      if (l === undefined) return `Cannot find device "${m[1]}"`
      // Like the kernel: a device coming up makes its own link-local unless addrgenmode is none.
      if (!l.up && l.kind === 'macvlan' && l.addrgen === 'eui64') l.linkLocal = [...(l.linkLocal ?? []), 'kernel-eui64']
      l.up = true
      return undefined
    }
    m = /^link set (\S+) addrgenmode none$/.exec(line)
    if (m !== null) {
      const l = this.links.get(m[1] as string)
      if (l === undefined) return `Cannot find device "${m[1]}"`
      l.addrgen = 'none'
      return undefined
    }
    m = /^address add (fe80:[0-9a-f:]*)\/64 dev (\S+) nodad$/.exec(line)
    if (m !== null) {
      const l = this.links.get(m[2] as string)
      if (l === undefined) return `Cannot find device "${m[2]}"`
      if (l.linkLocal?.includes(m[1] as string) === true) return 'RTNETLINK answers: File exists'
      l.linkLocal = [...(l.linkLocal ?? []), m[1] as string]
      return undefined
    }
    m = /^link del (\S+)$/.exec(line)
    if (m !== null) {
      if (!this.links.delete(m[1] as string)) return `Cannot find device "${m[1]}"`
      // The kernel drops every route through a device that goes away.
      for (const [k, r] of this.routes) if (r.dev === m[1]) this.routes.delete(k)
      return undefined
    }
    throw new UnexpectedCommand(`unexpected batch line: ${line}`)
  }

  /** Shaped like iproute2 6.1 `ip -j -6 route show table all`: no "table" for main, host routes without /128, seg6local's "table" is the action's ("unspec" for 0). */
  private routeJson (proto: string | undefined): object[] {
    return [...this.routes.values()].filter(r => proto === undefined || r.proto === proto).map(r => ({
      ...(r.unreachable === true ? { type: 'unreachable' } : {}),
      dst: r.dst.endsWith('/128') ? r.dst.slice(0, -4) : r.dst,
      ...(r.from !== undefined ? { from: r.from } : {}),
      ...(r.encap === 'seg6' ? { encap: 'seg6', mode: 'encap.red', segs: [r.sid] } : {}),
      ...(r.encap === 'seg6local' ? { encap: 'seg6local', action: 'End.DT6', table: r.lookup === '0' ? 'unspec' : r.lookup } : {}),
      dev: r.dev,
      ...(r.table !== 'main' && r.encap !== 'seg6local' ? { table: r.table } : {}),
      metric: Number(r.metric ?? 1024),
      flags: [],
      pref: 'medium'
    }))
  }

  private ruleJson (): object[] {
    const rules = [{ priority: 0, src: 'all', table: 'local' }, ...[...this.rules].sort((a, b) => a.priority - b.priority).map(r => {
      // Like iproute2: no length for a host address, the protocol's name for 41, "action" for unreachable.
      const [src, len] = r.src.split('/')
      const [dst, dstlen] = r.dst?.split('/') ?? []
      return {
        priority: r.priority,
        src,
        ...(len !== undefined && len !== '128' ? { srclen: Number(len) } : {}),
        ...(dst !== undefined ? { dst, ...(dstlen !== '128' ? { dstlen: Number(dstlen) } : {}) } : {}),
        ...(r.iif !== undefined ? { iif: r.iif } : {}),
        ...(r.ipproto !== undefined ? { ipproto: r.ipproto === '41' ? 'ipv6' : r.ipproto } : {}),
        ...(r.table === 'unreachable' ? { action: 'unreachable' } : { table: r.table }),
        ...(r.protocol !== undefined ? { protocol: r.protocol } : {})
      }
    }), { priority: 32766, src: 'all', table: 'main' }]
    return rules
  }

  private linkJson (): object[] {
    return [...this.links.values()].map((l, i) => {
      const mac = /address (\S+)/.exec(l.args)?.[1] ?? '02:00:00:00:00:ff'
      const parent = /(?:link|dev) (\S+)/.exec(l.args)?.[1]
      const local = /local (\S+)/.exec(l.args)?.[1]
      const remote = /remote (\S+)/.exec(l.args)?.[1]
      return {
        ifindex: i + 1,
        ifname: l.name,
        ...(parent !== undefined ? { link: parent } : {}),
        flags: l.up ? ['UP'] : [],
        address: mac,
        ...(l.addrgen === 'none' ? { inet6_addr_gen_mode: 'none' } : {}),
        linkinfo: { info_kind: l.kind, info_data: l.kind === 'ip6tnl' ? { proto: 'ip6ip6', remote, local } : {} }
      }
    })
  }
}
