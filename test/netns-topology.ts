/**
 * The namespace test network of scenarios/netns/topology.sh, for tests: create / moveMn / destroy.
 * The shell script is the one implementation (humans run it too); this wraps it and parses its plan.
 *
 *   const topo = await createTopology({ maars: 3 })
 *   // topo.maars[0].netns, .sid (tunnel address), .pool; topo.cn.netns; topo.mn.netns, .mac
 *   await topo.moveMn(2)   // MN's link now on maar2's access bridge acc0
 *   await topo.destroy()
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const TOPOLOGY_SCRIPT = resolve(fileURLToPath(import.meta.url), '../../../scenarios/netns/topology.sh')

export interface Run { code: number, stdout: string, stderr: string }

export async function run (argv: string[], input?: string): Promise<Run> {
  const [cmd, ...args] = argv
  return await new Promise(resolve => {
    const child = spawn(cmd as string, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', err => resolve({ code: 127, stdout, stderr: stderr + err.message }))
    child.on('close', code => resolve({ code: code ?? 1, stdout, stderr }))
    child.stdin.on('error', () => {})
    child.stdin.end(input ?? '')
  })
}

export async function mustRun (argv: string[]): Promise<string> {
  const r = await run(argv)
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  return r.stdout
}

/** Runs argv inside a namespace. */
export async function inNetns (netns: string, argv: string[]): Promise<Run> {
  return await run(['ip', 'netns', 'exec', netns, ...argv])
}

export interface MaarNode { index: number, netns: string, address: string, sid: string, pool: string }

export interface NetnsTopology {
  id: string
  backbone: string
  cn: { netns: string, address: string }
  mn: { netns: string, ifname: string, mac: string }
  maars: MaarNode[]
  moveMn: (toMaar: number) => Promise<void>
  destroy: () => Promise<void>
}

/** Why namespace tests cannot run here, or ok. */
export async function netnsSupport (needs: Array<'seg6' | 'radvd' | 'tcpdump'> = []): Promise<{ ok: boolean, reason?: string }> {
  if (process.platform !== 'linux') return { ok: false, reason: 'needs Linux network namespaces' }
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root to create network namespaces' }
  if ((await run(['ip', '-V'])).code !== 0) return { ok: false, reason: 'needs iproute2 (ip)' }
  for (const bin of needs.filter(n => n !== 'seg6')) {
    if ((await run(['sh', '-c', `command -v ${bin}`])).code !== 0) return { ok: false, reason: `needs ${bin} (apt-get install ${bin})` }
  }
  const probe = `dmm-probe${randomBytes(4).toString('hex')}`
  if ((await run(['ip', 'netns', 'add', probe])).code !== 0) return { ok: false, reason: 'cannot create a network namespace (ip netns add failed)' }
  try {
    if (needs.includes('seg6')) {
      await run(['ip', '-n', probe, 'link', 'set', 'lo', 'up'])
      const r = await run(['ip', '-n', probe, '-6', 'route', 'add', '2001:db8:ffff::1/128', 'encap', 'seg6local', 'action', 'End.DT6', 'table', 'main', 'dev', 'lo'])
      if (r.code !== 0) return { ok: false, reason: `kernel without IPv6 segment routing (seg6local): ${r.stderr.trim()}` }
    }
    return { ok: true }
  } finally {
    await run(['ip', 'netns', 'del', probe])
  }
}

export async function createTopology (opts: { maars?: number, id?: string } = {}): Promise<NetnsTopology> {
  const n = opts.maars ?? 3
  const id = opts.id ?? `t${randomBytes(4).toString('hex')}`
  const up = await run([TOPOLOGY_SCRIPT, 'up', id, String(n)])
  if (up.code !== 0) {
    await run([TOPOLOGY_SCRIPT, 'down', id])
    throw new Error(`topology.sh up ${id} failed: ${up.stderr.trim()}`)
  }
  const v = new Map(up.stdout.split('\n').map(l => l.split('=', 2) as [string, string]).filter(kv => kv.length === 2))
  const get = (k: string): string => { const x = v.get(k); if (x === undefined) throw new Error(`topology.sh printed no ${k}`); return x }
  return {
    id,
    backbone: get('BB'),
    cn: { netns: get('CN'), address: get('CN_ADDR') },
    mn: { netns: get('MN'), ifname: get('MN_IF'), mac: get('MN_MAC') },
    maars: Array.from({ length: n }, (_, i) => ({ index: i + 1, netns: get(`MAAR${i + 1}_NS`), address: get(`MAAR${i + 1}_ADDR`), sid: get(`MAAR${i + 1}_SID`), pool: get(`MAAR${i + 1}_POOL`) })),
    moveMn: async (to: number) => { await mustRun([TOPOLOGY_SCRIPT, 'move', id, String(to)]) },
    destroy: async () => { await mustRun([TOPOLOGY_SCRIPT, 'down', id]) }
  }
}

