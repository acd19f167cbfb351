/** Whether the Linux driver can run here, and if not, why, in words an operator can act on. */
import { ExecRunner } from './runner.js'
import type { CommandRunner } from './runner.js'

export async function checkLinuxSupport (runner: CommandRunner = new ExecRunner(), opts: { tunnelKind?: 'seg6' | 'ip6tnl' } = {}): Promise<{ ok: boolean, reason?: string }> {
  if (process.platform !== 'linux') return { ok: false, reason: `the Linux data plane needs Linux, this is ${process.platform}` }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: 'the Linux data plane needs root (CAP_NET_ADMIN) to program routes, rules and devices' }
  }
  const ip = await runner.run(['ip', '-V'])
  if (ip.code !== 0) return { ok: false, reason: `iproute2 "ip" is not usable (install iproute2): ${ip.stderr.trim()}` }
  const json = await runner.run(['ip', '-j', '-6', 'route', 'show', 'table', 'all'])
  if (json.code !== 0) return { ok: false, reason: `"ip -j -6 route show table all" failed (iproute2 too old or no IPv6): ${json.stderr.trim()}` }
  if ((opts.tunnelKind ?? 'seg6') === 'seg6') {
    // Route lookups with seg6 encap need CONFIG_IPV6_SEG6_LWTUNNEL; the sysctl exists when seg6 is built in.
    const seg6 = await runner.run(['sysctl', '-n', 'net.ipv6.conf.all.seg6_enabled'])
    if (seg6.code !== 0) return { ok: false, reason: `no IPv6 segment routing in this kernel (net.ipv6.conf.all.seg6_enabled missing); use tunnelKind ip6tnl: ${seg6.stderr.trim()}` }
  }
  return { ok: true }
}
