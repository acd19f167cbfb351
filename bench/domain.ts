/**
 * A whole domain in this process for the benchmarks that compare discovery/signalling modes
 * (cmd-modes.ts, throughput.ts): a local mesh of MAARs on loopback (real libp2p and LevelDB,
 * memory data plane), for the CMD modes of draft-bernardos-dmm-pmip §3 a CMD beside it, and a
 * counter of every PBU/PBA the capture decorator (packages/maar/src/capture.ts) saw (the scenario
 * package's FrameCounter, as the scenario runner counts them).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LOCAL_CMD_ADDRESS, startLocalCmd } from '@dmm-mesh/cmd'
import type { LocalCmd } from '@dmm-mesh/cmd'
import { TrustStore, generateKey } from '@dmm-mesh/discovery'
import { createLocalMesh, maarPlan, signallingFor } from '@dmm-mesh/maar'
import type { LocalMaar, LocalMesh } from '@dmm-mesh/maar'
import { FrameCounter } from '@dmm-mesh/scenario'
import { summarize } from './stats.js'
import type { Summary } from './stats.js'

export const MODES = ['dht', 'relay', 'locator', 'proxy', 'hybrid'] as const
export type Mode = typeof MODES[number]
export const DOMAIN = 'dmm.example'
/** MNs hop over the MAARs by this fixed stride, so that every run is the same. */
export const STRIDE = 7

export interface Domain { mode: Mode, mesh: LocalMesh, cmd?: LocalCmd, counter?: FrameCounter, dir: string }

/** A fresh domain of `maars` MAARs in `mode`; `count` adds the frame counter (it costs CPU per message). */
export async function startDomain (mode: Mode, maars: number, opts: { count?: boolean, dhtPutIntervalMs?: number } = {}): Promise<Domain> {
  const dir = await mkdtemp(join(tmpdir(), `dmm-bench-${mode}-`))
  const counter = opts.count === false ? undefined : new FrameCounter()
  const operatorKey = await generateKey()
  const trust = TrustStore.fromOperatorKeys([{ domain: DOMAIN, publicKey: operatorKey.publicKey }])
  // Hybrid asks a relay CMD first, as `dmm quickstart --discovery hybrid` does.
  const cmd = mode === 'dht'
    ? undefined
    : await startLocalCmd({ operatorKey, trust, domain: DOMAIN, mode: mode === 'hybrid' ? 'relay' : mode, dataDir: join(dir, 'cmd'), ...(counter !== undefined ? { capture: counter.capture(LOCAL_CMD_ADDRESS) } : {}) })
  const signalling = cmd === undefined
    ? undefined
    : signallingFor(mode === 'hybrid' ? { mode: 'hybrid', cmd: cmd.address } : { mode: 'cmd', cmd: cmd.address })
  const mesh = await createLocalMesh({
    count: maars,
    dataDir: join(dir, 'maars'),
    operatorKey,
    domain: DOMAIN,
    ...(signalling !== undefined ? { signalling } : {}),
    observe: (name: string) => ({
      ...(counter !== undefined ? { capture: counter.capture(maarPlan(Number(name.replace('maar', ''))).address) } : {}),
      ...(opts.dhtPutIntervalMs !== undefined ? { directory: { dhtPutIntervalMs: opts.dhtPutIntervalMs } } : {})
    })
  })
  return { mode, mesh, ...(cmd !== undefined ? { cmd } : {}), ...(counter !== undefined ? { counter } : {}), dir }
}

export async function stopDomain (d: Domain): Promise<void> {
  await d.mesh.stop().catch(() => {})
  await d.cmd?.stop().catch(() => {})
  await rm(d.dir, { recursive: true, force: true })
}

/**
 * Until every MAAR and the CMD has finished what it started (late PBAs, forwards, publications,
 * the background kad-dht puts started so far): a round's CPU then includes the walks it caused,
 * whatever K (records coalesced for a later walk are paid in the round that walks them).
 */
export async function settleAll (d: Domain): Promise<void> {
  await Promise.all(d.mesh.maars.map(async m => { await m.maar.settled(); await m.directory.settled() }))
  await d.cmd?.running.cmd.settled()
}

