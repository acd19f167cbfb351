/**
 * The discovery/signalling modes side by side in one run (issue 10): the DHT mode (RFC 8885 §3.1,
 * session lookup in the kad-dht) and the CMD modes of draft-bernardos-dmm-pmip §3 — relay (§3.2),
 * locator (§3.3), proxy (§3.4) — and hybrid (the CMD, else the DHT; doc/ARCHITECTURE.md "The CMD").
 * Each mode gets a fresh domain in this process (a local mesh of MAARs on loopback, real libp2p and
 * LevelDB, memory data plane, and for the CMD modes a CMD beside it) and the same movement trace:
 *
 * 1. one MN hops over the MAARs by a fixed stride, dwelling `--dwell` ms at each: handover
 *    latency (attach trigger to both ends programmed, as the MAAR reports it), the time until the last PBU/PBA of the handover was
 *    seen (locator and proxy answer the serving MAAR before the P-MAARs have), and the PBUs and
 *    PBAs per handover and their encoded Mobility Header octets, counted by the capture decorator
 *    (packages/maar/src/capture.ts) at every sender, MAAR and CMD;
 * 2. the handover rate grows: K MNs (1, 5, 20) move at once, round after round: handovers/s
 *    completed, latency p50/p95, messages/s the CMD handled, and the process's CPU time per
 *    handover (the whole domain shares one process, so the CMD's share is read from its messages).
 *
 * DHT mode's kad-dht traffic (lookup and session record publication) is not PBU/PBA and is not
 * counted; its lookup time is in the latency.
 *
 *   npx tsc -b bench && npx node bench/dist/cmd-modes.js [--maars 10] [--moves 30] [--dwell 100] [--inflight 1,5,20] [--rounds 5]
 */
import { parseArgs } from 'node:util'
import { LOCAL_CMD_ADDRESS } from '@dmm-mesh/cmd'
import { summarize, writeResults } from './stats.js'
import type { Summary } from './stats.js'
import { DOMAIN, MODES, STRIDE, attach, maarAt, measureLoad, settleAll, startDomain, stopDomain, trimSession, warmUp } from './domain.js'
import type { Domain, Load, Mode } from './domain.js'

const { values } = parseArgs({
  options: {
    maars: { type: 'string', default: '10' },
    moves: { type: 'string', default: '30' },
    dwell: { type: 'string', default: '100' },
    inflight: { type: 'string', default: '1,5,20' },
    rounds: { type: 'string', default: '5' },
    modes: { type: 'string', default: MODES.join(',') }
  }
})
const maarCount = Number(values.maars)
const moves = Number(values.moves)
const rounds = Number(values.rounds)
const dwellMs = Number(values.dwell)
const inflight = (values.inflight ?? '').split(',').map(Number).filter(n => Number.isInteger(n) && n >= 1)
const modes = (values.modes ?? '').split(',').filter((m): m is Mode => (MODES as readonly string[]).includes(m))
if (!Number.isInteger(maarCount) || maarCount < 3 || !Number.isInteger(moves) || moves < 1 || !Number.isInteger(rounds) || rounds < 1 || !(dwellMs >= 0) || inflight.length === 0 || modes.length === 0) {
  process.stderr.write(`usage: cmd-modes.js [--maars 10 (≥3)] [--moves 30] [--dwell 100] [--inflight 1,5,20] [--rounds 5] [--modes ${MODES.join(',')}]\n`)
  process.exit(2)
}

function progress (line: string): void { process.stderr.write(`${line}\n`) }

interface Trace {
  handoverMs: Summary
  lookupMs: Summary
  signallingMs: Summary
  lastMessageMs: Summary
  lookupSources: Record<string, number>
  pbuPerHandover: number
  pbaPerHandover: number
  messagesPerHandover: number
  octetsPerHandover: number
  cmdFramesPerHandover: number
  incomplete: number
}

