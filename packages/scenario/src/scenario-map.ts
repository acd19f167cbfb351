/**
 * The scenario's map: MAAR positions (km), the neighbour graph the MNs move over, and the one-way
 * delay between any two nodes (doc/ARCHITECTURE.md "Scenarios"): perHopMs plus the distance at
 * kmPerMs (200 km/ms, light in fibre at 2/3 c).
 */
import type { Scenario } from './scenario-schema.js'

export interface Place { name: string, x: number, y: number }

/** The CMD's name on the map (and in reports). */
export const CMD_NODE = 'cmd'

/** The name of the CMD of a federation's domain `label` (a domain with discovery relay, locator or proxy). */
export const domainCmdNode = (label: string): string => `cmd-${label}`

export class ScenarioMap {
  /** MAARs in file order (the engine starts them in this order). */
  readonly maars: Place[]
  readonly cmd: Place | undefined
  /** The CMDs of a federation's CMD domains. */
  readonly domainCmds: Place[]
  private readonly places = new Map<string, Place>()
  private readonly adjacent = new Map<string, string[]>()

  constructor (private readonly scenario: Pick<Scenario, 'maars' | 'neighbours' | 'cmd' | 'delay' | 'domains'>) {
    this.maars = layout(scenario.maars)
    this.cmd = scenario.cmd === undefined ? undefined : { name: CMD_NODE, x: scenario.cmd.x, y: scenario.cmd.y }
    this.domainCmds = (scenario.domains ?? []).flatMap(d => d.cmd === undefined ? [] : [{ name: domainCmdNode(d.name), x: d.cmd.x, y: d.cmd.y }])
    for (const p of [...this.maars, ...(this.cmd !== undefined ? [this.cmd] : []), ...this.domainCmds]) this.places.set(p.name, p)
    for (const m of this.maars) this.adjacent.set(m.name, [])
    for (const [a, b] of this.edges()) {
      if (a === b) continue
      const na = this.adjacent.get(a); const nb = this.adjacent.get(b)
      if (na !== undefined && !na.includes(b)) na.push(b)
      if (nb !== undefined && !nb.includes(a)) nb.push(a)
    }
    for (const list of this.adjacent.values()) list.sort()
  }

  names (): string[] { return this.maars.map(m => m.name) }

  neighbours (maar: string): string[] { return this.adjacent.get(maar) ?? [] }

  distanceKm (a: string, b: string): number {
    const pa = this.places.get(a); const pb = this.places.get(b)
    if (pa === undefined || pb === undefined) return 0
    return Math.hypot(pa.x - pb.x, pa.y - pb.y)
  }

  /** One-way delay in ms between two nodes of the map (0 to itself or to a node not on it). */
  oneWayMs (a: string, b: string): number {
    if (a === b || !this.places.has(a) || !this.places.has(b)) return 0
    return this.scenario.delay.perHopMs + this.distanceKm(a, b) / this.scenario.delay.kmPerMs
  }

  private edges (): Array<[string, string]> {
    const n = this.scenario.neighbours
    if (Array.isArray(n)) return n
    const pairs: Array<[string, string]> = []
    for (const m of this.maars) {
      const others = this.maars.filter(o => o !== m).sort((p, q) => this.distanceKm(m.name, p.name) - this.distanceKm(m.name, q.name) || p.name.localeCompare(q.name))
      const chosen = 'nearest' in n ? others.slice(0, n.nearest) : others.filter(o => this.distanceKm(m.name, o.name) <= n.withinKm)
      for (const o of chosen) pairs.push([m.name, o.name])
    }
    return pairs
  }
}

function layout (maars: Scenario['maars']): Place[] {
  if (Array.isArray(maars)) return maars.map(m => ({ ...m }))
  const columns = maars.layout === 'grid' ? Math.ceil(Math.sqrt(maars.count)) : maars.count
  return Array.from({ length: maars.count }, (_, i) => ({ name: `maar${i + 1}`, x: (i % columns) * maars.spacingKm, y: Math.floor(i / columns) * maars.spacingKm }))
}
