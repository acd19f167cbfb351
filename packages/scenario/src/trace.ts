/**
 * The movement trace of a scenario: every attach, departure, fault, flow and check, in scenario
 * time (ms), computed from the file and its seed alone (the same file and seed give the same
 * trace), so that every contender replays exactly the same events. MNs avoid MAARs that are down
 * at the time; an MN whose MAAR goes down moves to the nearest live one.
 */
import { pick, seededRandom } from './prng.js'
import type { Random } from './prng.js'
import { ScenarioMap } from './scenario-map.js'
import type { Movement, Scenario } from './scenario-schema.js'

export type TraceEvent =
  | { t: number, kind: 'attach', mn: string, maar: string }
  | { t: number, kind: 'leave', mn: string }
  | { t: number, kind: 'maar-down' | 'maar-up', maar: string }
  | { t: number, kind: 'cmd-down' | 'cmd-up' }
  | { t: number, kind: 'agreement-revoked', from: string, to: string }
  | { t: number, kind: 'flow-start' | 'flow-end', flow: number }
  | { t: number, kind: 'check' }

export interface Trace {
  events: TraceEvent[]
  /** Every MN of the scenario (groups and attach bursts), by group. */
  groups: Map<string, string[]>
  durationMs: number
}

export const SCENARIO_DOMAIN = 'dmm.example'

export function mnId (group: string, index: number): string { return `${group}-${index}@${SCENARIO_DOMAIN}` }

/** When each MAAR is down: [from, to) windows from maar-down and maars-leave faults. */
export class DownWindows {
  private readonly windows = new Map<string, Array<[number, number]>>()

  add (maar: string, from: number, to: number): void {
    this.windows.set(maar, [...(this.windows.get(maar) ?? []), [from, to]])
  }

  isDown (maar: string, t: number): boolean {
    return (this.windows.get(maar) ?? []).some(([a, b]) => t >= a && t < b)
  }

  /** The first time after `t` at which `maar` goes down (Infinity: never). */
  nextDown (maar: string, t: number): number {
    return Math.min(Infinity, ...(this.windows.get(maar) ?? []).map(([a]) => a).filter(a => a > t))
  }
}

/** What a movement model does next from `cell`: wait dt ms, then move to `cell` (null: leave the domain). */
type Step = { dt: number, cell: string | null }
interface Plan { start: string, t0: number, step: (cell: string) => Step }

function dwellOf (m: { dwellS: number, jitter: number }, random: Random): number {
  return Math.max(1, m.dwellS * 1000 * (1 + m.jitter * (2 * random() - 1)))
}

function plan (movement: Movement, map: ScenarioMap, random: Random, index: number): Plan {
  switch (movement.model) {
    case 'random-walk':
      // Walkers appear over their first dwell, not all at once (an attach burst is a fault of its own).
      return { start: pick(random, map.names()), t0: random() * movement.dwellS * 1000, step: cell => ({ dt: dwellOf(movement, random), cell: pick(random, map.neighbours(cell).length > 0 ? map.neighbours(cell) : [cell]) }) }
    case 'ping-pong': {
      const [a, b] = movement.between
      return { start: a, t0: random() * movement.dwellS * 1000, step: cell => ({ dt: dwellOf(movement, random), cell: cell === a ? b : a }) }
    }
    case 'commuter': {
      const path = movement.path
      let at = 0; let dir = 1
      return {
        start: path[0] ?? '',
        t0: random() * movement.dwellS * 1000,
        step: () => {
          const atEnd = at + dir < 0 || at + dir >= path.length
          if (atEnd) dir = -dir
          at += dir
          return { dt: atEnd ? movement.stayS * 1000 : dwellOf(movement, random), cell: path[at] ?? null }
        }
      }
    }
    case 'highway': {
      const cells = movement.cells
      const msPerKm = 3_600_000 / movement.speedKmh
      let at = 0
      return {
        start: cells[0] ?? '',
        t0: (index - 1) * movement.entryEveryS * 1000,
        step: () => {
          const from = cells[at] ?? ''
          at++
          // Past the last cell the MN drives out of the domain after one more cell's length.
          const segment = map.distanceKm(cells[Math.min(at, cells.length - 1)] ?? from, cells[Math.min(at, cells.length - 1) - 1] ?? from)
          return { dt: Math.max(1, segment * msPerKm), cell: cells[at] ?? null }
        }
      }
    }
  }
}

/** The nearest MAAR up at `t` (by distance, then name), or undefined when all are down. */
function nearestLive (map: ScenarioMap, down: DownWindows, from: string, t: number): string | undefined {
  return map.names().filter(n => !down.isDown(n, t)).sort((a, b) => map.distanceKm(from, a) - map.distanceKm(from, b) || a.localeCompare(b))[0]
}

