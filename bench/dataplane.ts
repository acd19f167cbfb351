/**
 * What one data-plane apply costs a MAAR that already serves many MNs: the MAAR hands its driver
 * the whole desired state on every change, and the drivers re-plan only the MNs whose part
 * changed. Per size: the first apply (everything), an apply with nothing changed, and handovers
 * (one MN moves away: its local prefix becomes a downlink), for
 * - the in-memory driver (programming included: FIB, MN addresses), with the cost of tracing a
 *   packet from the CN to an MN's old address through the anchor's tunnel, and
 * - the Linux driver's planning and batch rendering, with a runner that accepts every command
 *   (the kernel's own time is in netns-handover), and
 * - with --kernel (root), the Linux driver programming a real kernel in a network namespace of its
 *   own (veth bb0/acc0): the kernel's cost of what the driver installs, backbone rules included
 *   (doc/ARCHITECTURE.md "What a MAAR forwards from its backbone").
 *
 *   npx tsc -b bench && npx node bench/dist/dataplane.js [--sizes 1000,10000] [--moves 50] [--kernel]
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { LinuxDataPlane, MemoryNetwork, emptyState } from '@dmm-mesh/dataplane'
import type { CommandRunner, DataPlane, DataPlaneState } from '@dmm-mesh/dataplane'
import { fmt, summarize, writeResults } from './stats.js'

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000' }, moves: { type: 'string', default: '50' }, kernel: { type: 'boolean', default: false } } })
const sizes = values.sizes.split(',').map(Number)
const moves = Number(values.moves)
for (const n of sizes) if (!Number.isInteger(n) || n < 1 || n > 0xffff) throw new Error(`--sizes: each size must be an integer in 1..65535, got ${values.sizes}`)
if (!Number.isInteger(moves) || moves < 1) throw new Error(`--moves: need a positive integer, got ${values.moves}`)

const SELF = '2001:db8:ffff::2'
const ANCHOR = '2001:db8:ffff::1'
const NEXT = '2001:db8:ffff::3'
const LL = '02:00:00:00:00:01'

/** `n` MNs served here (a local prefix, an uplink to the anchor of their old prefix, an RA); the first `moved` of them gone on to NEXT. */
function servingState (n: number, moved: number): DataPlaneState {
  const s = emptyState()
  for (let i = 0; i < n; i++) {
    const mnId = `mn${i}@bench`
    const local = `2001:db8:2:${i.toString(16)}::/64`
    if (i < moved) { s.downlinks.push({ mnId, prefix: local, remote: NEXT }); continue }
    const old = `2001:db8:1:${i.toString(16)}::/64`
    s.local.push({ mnId, prefix: local, accessLink: 'acc0', linkLayerId: LL })
    s.uplinks.push({ mnId, prefix: old, remote: ANCHOR, accessLink: 'acc0' })
    s.advertisements.push({ mnId, accessLink: 'acc0', linkLayerId: LL, prefixes: [{ prefix: local, preferred: true, anchor: SELF }, { prefix: old, preferred: false, anchor: ANCHOR }] })
  }
  return s
}

/** A kernel that takes every command (listings are empty, batches succeed), counting the rules it holds, on the backbone and on the access side. */
class AcceptAll implements CommandRunner {
  backboneRules = 0
  accessRules = 0
  async run (argv: string[], input?: string): Promise<{ stdout: string, stderr: string, code: number }> {
    for (const line of input?.split('\n') ?? []) {
      const n = line.startsWith('rule add') ? 1 : line.startsWith('rule del') ? -1 : 0
      if (line.includes(' iif bb0 ')) this.backboneRules += n
      else this.accessRules += n
    }
    return { stdout: argv[1] === '-j' ? '[]' : '', stderr: '', code: 0 }
  }
}

async function measure (driver: DataPlane, n: number): Promise<Record<string, unknown>> {
  await driver.start()
  const first = await driver.apply(servingState(n, 0))
  const unchanged = await driver.apply(servingState(n, 0))
  const handovers: number[] = []
  for (let m = 1; m <= Math.min(moves, n); m++) {
    const r = await driver.apply(servingState(n, m))
    if (r.changes.length === 0) throw new Error(`handover ${m} changed nothing`)
    handovers.push(r.elapsedMs)
  }
  await driver.stop()
  return { mns: n, firstApplyMs: first.elapsedMs, unchangedApplyMs: unchanged.elapsedMs, handoverApplyMs: summarize(handovers) }
}

