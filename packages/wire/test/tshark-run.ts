/**
 * Running tshark in tests: whether it runs here, its field output, and its display of the
 * RFC 6275 §6.2.3 / RFC 5213 §8.8 Timestamp. Used by this package's tshark test and by the
 * repository's capture tests (test/pcap-frames.ts).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'

/** Why tshark cannot run here (the tests skip with it), or undefined. */
export function tsharkMissing (): string | undefined {
  const probe = spawnSync('tshark', ['-v'], { encoding: 'utf8' })
  return probe.error !== undefined || probe.status !== 0 ? `tshark not runnable here: ${probe.error?.message ?? `exit ${String(probe.status)}`}; apt-get install tshark` : undefined
}

/** `tshark -r FILE -T fields`: one record per packet, each field by name; repeated values joined by "|". */
export function tsharkFields<F extends string> (file: string, fields: readonly F[]): Array<Record<F, string>> {
  const run = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|', ...fields.flatMap(f => ['-e', f])], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  return run.stdout.split('\n').filter(l => l !== '').map(l => {
    const cells = l.split('\t')
    return Object.fromEntries(fields.map((f, i) => [f, cells[i] ?? ''])) as Record<F, string>
  })
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** tshark's "Nov 14, 2023 22:13:20.500000000 UTC" -> epoch milliseconds. */
export function wiresharkTime (text: string): number {
  const m = /^(\w{3}) +(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)\.(\d{9}) UTC$/.exec(text)
  assert.ok(m !== null, `unexpected time format ${text}`)
  const [, mon, day, year, h, min, s, ns] = m
  return Date.UTC(Number(year), MONTHS.indexOf(mon!), Number(day), Number(h), Number(min), Number(s)) + Math.round(Number(ns) / 1e6)
}