/** One MN's attaches and departure until `end`. */
function moves (id: string, p: Plan, map: ScenarioMap, down: DownWindows, end: number, leaveAt: number | undefined): TraceEvent[] {
  const events: TraceEvent[] = []
  const horizon = Math.min(end, leaveAt ?? Infinity)
  let t = p.t0
  if (t >= horizon) return events
  let cell = down.isDown(p.start, t) ? nearestLive(map, down, p.start, t) : p.start
  if (cell === undefined) return events
  events.push({ t, kind: 'attach', mn: id, maar: cell })
  for (let guard = 0; guard < 1_000_000; guard++) {
    const s = p.step(cell)
    const next = t + s.dt
    const dies = down.nextDown(cell, t)
    if (dies < next && dies < horizon) {
      const live = nearestLive(map, down, cell, dies)
      if (live !== undefined && live !== cell) events.push({ t: dies, kind: 'attach', mn: id, maar: live })
      cell = live ?? cell
      t = dies
      continue
    }
    if (next >= horizon) break
    if (s.cell === null) {
      events.push({ t: next, kind: 'leave', mn: id })
      return events
    }
    let target: string | undefined = s.cell
    if (down.isDown(target, next)) target = down.isDown(cell, next) ? nearestLive(map, down, cell, next) : cell
    if (target !== undefined && target !== cell) {
      events.push({ t: next, kind: 'attach', mn: id, maar: target })
      cell = target
    }
    t = next
  }
  if (leaveAt !== undefined && leaveAt < end) events.push({ t: leaveAt, kind: 'leave', mn: id })
  return events
}

/** The trace of `scenario` with `seed` (default: the file's). A pure function of both. */
export function buildTrace (scenario: Scenario, seed = scenario.seed): Trace {
  const map = new ScenarioMap(scenario)
  const end = scenario.durationS * 1000
  const events: TraceEvent[] = []
  const down = new DownWindows()
  const groups = new Map<string, string[]>()
  for (const [i, f] of scenario.faults.entries()) {
    const at = f.atS * 1000
    if (f.kind === 'maar-down') {
      down.add(f.maar, at, at + f.forS * 1000)
      events.push({ t: at, kind: 'maar-down', maar: f.maar }, { t: at + f.forS * 1000, kind: 'maar-up', maar: f.maar })
    } else if (f.kind === 'maars-leave') {
      const random = seededRandom(seed, `fault:${i}`)
      const pool = map.names().filter(n => !down.isDown(n, at))
      const count = Math.round(f.share * map.names().length)
      for (let k = 0; k < count && pool.length > 0; k++) {
        const [maar] = pool.splice(Math.floor(random() * pool.length), 1)
        if (maar === undefined) break
        down.add(maar, at, Infinity)
        events.push({ t: at, kind: 'maar-down', maar })
      }
    } else if (f.kind === 'cmd-down') {
      events.push({ t: at, kind: 'cmd-down' }, { t: at + f.forS * 1000, kind: 'cmd-up' })
    } else if (f.kind === 'agreement-revoked') {
      events.push({ t: at, kind: 'agreement-revoked', from: f.from, to: f.to })
    }
  }
  for (const g of scenario.mns) {
    const ids: string[] = []
    for (let j = 1; j <= g.count; j++) {
      const id = mnId(g.group, j)
      ids.push(id)
      events.push(...moves(id, plan(g.movement, map, seededRandom(seed, id), j), map, down, end, g.leaveAtS === undefined ? undefined : g.leaveAtS * 1000))
    }
    groups.set(g.group, ids)
  }
  for (const [i, f] of scenario.faults.entries()) {
    if (f.kind !== 'attach-burst') continue
    const ids: string[] = []
    const at = f.atS * 1000
    for (let j = 1; j <= f.mns; j++) {
      const id = mnId(`burst${i + 1}`, j)
      ids.push(id)
      const random = seededRandom(seed, id)
      const live = map.names().filter(n => !down.isDown(n, at))
      if (live.length === 0 || at >= end) continue
      events.push({ t: at, kind: 'attach', mn: id, maar: pick(random, live) })
      if (f.stayS !== undefined && at + f.stayS * 1000 < end) events.push({ t: at + f.stayS * 1000, kind: 'leave', mn: id })
    }
    groups.set(`burst${i + 1}`, ids)
  }
  scenario.flows.forEach((f, i) => {
    events.push({ t: f.startS * 1000, kind: 'flow-start', flow: i }, { t: Math.min(end, f.endS * 1000), kind: 'flow-end', flow: i })
  })
  for (let t = scenario.checks.everyS * 1000; t < end; t += scenario.checks.everyS * 1000) events.push({ t, kind: 'check' })
  // Stable: events at the same time keep the order above (faults, moves, flows, checks).
  return { events: events.filter(e => e.t <= end).sort((a, b) => a.t - b.t), groups, durationMs: end }
}
