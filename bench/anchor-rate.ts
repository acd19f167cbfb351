/**
 * PBU/PBA processed per second by one anchor (issue 13), everything it does for a PBU included:
 * the PBU read from an open PMIP stream of a certified peer (its certificate checked at the
 * stream's hello, doc/ARCHITECTURE.md "Trust"), the RFC 5213 §5.3 checks (timestamp, prefixes,
 * sender), the LevelDB commit (synced) and the data plane applied, the PBA written back. Beside
 * it, the floor: one PBU/PBA round trip at a time on an open stream.
 *
 * One process: an anchor MAAR and `--clients` serving MAARs (real libp2p on loopback, LevelDB,
 * memory data plane). `--mns` MNs attach at the anchor, then hand over to a client, so that the
 * anchor holds a binding for each with the client as serving MAAR (RFC 8885 §3.1). Then each
 * client re-registers its MNs (PBUs with fresh RFC 5213 §5.5 timestamps), `--window` at once, for
 * `--seconds`; only PBAs with status 0 (accepted) count.
 *
 *   npx tsc -b bench && npx node bench/dist/anchor-rate.js [--clients 3] [--mns 300] [--window 16] [--seconds 4]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createLocalMesh } from '@dmm-mesh/maar'
import type { LocalMaar, LocalMesh } from '@dmm-mesh/maar'
import { anchorMns, reRegister } from './reregister.js'
import type { Mn } from './reregister.js'
import { summarize, writeResults } from './stats.js'

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '3' },
    mns: { type: 'string', default: '300' },
    window: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '300' }
  }
})
const clients = Number(values.clients)
const mnCount = Number(values.mns)
const window = Number(values.window)
const seconds = Number(values.seconds)
const floorRounds = Number(values.rounds)
if (![clients, mnCount, window, floorRounds].every(n => Number.isInteger(n) && n >= 1) || !(seconds > 0) || mnCount < clients) {
  process.stderr.write('usage: anchor-rate.js [--clients 3] [--mns 300 (≥ clients)] [--window 16] [--seconds 4] [--rounds 300]\n')
  process.exit(2)
}

function progress (line: string): void { process.stderr.write(`${line}\n`) }

async function measureFloor (mn: Mn): Promise<ReturnType<typeof summarize>> {
  const rtt: number[] = []
  for (let i = 0; i < floorRounds; i++) {
    const t = performance.now()
    if (!(await reRegister(mn))) throw new Error(`floor: PBU of ${mn.mnId} refused`)
    rtt.push(performance.now() - t)
  }
  return summarize(rtt)
}

async function measureRate (mns: Mn[]): Promise<Record<string, number>> {
  let accepted = 0; let refused = 0; let next = 0
  const end = performance.now() + seconds * 1000
  const cpu = process.cpuUsage()
  const t0 = performance.now()
  // `window` loops per client, each taking the next MN of the whole list (a client's own MNs).
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const mn = mns[next++ % mns.length] as Mn
      if (await reRegister(mn)) accepted++
      else refused++
    }
  }
  await Promise.all(Array.from({ length: window * clients }, loop))
  const wall = (performance.now() - t0) / 1000
  const used = process.cpuUsage(cpu)
  return {
    pbuPbaPerSecond: Math.round(accepted / wall),
    accepted,
    refused,
    processCpuMsPerPbu: Math.round((used.user + used.system) / 1000 / Math.max(1, accepted) * 1000) / 1000
  }
}

const dir = await mkdtemp(join(tmpdir(), 'dmm-bench-anchor-'))
let mesh: LocalMesh | undefined
try {
  progress(`starting an anchor and ${clients} serving MAARs ...`)
  mesh = await createLocalMesh({ count: 1 + clients, dataDir: dir })
  const [anchor, ...serving] = mesh.maars as [LocalMaar, ...LocalMaar[]]
  const mns = await anchorMns(mesh, anchor, serving, mnCount, progress)
  progress('floor: one PBU/PBA at a time ...')
  const floor = await measureFloor(mns[0] as Mn)
  progress(`rate: ${clients} clients × ${window} in flight for ${seconds} s ...`)
  const rate = await measureRate(mns)
  const figures = { clients, mns: mnCount, window, seconds, pbuPbaRoundTripOpenStreamMs: floor, ...rate }
  process.stdout.write(`\nbare PBU/PBA round trip on an open stream: median ${floor.median} ms, p95 ${floor.p95} ms (n=${floor.n})\n`)
  process.stdout.write(`one anchor, ${mnCount} MNs, ${clients} serving MAARs × ${window} in flight: ${rate.pbuPbaPerSecond} PBU/PBA per second accepted (${rate.refused} refused), process CPU ${rate.processCpuMsPerPbu} ms per PBU (both ends)\n`)
  const file = await writeResults('anchor-rate', figures)
  process.stdout.write(`results written to ${file}\n`)
} finally {
  await mesh?.stop().catch(() => {})
  await rm(dir, { recursive: true, force: true })
}
process.exit(0)
