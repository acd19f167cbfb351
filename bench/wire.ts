/**
 * Wire codec throughput: encode and decode of a typical handover PBU (MN-ID, three Anchored
 * Prefix options, Serving MAAR, Handoff Indicator, ATT, Timestamp), with the checksum written and
 * verified as the PMIP transport does. Figures are messages per second, median of several rounds.
 *
 *   npx tsc -b bench && npx node bench/dist/wire.js [--rounds 9] [--ms 300]
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import {
  ACCESS_TECHNOLOGY_TYPE, HANDOFF_INDICATOR, MN_ID_SUBTYPE_NAI, decodeMobilityMessage, encodeMobilityMessage,
  timestampFromMillis
} from '@dmm-mesh/wire'
import type { BindingUpdate, PseudoHeader } from '@dmm-mesh/wire'
import { summarize, writeResults } from './stats.js'

export const HANDOVER_PBU: BindingUpdate = {
  kind: 'binding-update',
  sequence: 4242,
  flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true, D: true },
  lifetime: 3600,
  options: [
    { type: 'mn-identifier', subtype: MN_ID_SUBTYPE_NAI, identifier: 'mn-000123@dmm.example' },
    { type: 'anchored-prefix', prefix: '2001:db8:1:a::', prefixLength: 64 },
    { type: 'anchored-prefix', prefix: '2001:db8:2:b::', prefixLength: 64 },
    { type: 'anchored-prefix', prefix: '2001:db8:3:c::', prefixLength: 64 },
    { type: 'serving-maar', address: '2001:db8:ff::4' },
    { type: 'handoff-indicator', value: HANDOFF_INDICATOR.HANDOFF_BETWEEN_MAGS_SAME_INTERFACE },
    { type: 'access-technology-type', value: ACCESS_TECHNOLOGY_TYPE.IEEE_802_11 },
    timestampFromMillis(1700000000123)
  ]
}
const PSEUDO: PseudoHeader = { source: '2001:db8:ff::4', destination: '2001:db8:ff::1' }

/** Runs `op` repeatedly for about `ms` milliseconds; returns operations per second. */
function rate (op: () => unknown, ms: number): number {
  let n = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    for (let i = 0; i < 200; i++) op()
    n += 200
    now = performance.now()
  }
  return n / ((now - start) / 1000)
}

export async function main (argv = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string', default: '9' }, ms: { type: 'string', default: '300' } } })
  const rounds = Number(values.rounds); const ms = Number(values.ms)
  if (!Number.isInteger(rounds) || rounds < 1 || !(ms > 0)) throw new Error('usage: wire.js [--rounds 9] [--ms 300]')
  const bytes = encodeMobilityMessage(HANDOVER_PBU, PSEUDO)
  const ops = {
    encode: () => encodeMobilityMessage(HANDOVER_PBU, PSEUDO),
    decode: () => decodeMobilityMessage(bytes, { pseudo: PSEUDO }),
    encodeNoChecksum: () => encodeMobilityMessage(HANDOVER_PBU),
    decodeNoChecksum: () => decodeMobilityMessage(bytes)
  }
  for (const op of Object.values(ops)) rate(op, 100) // warm up the JIT
  const figures: Record<string, unknown> = { messageBytes: bytes.length, rounds, roundMs: ms }
  for (const [name, op] of Object.entries(ops)) {
    const samples: number[] = []
    for (let r = 0; r < rounds; r++) samples.push(rate(op, ms))
    const s = summarize(samples)
    figures[`${name}PerSecond`] = { median: Math.round(s.median), min: Math.round(s.min), max: Math.round(s.max) }
    process.stdout.write(`${name.padEnd(17)} median ${Math.round(s.median).toLocaleString('en')} msg/s (min ${Math.round(s.min).toLocaleString('en')}, max ${Math.round(s.max).toLocaleString('en')}, ${rounds} rounds of ${ms} ms)\n`)
  }
  process.stdout.write(`handover PBU: ${bytes.length} octets\n`)
  const file = await writeResults('wire', figures)
  process.stdout.write(`wrote ${file}\n`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch(err => { process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`); process.exitCode = 1 })
}
