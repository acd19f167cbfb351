/**
 * The serving side of the anchor-rate benchmark (anchor-rate.ts), in a process of its own so that
 * its CPU is not counted as the anchor's: `clients` serving MAARs of the same domain (certificates
 * issued with the operator key the anchor's process sends), each re-registering its MNs at the
 * anchor on its one PMIP stream. Driven over the fork IPC channel (messages in AnchorLoadMessage).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { createLocalMesh, maarPlan, stderrSink } from '@dmm-mesh/maar'
import type { LocalMaar, LocalMesh } from '@dmm-mesh/maar'
import { reRegister } from './reregister.js'
import type { Mn } from './reregister.js'
import { summarize } from './stats.js'
import type { Summary } from './stats.js'

/** What the anchor's process asks of this one. */
export interface AnchorLoadPlan {
  operatorKey: string
  anchor: { peerId: string, multiaddrs: string[] }
  mns: Array<{ mnId: string, prefix: string }>
  clients: number
  windows: number[]
  seconds: number
  rounds: number
}

/** Messages from this process: `ready` after the first PBU of every MN (its handover) was accepted. */
export type AnchorLoadMessage =
  | { type: 'ready', floor: Summary }
  | { type: 'begin', window: number }
  | { type: 'end', window: number, accepted: number, refused: number, wallSeconds: number, servingCpuMs: number }
  | { type: 'failed', error: string }

function send (m: AnchorLoadMessage): void { process.send?.(m) }

/** The next message from the anchor's process (`go` after a `begin`, `plan` first). */
async function nextMessage<T> (): Promise<T> {
  return await new Promise(resolve => process.once('message', m => { resolve(m as T) }))
}

async function floorOf (mn: Mn, rounds: number): Promise<Summary> {
  const rtt: number[] = []
  for (let i = 0; i < rounds; i++) {
    const t = performance.now()
    if (!(await reRegister(mn))) throw new Error(`floor: PBU of ${mn.mnId} refused`)
    if (i > 0) rtt.push(performance.now() - t)
  }
  return summarize(rtt)
}

/** `window` PBUs in flight per serving MAAR, each loop taking the next MN, for `seconds`. */
async function load (mns: Mn[], clients: number, window: number, seconds: number): Promise<Omit<Extract<AnchorLoadMessage, { type: 'end' }>, 'type'>> {
  let accepted = 0; let refused = 0; let next = 0
  const cpu = process.cpuUsage()
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      // A PBU whose stream failed counts as refused (the transport opens a new stream).
      if (await reRegister(mns[next++ % mns.length] as Mn).catch(() => false)) accepted++
      else refused++
    }
  }
  await Promise.all(Array.from({ length: window * clients }, loop))
  const used = process.cpuUsage(cpu)
  return { window, accepted, refused, wallSeconds: (performance.now() - t0) / 1000, servingCpuMs: (used.user + used.system) / 1000 }
}

/**
 * reRegister, tried again when the connection closed under it: while the domain's nodes meet
 * (membership proofs, the anchor's node dialling back), libp2p may close one of two connections
 * between the same pair with a PBU on it (ConnectionClosedError), once or twice per run.
 */
async function handOver (mn: Mn, attempts = 3): Promise<boolean> {
  for (let i = 1; ; i++) {
    try {
      return await reRegister(mn)
    } catch (err) {
      if (i >= attempts) throw err
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }
}

const plan = await nextMessage<AnchorLoadPlan>()
const dir = await mkdtemp(join(tmpdir(), 'dmm-bench-anchor-load-'))
let mesh: LocalMesh | undefined
try {
  // maar2 … maar(1+clients): maar1 is the anchor, in the other process.
  mesh = await createLocalMesh({ count: plan.clients, dataDir: dir, operatorKey: privateKeyFromProtobuf(Buffer.from(plan.operatorKey, 'base64')), plan: i => maarPlan(i + 1), ...(process.env.BENCH_LOG !== undefined ? { log: stderrSink } : {}) })
  const serving = mesh.maars
  const mns: Mn[] = plan.mns.map((m, j) => ({ ...m, client: serving[j % serving.length] as LocalMaar, anchor: plan.anchor, last: Date.now(), sequence: 1000 }))
  // The first PBU of each MN is its handover from the anchor to its serving MAAR (RFC 8885 §3.1).
  for (const mn of mns) if (!(await handOver(mn))) throw new Error(`handover PBU of ${mn.mnId} refused`)
  send({ type: 'ready', floor: await floorOf(mns[0] as Mn, plan.rounds) })
  for (const window of plan.windows) {
    send({ type: 'begin', window })
    await nextMessage<'go'>()
    send({ type: 'end', ...await load(mns, plan.clients, window, plan.seconds) })
  }
} catch (err) {
  send({ type: 'failed', error: err instanceof Error ? err.stack ?? err.message : String(err) })
} finally {
  await mesh?.stop().catch(() => {})
  await rm(dir, { recursive: true, force: true })
  process.disconnect?.()
}