// Checks shared by the namespace tests: SLAAC addresses of the MN, pings, tunnel captures.

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Retries until `check` passes; the bound only keeps a broken setup from hanging the suite. */
export async function eventually<T> (what: string, check: () => Promise<T | undefined>, tries = 40): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check()
    if (v !== undefined) return v
    await sleep(250)
  }
  throw new Error(`never happened: ${what}`)
}

export interface MnAddr { local: string, preferred_life_time: number }

export async function mnAddrs (topo: { mn: { netns: string, ifname: string } }): Promise<MnAddr[]> {
  const r = await inNetns(topo.mn.netns, ['ip', '-j', '-6', 'addr', 'show', 'dev', topo.mn.ifname])
  const links = JSON.parse(r.stdout) as Array<{ addr_info: Array<MnAddr & { scope: string }> }>
  return (links[0]?.addr_info ?? []).filter(a => a.scope === 'global')
}

/** The MN's SLAAC address in `prefix` once its RA arrived, with its preferred lifetime. */
export async function slaac (topo: { mn: { netns: string, ifname: string } }, prefix: string, preferred: boolean): Promise<string> {
  const head = prefix.replace(/::\/64$/, ':')
  return await eventually(`MN address in ${prefix} (${preferred ? 'preferred' : 'deprecated'})`, async () => {
    const a = (await mnAddrs(topo)).find(a => a.local.startsWith(head) && (a.preferred_life_time > 0) === preferred)
    return a?.local
  })
}

/** The MN's default routers (link-local gateways of its default routes), sorted. */
export async function defaultRouters (topo: { mn: { netns: string } }): Promise<string[]> {
  const r = await inNetns(topo.mn.netns, ['ip', '-j', '-6', 'route', 'show', 'default'])
  return (JSON.parse(r.stdout || '[]') as Array<{ gateway?: string }>).map(x => x.gateway ?? '').sort()
}

/** The MN's neighbour entry for a router: "fe80::.. lladdr MAC router STATE" (empty if none). */
export async function routerNeighbour (topo: { mn: { netns: string, ifname: string } }, router: string): Promise<string> {
  return (await inNetns(topo.mn.netns, ['ip', '-6', 'neigh', 'show', router, 'dev', topo.mn.ifname])).stdout.trim()
}

export async function pingOnce (netns: string, dst: string, src?: string): Promise<boolean> {
  const r = await inNetns(netns, ['ping', '-6', '-n', '-c', '1', '-W', '1', ...(src !== undefined ? ['-I', src] : []), dst])
  return r.code === 0
}

export async function reachable (netns: string, dst: string, src?: string): Promise<true> {
  return await eventually(`ping ${dst} from ${netns}${src !== undefined ? ` (source ${src})` : ''}`, async () => (await pingOnce(netns, dst, src)) ? true : undefined, 30)
}

/** Captures outer-next-header-41 packets (RFC 5213 IPv6-in-IPv6) on a namespace's backbone while `during` runs. */
export async function tunnelCapture (netns: string, during: () => Promise<void>): Promise<string> {
  const child = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-l', '-n', '-i', 'bb0', 'ip6 proto 41'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => { if (d.toString().includes('listening on')) resolve() })
    child.on('close', code => reject(new Error(`tcpdump exited ${code}`)))
  })
  try {
    await during()
    await sleep(200)
  } finally {
    const closed = new Promise(resolve => child.on('close', resolve))
    child.kill('SIGINT')
    await closed
  }
  return out
}