/** Phase 1: one MN, `moves` handovers by a fixed stride, each measured alone. */
async function measureTrace (d: Domain): Promise<Trace> {
  const mnId = `trace@${DOMAIN}`
  let position = 0
  await attach(d, mnId, maarAt(d, 0))
  await settleAll(d)
  const total: number[] = []; const last: number[] = []; const lookup: number[] = []; const signalling: number[] = []
  const sources: Record<string, number> = {}
  let pbu = 0; let pba = 0; let octets = 0; let atCmd = 0; let incomplete = 0
  for (let i = 0; i < moves; i++) {
    position = (position + STRIDE) % maarCount
    const target = maarAt(d, position)
    // The MN dwells at a MAAR: what the previous handover left running in the background (libp2p
    // and kad-dht work after the session record's publication) is not charged to this one.
    await new Promise(resolve => setTimeout(resolve, dwellMs))
    const counter = d.counter
    if (counter === undefined) throw new Error('the trace needs the frame counter')
    const mark = counter.mark()
    const t0 = performance.now()
    const r = await attach(d, mnId, target)
    await settleAll(d)
    const w = counter.since(mark)
    total.push(r.totalMs); lookup.push(r.lookupMs); signalling.push(r.signallingMs)
    sources[r.lookupSource] = (sources[r.lookupSource] ?? 0) + 1
    last.push(Math.max(r.totalMs, ...w.sent.map(f => f.t - t0)))
    if (!r.complete) incomplete++
    pbu += w.sent.filter(f => f.kind === 'PBU').length
    pba += w.sent.filter(f => f.kind === 'PBA').length
    octets += w.sent.reduce((s, f) => s + f.octets, 0)
    atCmd += w.at(LOCAL_CMD_ADDRESS).length
    await trimSession(d, mnId, target, r.anchors.length)
    if ((i + 1) % 20 === 0) progress(`  ${d.mode}: ${i + 1}/${moves} moves`)
  }
  const per = (n: number): number => Math.round(n / moves * 100) / 100
  return {
    handoverMs: summarize(total),
    lookupMs: summarize(lookup),
    signallingMs: summarize(signalling),
    lastMessageMs: summarize(last),
    lookupSources: sources,
    pbuPerHandover: per(pbu),
    pbaPerHandover: per(pba),
    messagesPerHandover: per(pbu + pba),
    octetsPerHandover: per(octets),
    cmdFramesPerHandover: per(atCmd),
    incomplete
  }
}

const results: Array<Record<string, unknown>> = []
for (const mode of modes) {
  progress(`${mode}: starting ${maarCount} MAARs${mode === 'dht' ? '' : ' and a CMD'} ...`)
  let d: Domain | undefined
  try {
    d = await startDomain(mode, maarCount)
    await warmUp(d)
    const trace = await measureTrace(d)
    const load: Load[] = []
    for (const k of inflight) {
      load.push(await measureLoad(d, k, rounds))
      progress(`  ${mode}: ${k} in flight done`)
    }
    results.push({ mode, maars: maarCount, moves, dwellMs, rounds, ...trace, load })
  } catch (err) {
    progress(`  ${mode}: not measured: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    results.push({ mode, error: err instanceof Error ? err.message : String(err) })
  } finally {
    if (d !== undefined) await stopDomain(d)
  }
}

const ms = (s: Summary | undefined): string => s === undefined || s.n === 0 ? '-' : `${s.median.toFixed(1)} / ${s.p95.toFixed(1)}`
const row = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |\n`
process.stdout.write(`\n${maarCount} MAARs, ${moves} moves of one MN, ${dwellMs} ms apart (latency median / p95, ms; messages = PBU + PBA sent, octets = their Mobility Headers):\n\n`)
process.stdout.write(row(['mode', 'handover', 'of which lookup', 'last PBU/PBA seen', 'PBU + PBA / handover', 'octets / handover', 'at the CMD / handover']))
process.stdout.write(row(['---', '---', '---', '---', '---', '---', '---']))
for (const r of results) {
  if ('error' in r) { process.stdout.write(row([String(r.mode), `not measured: ${String(r.error)}`, '', '', '', '', ''])); continue }
  const t = r as unknown as Trace & { mode: Mode }
  process.stdout.write(row([t.mode, ms(t.handoverMs), ms(t.lookupMs), ms(t.lastMessageMs), `${t.pbuPerHandover} + ${t.pbaPerHandover}`, t.octetsPerHandover, t.cmdFramesPerHandover]))
}
process.stdout.write(`\nAs the handover rate grows (${rounds} rounds of K MNs moving at once): handovers/s, latency median / p95 ms, CMD messages/s, process CPU ms per handover, failed attaches:\n\n`)
process.stdout.write(row(['mode', ...inflight.map(k => `K=${k}`)]))
process.stdout.write(row(['---', ...inflight.map(() => '---')]))
for (const r of results) {
  if ('error' in r) continue
  const load = r.load as Load[]
  process.stdout.write(row([String(r.mode), ...load.map(l => `${l.handoversPerSecond}/s, ${ms(l.handoverMs)} ms, CMD ${l.cmdFramesPerSecond}/s, CPU ${l.cpuMsPerHandover} ms${l.failed > 0 ? `, ${l.failed} failed` : ''}`)]))
}
const file = await writeResults('cmd-modes', results)
process.stdout.write(`\nresults written to ${file}\n`)
process.exit(0)
