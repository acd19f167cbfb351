/**
 * scenarios/netns/e2e.sh for tests: runs one of its commands and parses what it prints (KEY=VALUE
 * plan lines, REPORT=<attach report>, PING lines). The script is the one implementation of the
 * namespace scenario; tests only drive it and check the outcome.
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'
import { reachable, run, tunnelCapture } from './netns-topology.js'

export const E2E_SCRIPT = resolve(fileURLToPath(import.meta.url), '../../../scenarios/netns/e2e.sh')
export const DMM_BIN = resolve(fileURLToPath(import.meta.url), '../../../packages/cli/dist/src/bin.js')

/** The attach answer of a MAAR's management API (packages/maar/src/handover-report.ts). */
export interface AttachReport {
  kind: string
  localPrefix: string
  anchors: Array<{ prefix: string, anchor: string, native: boolean, pending?: true }>
  complete: boolean
  sessionSequence: number
  /** Where the previous session came from: none, dht, border (another domain's gateway), ... */
  lookupSource?: string
  peers: Array<{ address: string, status: string, prefixes: string[], error?: string }>
  programMs: number
  totalMs: number
}

/** One steady ping's summary: `outageMs` counts lost echoes, `gapMs` is the longest wall-clock time between two replies. */
export interface PingLine { dst: string, sent: number, lost: number, outageMs: number, gapMs: number }

export interface E2eOutput { plan: Map<string, string>, report?: AttachReport, pings: PingLine[], stdout: string }

/** Runs `e2e.sh ARGS` (with `env` added, e.g. DMM_E2E_DISCOVERY); throws with its stderr when it fails. */
export async function e2e (args: string[], env: Record<string, string> = {}): Promise<E2eOutput> {
  const r = await run(['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), E2E_SCRIPT, ...args])
  if (r.code !== 0) throw new Error(`e2e.sh ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  const plan = new Map<string, string>()
  const pings: PingLine[] = []
  let report: AttachReport | undefined
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('REPORT=')) report = JSON.parse(line.slice(7)) as AttachReport
    else if (line.startsWith('PING ')) {
      const f = Object.fromEntries(line.slice(5).split(' ').map(kv => kv.split('=', 2) as [string, string]))
      pings.push({ dst: f.dst ?? '', sent: Number(f.sent), lost: Number(f.lost), outageMs: Number(f.outageMs), gapMs: Number(f.gapMs) })
    } else if (/^[A-Z0-9_]+=/.test(line)) {
      const i = line.indexOf('=')
      plan.set(line.slice(0, i), line.slice(i + 1))
    }
  }
  return { plan, ...(report !== undefined ? { report } : {}), pings, stdout: r.stdout }
}

/** MAAR I's management API through e2e.sh (it listens on loopback inside the MAAR's namespace). */
export async function maarApi<T> (id: string, maar: number, method: string, path: string): Promise<T> {
  const r = await run([E2E_SCRIPT, 'api', id, String(maar), method, path])
  if (r.code !== 0) throw new Error(`maar${maar} ${method} ${path} failed (${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`)
  return JSON.parse(r.stdout) as T
}

/** Names of the scenario as e2e.sh printed them (its KEY=VALUE plan), read when needed. */
export function planAccess (plan: () => Map<string, string>): {
  get: (key: string) => string
  ns: (maar: number) => string
  bb: (maar: number) => string
  sid: (maar: number) => string
  cn: () => string
  cnNs: () => string
  mnId: () => string
} {
  const get = (key: string): string => {
    const v = plan().get(key)
    if (v === undefined) throw new Error(`e2e.sh printed no ${key}`)
    return v
  }
  return {
    get,
    ns: i => get(`MAAR${i}_NS`),
    bb: i => get(`MAAR${i}_ADDR`),
    sid: i => get(`MAAR${i}_SID`),
    cn: () => get('CN_ADDR'),
    cnNs: () => get('CN'),
    mnId: () => get('MN_ID')
  }
}

/**
 * The CN reaches every address of the MN (`addressOf`: its SLAAC address in each prefix) and the
 * MN the CN from each, both ways; a prefix native at MAAR `to` is not tunnelled, any other goes
 * between its anchor and MAAR `to` (tcpdump on `to`'s backbone, RFC 5213 IPv6-in-IPv6).
 */
export async function checkForwarding (plan: ReturnType<typeof planAccess>, mnNetns: string, to: number, r: AttachReport, addressOf: Map<string, string>): Promise<void> {
  const { ns, bb, sid, cn, cnNs } = plan
  assert.equal(r.anchors.length, addressOf.size, JSON.stringify(r.anchors))
  for (const a of r.anchors) await reachable(cnNs(), addressOf.get(a.prefix)!)
  const seen = await tunnelCapture(ns(to), async () => {
    for (const a of r.anchors) {
      await reachable(cnNs(), addressOf.get(a.prefix)!)
      await reachable(mnNetns, cn(), addressOf.get(a.prefix)!)
    }
  })
  for (const a of r.anchors) {
    const address = addressOf.get(a.prefix)!
    if (a.native) {
      assert.equal(a.anchor, sid(to))
      assert.doesNotMatch(seen, new RegExp(`(> ${address}:|IP6 ${address} >)`), `${address} is native at maar${to}, not tunnelled:\n${seen}`)
    } else {
      const anchor = Number(a.anchor.slice(a.anchor.lastIndexOf(':') + 1))
      assert.match(seen, new RegExp(`IP6 ${bb(anchor)} > ${sid(to)}: IP6 ${cn()} > ${address}: ICMP6, echo request`), seen)
      assert.match(seen, new RegExp(`IP6 ${bb(to)} > ${sid(anchor)}: IP6 ${address} > ${cn()}: ICMP6, echo request`), seen)
    }
  }
}
