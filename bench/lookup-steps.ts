/**
 * Where a lookup's time goes, step by step, on the trace of `goals.js` (10 MAARs in one process,
 * DHT mode; one MN hops by a fixed stride, 50 ms at each MAAR): the steps the discovery package
 * publishes on its diagnostics channel (packages/discovery/src/lookup-steps.ts) — GETs sent, each
 * holder's request read and answer handed to its stream, each answer read, validation, decision —
 * as offsets from the lookup's start, their medians over the moves, and one lookup's timeline.
 *
 *   npx tsc -b bench && npx node bench/dist/lookup-steps.js [--maars 10] [--moves 40]
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { LOOKUP_STEPS_CHANNEL } from '@dmm-mesh/discovery'
import type { LookupStep } from '@dmm-mesh/discovery'
import { createLocalMesh } from '@dmm-mesh/maar'
import { DOMAIN, STRIDE, attach, maarAt, settleAll, trimSession, warmUp } from './domain.js'
import type { Domain } from './domain.js'
import { summarize, writeResults } from './stats.js'

const { values } = parseArgs({ options: { maars: { type: 'string', default: '10' }, moves: { type: 'string', default: '40' } } })
const maarCount = Number(values.maars)
const moves = Number(values.moves)
if (!Number.isInteger(maarCount) || maarCount < 3 || !Number.isInteger(moves) || moves < 1) {
  process.stderr.write('usage: lookup-steps.js [--maars 10 (≥3)] [--moves 40]\n')
  process.exit(2)
}

/** "answer-read #2": the second answer read in that lookup; steps that happen once keep their name. */
function labelled (steps: LookupStep[]): Array<{ label: string, ms: number, peer?: string }> {
  const start = steps.find(s => s.step === 'lookup-start')?.at ?? NaN
  const seen = new Map<string, number>()
  return steps.map(s => {
    const n = (seen.get(s.step) ?? 0) + 1
    seen.set(s.step, n)
    const once = s.step === 'lookup-start' || s.step === 'lookup-decided'
    return { label: once ? s.step : `${s.step} #${n}`, ms: s.at - start, ...(s.peer !== undefined ? { peer: s.peer.slice(-6) } : {}) }
  })
}

const dir = await mkdtemp(join(tmpdir(), 'dmm-bench-lookup-steps-'))
const mesh = await createLocalMesh({ count: maarCount, dataDir: dir })
const d: Domain = { mode: 'dht', mesh, dir }
const lookups: Array<Array<{ label: string, ms: number, peer?: string }>> = []
try {
  await warmUp(d)
  const mnId = `steps@${DOMAIN}`
  let position = 0
  await attach(d, mnId, maarAt(d, position))
  await settleAll(d)
  for (let i = 0; i < moves; i++) {
    position = (position + STRIDE) % maarCount
    await new Promise(resolve => setTimeout(resolve, 50))
    const steps: LookupStep[] = []
    const listen = (message: unknown): void => { steps.push(message as LookupStep) }
    subscribe(LOOKUP_STEPS_CHANNEL, listen)
    let r
    try {
      r = await attach(d, mnId, maarAt(d, position))
    } finally {
      unsubscribe(LOOKUP_STEPS_CHANNEL, listen)
    }
    // The attach's lookup only: what other traffic (publication PUTs) does after it is not part of it.
    const end = steps.findIndex(s => s.step === 'lookup-decided')
    lookups.push(labelled(steps.slice(0, end + 1)))
    await settleAll(d)
    await trimSession(d, mnId, maarAt(d, position), r.anchors.length)
  }
} finally {
  await mesh.stop().catch(() => {})
  await rm(dir, { recursive: true, force: true })
}

// Each step's offset from the lookup's start, median over the lookups that had it, in order.
const offsets = new Map<string, number[]>()
for (const l of lookups) for (const s of l) offsets.set(s.label, [...(offsets.get(s.label) ?? []), s.ms])
const table = [...offsets.entries()].map(([label, ms]) => ({ label, ...summarize(ms) })).sort((a, b) => a.median - b.median)
process.stdout.write(`\nlookup steps (${maarCount} MAARs, one process, ${moves} moves), offset from the lookup's start:\n\n`)
process.stdout.write('| step | p50 ms | p95 ms | lookups |\n|---|---|---|---|\n')
for (const t of table) process.stdout.write(`| ${t.label} | ${t.median.toFixed(3)} | ${t.p95.toFixed(3)} | ${t.n} |\n`)
const middle = [...lookups].sort((a, b) => (a.at(-1)?.ms ?? 0) - (b.at(-1)?.ms ?? 0))[Math.floor(lookups.length / 2)] ?? []
process.stdout.write('\none lookup (the median one):\n')
for (const s of middle) process.stdout.write(`  ${s.ms.toFixed(3).padStart(7)} ms  ${s.label}${s.peer !== undefined ? ` (…${s.peer})` : ''}\n`)
const file = await writeResults('lookup-steps', { maars: maarCount, moves, steps: table, medianLookup: middle })
process.stdout.write(`\nresults written to ${file}\n`)
process.exit(0)