/** The anchor tunnels the old prefixes of the MNs still served (those measure() did not move) down to them; each is traced. */
async function traceOldAddresses (net: MemoryNetwork, n: number): Promise<ReturnType<typeof summarize>> {
  const anchor = net.createDataPlane({ name: 'maar1', address: ANCHOR, pools: ['2001:db8:1::/48'] })
  await anchor.start()
  const stay = Array.from({ length: n }, (_, i) => i).filter(i => i >= Math.min(moves, n))
  await anchor.apply({ ...emptyState(), downlinks: stay.map(i => ({ mnId: `mn${i}@bench`, prefix: `2001:db8:1:${i.toString(16)}::/64`, remote: SELF })) })
  const samples: number[] = []
  for (const i of stay.slice(0, 2000)) {
    const old = net.mnAddressInfo(`mn${i}@bench`).find(a => a.anchor === ANCHOR)?.address ?? ''
    const t0 = performance.now()
    const trace = net.traceFromCn(old)
    samples.push(performance.now() - t0)
    if (!trace.delivered) throw new Error(`not delivered: ${old} (${trace.hops.join(' > ')})`)
  }
  await anchor.stop()
  return summarize(samples)
}

/** A namespace with the backbone and access interfaces the driver programs (a veth pair), removed by the returned function. */
function kernelNamespace (): { netns: string, remove: () => void } {
  const netns = `dmm-bench-${randomBytes(4).toString('hex')}`
  const ip = (...args: string[]): void => { execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] }) }
  ip('netns', 'add', netns)
  ip('-n', netns, 'link', 'add', 'bb0', 'type', 'veth', 'peer', 'name', 'acc0')
  for (const dev of ['lo', 'bb0', 'acc0']) ip('-n', netns, 'link', 'set', dev, 'up')
  return { netns, remove: () => { ip('netns', 'del', netns) } }
}

const figures: Record<string, unknown[]> = { memory: [], linuxPlanning: [], ...(values.kernel ? { linuxKernel: [] } : {}) }
for (const n of sizes) {
  const net = new MemoryNetwork()
  net.createDataPlane({ name: 'maar1', address: ANCHOR, pools: ['2001:db8:1::/48'] })
  const memory = net.createDataPlane({ name: 'maar2', address: SELF, pools: ['2001:db8:2::/48'] })
  for (let i = 0; i < n; i++) net.attachMn(`mn${i}@bench`, SELF)
  // With its pool, as `dmm maar` creates it: the rules are per pool and per access-side device, not per MN.
  const kernel = new AcceptAll()
  const linux = new LinuxDataPlane({ tunnelKind: 'seg6', tunnelAddress: SELF, backboneInterface: 'bb0', ownPools: ['2001:db8:2::/48'], runner: kernel })
  for (const [name, driver] of [['memory', memory], ['linuxPlanning', linux]] as const) {
    const f = await measure(driver, n)
    if (driver === memory) f.traceTunnelledMs = await traceOldAddresses(net, n)
    if (driver === linux) {
      f.backboneRules = kernel.backboneRules
      f.accessRules = kernel.accessRules
      process.stdout.write(`linux driver, ${n} MNs: ${kernel.backboneRules} rules on the backbone, ${kernel.accessRules} on the access side (${n - Math.min(moves, n)} MNs served for another anchor)\n`)
    }
    report(name, n, f)
  }
  if (values.kernel) {
    const ns = kernelNamespace()
    try {
      const f = await measure(new LinuxDataPlane({ tunnelKind: 'seg6', tunnelAddress: SELF, backboneInterface: 'bb0', ownPools: ['2001:db8:2::/48'], netns: ns.netns }), n)
      // The rules every forwarded packet may walk, as the kernel holds them at the end.
      f.rules = execFileSync('ip', ['-n', ns.netns, '-6', 'rule', 'show'], { encoding: 'utf8' }).split('\n').filter(l => l.includes('proto 213')).length
      process.stdout.write(`linux kernel, ${n} MNs: ${f.rules as number} rules of ours\n`)
      report('linuxKernel', n, f)
    } finally { ns.remove() }
  }
}

function report (name: string, n: number, f: Record<string, unknown>): void {
  figures[name]?.push(f)
  process.stdout.write(`${name} driver, ${n} MNs: first apply ${(f.firstApplyMs as number).toFixed(1)} ms, unchanged ${(f.unchangedApplyMs as number).toFixed(1)} ms\n`)
  process.stdout.write(`  one MN moves away: ${fmt(f.handoverApplyMs as ReturnType<typeof summarize>)}\n`)
  if (f.traceTunnelledMs !== undefined) process.stdout.write(`  traceFromCn to an old address, through the anchor's tunnel: ${fmt(f.traceTunnelledMs as ReturnType<typeof summarize>)}\n`)
}
process.stdout.write(`results: ${await writeResults('dataplane', figures)}\n`)
