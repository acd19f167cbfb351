/**
 * The scenario's checks over a running domain: every live prefix of an MN reachable through its
 * anchor (downlink from the CN and uplink, traced hop by hop through the memory data plane), no
 * prefix held twice, every MN in the domain with exactly one serving MAAR that its anchors point
 * to (invariants.ts). A MAAR that is down holds nothing and forwards nothing: a packet whose path
 * crosses it is lost.
 */
import type { CheckResult } from './report.js'
import { classifiedViolations } from './invariants.js'
import type { CacheSnapshot } from './invariants.js'
import type { ScenarioDomain } from './domain.js'
import type { CheckName } from './scenario-schema.js'

export interface CheckInput {
  domain: ScenarioDomain
  maars: string[]
  /** MNs in the domain and settled (no attach in flight): the MAAR each attached to last. */
  serving: Map<string, string>
  /** MNs whose binding is expected to be anywhere (in the domain, in flight or not). */
  present: Set<string>
  run: readonly CheckName[]
  t: number
}

/** The checks' results, and how many bindings live MAARs still hold for MNs not in the domain. */
export interface CheckRound { results: CheckResult[], lingering: number }

/** A trace's hops, cut short when it loops (a loop repeats until the hop limit). */
function path (hops: string[]): string {
  return hops.length <= 10 ? hops.join(' > ') : `${hops.slice(0, 8).join(' > ')} > … (${hops.length} hops)`
}

/** Why each address of `mnId` is not reachable through its anchor (empty: all are). */
export function unreachable (domain: ScenarioDomain, mnId: string, isDown: (node: string) => boolean): string[] {
  const lines: string[] = []
  for (const a of domain.network.mnAddressInfo(mnId)) {
    const anchor = domain.nodeAt(a.anchor) ?? a.anchor
    const down = domain.network.traceFromCn(a.address)
    const up = domain.network.traceFromMn(mnId, a.address)
    const dead = [...down.hops, ...up.hops].find(h => isDown(h))
    if (!down.delivered) lines.push(`${mnId}: CN -> ${a.address} lost (${down.reason ?? '?'}): ${path(down.hops)}`)
    else if (!up.delivered) lines.push(`${mnId}: ${a.address} -> CN lost (${up.reason ?? '?'}): ${path(up.hops)}`)
    else if (dead !== undefined) lines.push(`${mnId}: ${a.address} goes through ${dead}, which is down: ${path(down.hops)}`)
    else if (!down.hops.includes(anchor)) lines.push(`${mnId}: CN -> ${a.address} does not pass its anchor ${anchor}: ${path(down.hops)}`)
  }
  return lines
}

export async function runChecks (input: CheckInput): Promise<CheckRound> {
  const { domain } = input
  const snapshots: CacheSnapshot[] = []
  const down = new Set<string>()
  let lingering = 0
  for (const name of input.maars) {
    const m = domain.maar(name)
    if (m === undefined) { down.add(name); continue }
    // MNs that left the domain are not checked: their anchors may hold them until their lifetime (§3.5 b).
    const all = await m.bindings()
    const bindings = all.filter(b => input.present.has(b.mnId))
    lingering += all.length - bindings.length
    snapshots.push({ name, address: domain.addressOf(name), bindings })
  }
  const settled = new Set(input.serving.keys())
  const unseen = new Set([...down].map(n => domain.addressOf(n)))
  // An MN whose attach is in flight is neither served here nor there yet: its lines are left out;
  // so are remote anchors at a MAAR that is down (its cache cannot be read: pending, not wrong).
  const visible = snapshots.map(s => ({
    ...s,
    bindings: s.bindings.filter(b => settled.has(b.mnId)).map(b => ({ ...b, remoteAnchors: b.remoteAnchors.filter(r => !unseen.has(r.address)) }))
  }))
  const violations = classifiedViolations(visible, input.serving)
  const results: CheckResult[] = []
  for (const check of input.run) {
    const lines = check === 'reachable'
      ? [...input.serving.keys()].flatMap(mn => unreachable(domain, mn, n => down.has(n)))
      : violations.filter(v => v.check === check).map(v => v.line)
    results.push({ t: input.t, check, passed: lines.length === 0, violations: lines })
  }
  return { results, lingering }
}