export function maarAt (d: Domain, position: number): LocalMaar {
  const m = d.mesh.maars[position % d.mesh.maars.length]
  if (m === undefined) throw new Error('empty mesh')
  return m
}

export async function attach (d: Domain, mnId: string, m: LocalMaar): Promise<Awaited<ReturnType<LocalMaar['maar']['attach']>>> {
  d.mesh.network.attachMn(mnId, m.address)
  return await m.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
}

/**
 * Keeps a session small, as a real MN drops old prefixes when its flows end: de-registered and
 * attached afresh where it is once it has 4 anchors. Not part of any measured window.
 */
export async function trimSession (d: Domain, mnId: string, m: LocalMaar, anchors: number): Promise<void> {
  if (anchors < 4) return
  await m.maar.deregister(mnId, 'bench')
  await settleAll(d)
  await attach(d, mnId, m)
  await settleAll(d)
}

/** An untimed MN visits every MAAR once, so no mode pays for opening streams in its figures. */
export async function warmUp (d: Domain): Promise<void> {
  const mnId = `warm-up@${DOMAIN}`
  for (const m of d.mesh.maars) {
    const r = await attach(d, mnId, m)
    await settleAll(d)
    await trimSession(d, mnId, m, r.anchors.length)
  }
  await d.mesh.maars[0]?.maar.deregister(mnId, 'bench')
  await settleAll(d)
}

/** Handovers completed and failed (the attach threw; `errors` counts each reason, the MN-ID masked). */
export interface Load {
  inflight: number
  handovers: number
  failed: number
  errors?: Record<string, number>
  handoversPerSecond: number
  handoverMs: Summary
  cmdFramesPerSecond: number
  cpuMsPerHandover: number
}

/**
 * `k` MNs move at once, `rounds` times (each round waits until the domain settled, session record
 * publications included): the rate the domain (and its CMD) sustains, and the process's CPU time
 * per handover (the whole domain shares one process).
 */
export async function measureLoad (d: Domain, k: number, rounds: number): Promise<Load> {
  const maarCount = d.mesh.maars.length
  const mns = Array.from({ length: k }, (_, j) => ({ mnId: `load${k}-${j}@${DOMAIN}`, position: j % maarCount }))
  for (const mn of mns) await attach(d, mn.mnId, maarAt(d, mn.position))
  await settleAll(d)
  const latency: number[] = []
  let wallMs = 0; let cmdFrames = 0; let cpuUs = 0; let failed = 0
  const errors: Record<string, number> = {}
  for (let round = 0; round < rounds; round++) {
    for (const mn of mns) mn.position = (mn.position + STRIDE) % maarCount
    const mark = d.counter?.mark() ?? 0
    const cpu = process.cpuUsage()
    const t0 = performance.now()
    const outcomes = await Promise.allSettled(mns.map(async mn => await attach(d, mn.mnId, maarAt(d, mn.position))))
    await settleAll(d)
    wallMs += performance.now() - t0
    const used = process.cpuUsage(cpu)
    cpuUs += used.user + used.system
    cmdFrames += d.counter?.since(mark).at(LOCAL_CMD_ADDRESS).length ?? 0
    for (const [j, o] of outcomes.entries()) {
      const mn = mns[j]
      if (o.status === 'rejected') {
        failed++
        const reason = String(o.reason instanceof Error ? o.reason.message : o.reason).replace(/\S+@\S+/g, '<mn>')
        errors[reason] = (errors[reason] ?? 0) + 1
        continue
      }
      latency.push(o.value.totalMs)
      if (mn !== undefined) await trimSession(d, mn.mnId, maarAt(d, mn.position), o.value.anchors.length)
    }
  }
  const handovers = latency.length
  return {
    inflight: k,
    handovers,
    failed,
    ...(failed > 0 ? { errors } : {}),
    handoversPerSecond: Math.round(handovers / (wallMs / 1000) * 10) / 10,
    handoverMs: summarize(latency),
    cmdFramesPerSecond: Math.round(cmdFrames / (wallMs / 1000) * 10) / 10,
    cpuMsPerHandover: Math.round(cpuUs / 1000 / Math.max(1, handovers) * 100) / 100
  }
}
