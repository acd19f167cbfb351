/**
 * Handover in the network-namespace setup (issue 4): real `dmm maar` processes with the Linux
 * data plane (seg6 tunnels, radvd), the MN moving maar1 -> maar2 -> maar3 -> maar1 per round.
 * For each handover: the interruption seen by a steady ping from the CN to each of the MN's
 * addresses (lost pings at 10 ms intervals; the outage is the longest run of lost pings x 10 ms),
 * and the kernel programming time: serving side = `programMs` of the attach report, anchor side
 * = `programMs` the anchor logs with "anchoring for new serving MAAR" (the same timer around its
 * data-plane apply). Runs without and with DLIF (RFC 8885 logical interfaces).
 *
 * All the steps are scenarios/netns/e2e.sh `demo`; this only repeats it and summarises its
 * RESULT lines. Needs root, network namespaces, seg6 and radvd; otherwise it says so and skips.
 *
 *   npx tsc -b && npx node bench/dist/netns-handover.js [--rounds 3] [--modes plain,dlif]
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { fmt, summarize, writeResults } from './stats.js'

const E2E = resolve(fileURLToPath(import.meta.url), '../../../scenarios/netns/e2e.sh')

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, modes: { type: 'string', default: 'plain,dlif' } } })
const rounds = Number(values.rounds)
const modes = (values.modes ?? '').split(',').filter(m => m === 'plain' || m === 'dlif')
if (!Number.isInteger(rounds) || rounds < 1 || modes.length === 0) {
  process.stderr.write('usage: netns-handover.js [--rounds 3] [--modes plain,dlif]\n')
  process.exit(2)
}

interface Flow { handover: number, from: number, to: number, kind: string, programMs: number, anchorProgramMs: number[], signallingMs: number, lookupMs: number, totalMs: number, dst: string, sent: number, lost: number, outageMs: number }

/** One `e2e.sh demo`; its stderr (the human account) goes through, RESULT lines are parsed. */
async function demo (dlif: boolean): Promise<Flow[]> {
  const id = `b${randomBytes(4).toString('hex')}`
  const child = spawn(E2E, ['demo', id, String(rounds)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...(dlif ? { DMM_E2E_DLIF: '1' } : {}) }
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (code !== 0) throw new Error(`e2e.sh demo exited ${String(code)}`)
  return out.split('\n').filter(l => l.startsWith('RESULT ')).map(line => {
    const f = Object.fromEntries(line.slice(7).split(' ').map(kv => kv.split('=', 2) as [string, string]))
    const num = (k: string): number => Number(f[k])
    return {
      handover: num('handover'), from: num('from'), to: num('to'), kind: f.kind ?? '',
      programMs: num('programMs'),
      anchorProgramMs: (f.anchorProgramMs ?? 'none') === 'none' ? [] : (f.anchorProgramMs ?? '').split(',').map(Number),
      signallingMs: num('signallingMs'), lookupMs: num('lookupMs'), totalMs: num('totalMs'),
      dst: f.dst ?? '', sent: num('sent'), lost: num('lost'), outageMs: num('outageMs')
    }
  })
}

function summarise (flows: Flow[]): Record<string, unknown> {
  // Per-handover figures appear once per flow in the RESULT lines: count each handover once.
  const handovers = [...new Map(flows.map(f => [f.handover, f])).values()]
  const byKind = (kind: string): Flow[] => flows.filter(f => f.kind === kind)
  return {
    handovers: handovers.length,
    flows: flows.length,
    interruptionMs: summarize(flows.map(f => f.outageMs)),
    interruptionMsFirstVisit: summarize(byKind('handover').map(f => f.outageMs)),
    interruptionMsReturn: summarize(byKind('return').map(f => f.outageMs)),
    lostPings: summarize(flows.map(f => f.lost)),
    servingProgramMs: summarize(handovers.map(f => f.programMs)),
    anchorProgramMs: summarize(handovers.flatMap(f => f.anchorProgramMs)),
    attachToProgrammedMs: summarize(handovers.map(f => f.totalMs)),
    signallingMs: summarize(handovers.map(f => f.signallingMs)),
    lookupMs: summarize(handovers.map(f => f.lookupMs)),
    samples: flows
  }
}

if (process.getuid?.() !== 0) {
  process.stdout.write('netns-handover: skipped: needs root to create network namespaces (run as root with seg6, radvd, iproute2, ping)\n')
} else {
  const figures: Record<string, unknown> = { rounds, pingIntervalMs: 10, path: 'maar1 -> maar2 -> maar3 -> maar1 per round' }
  for (const mode of modes) {
    process.stderr.write(`\n--- ${mode === 'dlif' ? 'with DLIF (dataplane.dlif: true)' : 'without DLIF'}, ${rounds} round(s)\n`)
    const s = summarise(await demo(mode === 'dlif'))
    figures[mode] = s
    const line = (label: string, key: string, unit = 'ms'): void => { process.stdout.write(`${mode.padEnd(5)} ${label.padEnd(34)} ${fmt(s[key] as ReturnType<typeof summarize>, unit)}\n`) }
    line('interruption, first visit', 'interruptionMsFirstVisit')
    line('interruption, return to a MAAR', 'interruptionMsReturn')
    line('lost pings (10 ms) per flow', 'lostPings', 'pings')
    line('kernel programming, serving', 'servingProgramMs')
    line('kernel programming, each anchor', 'anchorProgramMs')
    line('attach trigger -> both ends done', 'attachToProgrammedMs')
  }
  process.stdout.write(`wrote ${await writeResults('netns-handover', figures)}\n`)
}
