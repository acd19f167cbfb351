/**
 * Handover latency in a mesh of N MAARs in one process (real libp2p on loopback, LevelDB, memory
 * data plane): attach trigger to both ends programmed, split into lookup and PBU/PBA exchange,
 * beside the stock kad-dht get() for the same sessions, and the bare PBU/PBA round trip on an
 * open stream (the floor).
 *
 *   npx tsc -b bench && npx node bench/dist/handover.js [--sizes 10,50,100] [--moves 40]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildPbu, createLocalMesh } from '@dmm-mesh/maar'
import type { LocalMesh } from '@dmm-mesh/maar'
import { fmt, summarize, writeResults } from './stats.js'

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10,50,100' }, moves: { type: 'string', default: '40' } } })
const sizes = (values.sizes ?? '').split(',').map(Number).filter(n => Number.isInteger(n) && n >= 2)
const moves = Number(values.moves)
if (sizes.length === 0 || !Number.isInteger(moves) || moves < 1) {
  process.stderr.write('usage: handover.js [--sizes 10,50,100] [--moves 40]\n')
  process.exit(2)
}

function progress (line: string): void { process.stderr.write(`${line}\n`) }

async function measureMesh (mesh: LocalMesh, count: number): Promise<Record<string, unknown>> {
  const total: number[] = []; const lookup: number[] = []; const signalling: number[] = []; const program: number[] = []
  const stock: number[] = []; const sources: Record<string, number> = {}
  const maars = mesh.maars
  let position = 0
  const mnId = `bench-${count}@dmm.example`
  const first = maars[0]
  if (first === undefined) throw new Error('empty mesh')
  mesh.network.attachMn(mnId, first.address)
  await first.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
  await first.maar.settled()
  for (let i = 0; i < moves; i++) {
    // Hop to a MAAR chosen by a fixed stride, so the run is the same every time.
    position = (position + 7) % maars.length
    const target = maars[position]
    if (target === undefined) continue
    // The stock kad-dht get, from the MAAR about to take the MN, for the same record.
    const t = performance.now()
    const viaDht = await target.directory.lookupStock(mnId).catch(() => undefined)
    if (viaDht !== undefined) stock.push(performance.now() - t)
    mesh.network.attachMn(mnId, target.address)
    const r = await target.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
    if (r.kind === 'refresh') continue
    total.push(r.totalMs); lookup.push(r.lookupMs); signalling.push(r.signallingMs); program.push(r.programMs)
    sources[r.lookupSource] = (sources[r.lookupSource] ?? 0) + 1
    await target.maar.settled()
    // Keep the session small (a real MN drops old prefixes as its flows end): de-register every 4 moves.
    if (r.anchors.length >= 4) {
      await target.maar.deregister(mnId, 'bench')
      await target.maar.settled()
      mesh.network.attachMn(mnId, target.address)
      await target.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
      await target.maar.settled()
    }
    if ((i + 1) % 10 === 0) progress(`  ${count} MAARs: ${i + 1}/${moves} moves`)
  }
  return {
    maars: count,
    handoverMs: summarize(total),
    lookupMs: summarize(lookup),
    pbuPbaMs: summarize(signalling),
    programMs: summarize(program),
    stockKadDhtGetMs: summarize(stock),
    lookupSources: sources
  }
}

/** Bare PBU/PBA round trip between two MAARs on an already open stream. */
async function measureFloor (mesh: LocalMesh, rounds: number): Promise<Record<string, unknown>> {
  const [a, b] = mesh.maars
  if (a === undefined || b === undefined) throw new Error('need two MAARs')
  const mnId = 'floor@dmm.example'
  mesh.network.attachMn(mnId, b.address)
  const r = await b.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
  const peer = { peerId: b.maar.peerId, multiaddrs: b.maar.multiaddrs() }
  const rtt: number[] = []
  let ts = Date.now() + 1000
  for (let i = 0; i < rounds; i++) {
    const pbu = buildPbu({ mnId, sequence: i, lifetime: 3600, timestampMs: ts++, anchoredPrefixes: [r.localPrefix], servingAddress: a.address })
    const t = performance.now()
    await a.maar.transport.exchange(peer, pbu)
    if (i > 0) rtt.push(performance.now() - t) // the first opens the stream
  }
  return { pbuPbaRoundTripOpenStreamMs: summarize(rtt) }
}

const results: Array<Record<string, unknown>> = []
for (const count of sizes) {
  const dir = await mkdtemp(join(tmpdir(), 'dmm-bench-'))
  progress(`starting ${count} MAARs ...`)
  const t = performance.now()
  let mesh: LocalMesh | undefined
  try {
    mesh = await createLocalMesh({ count, dataDir: dir })
    const startupS = (performance.now() - t) / 1000
    progress(`  up in ${startupS.toFixed(1)} s`)
    const figures: Record<string, unknown> = { ...(await measureMesh(mesh, count)), meshStartupSeconds: Math.round(startupS * 10) / 10, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) }
    if (count === sizes[0]) Object.assign(figures, await measureFloor(mesh, 200))
    results.push(figures)
    process.stdout.write(`\n${count} MAARs (startup ${figures.meshStartupSeconds} s, RSS ${figures.rssMiB} MiB)\n`)
    for (const [k, v] of Object.entries(figures)) {
      if (typeof v === 'object' && v !== null && 'median' in v) process.stdout.write(`  ${k.padEnd(30)} ${fmt(v as ReturnType<typeof summarize>)}\n`)
    }
    process.stdout.write(`  lookup answered by: ${JSON.stringify(figures.lookupSources)}\n`)
  } catch (err) {
    process.stdout.write(`\n${count} MAARs: not measured: ${err instanceof Error ? err.message : String(err)}\n`)
    results.push({ maars: count, error: err instanceof Error ? err.message : String(err) })
  } finally {
    await mesh?.stop().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
}
const file = await writeResults('handover', results)
process.stdout.write(`\nresults written to ${file}\n`)
process.exit(0)
