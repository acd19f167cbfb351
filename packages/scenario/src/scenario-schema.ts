/**
 * The scenario file (`scenarios/*.yaml`, doc/ARCHITECTURE.md "Scenarios"): MAARs on a map (x/y in
 * km), their neighbour graph, the CMD's position, the contenders (discovery modes) to compare,
 * MNs and how they move, flows, faults, checks, seed and duration. One zod schema checks every
 * field; a bad file is refused as `FILE:LINE: field: why` (yaml-schema.ts).
 */
import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { ConfigError, integer, list, mapping, numberIn, oneOf, parseYaml, text } from './yaml-schema.js'

/**
 * A contender: a MAAR discovery mode as the MAAR config names it, and for the CMD's modes the
 * draft-bernardos-dmm-pmip §3.5 de-registration variant as `MODE/a` or `MODE/b` (plain MODE is a).
 */
export const DISCOVERY_CONTENDERS = ['dht', 'relay', 'locator', 'proxy', 'hybrid', 'legacy', 'relay/a', 'relay/b', 'locator/a', 'locator/b', 'proxy/a', 'proxy/b'] as const
/**
 * In a federation scenario (one with `domains`) a contender is the cross-border policy every
 * agreement carries (doc/ARCHITECTURE.md "Federation"): the issuer's prefixes follow the MN
 * through tunnels, are dropped, or are kept for the agreement's `boundedS`.
 */
export const POLICY_CONTENDERS = ['tunnel', 'drop', 'bounded'] as const
export const CONTENDERS = [...DISCOVERY_CONTENDERS, ...POLICY_CONTENDERS] as const
export type ContenderSpec = typeof CONTENDERS[number]
export type PolicyContender = typeof POLICY_CONTENDERS[number]

export function isPolicyContender (c: ContenderSpec): c is PolicyContender {
  return (POLICY_CONTENDERS as readonly string[]).includes(c)
}

/**
 * Where a scenario's domain runs (README "Scenarios"): `local` is createLocalMesh (TCP on
 * loopback, LevelDB, deployed libp2p settings); `scale` is the scale engine's hosting of the same
 * MAARs (packages/scale maar-mesh.ts: memory transport, quiet upkeep, in-memory binding caches).
 */
export const ENGINES = ['local', 'scale'] as const
export type EngineName = typeof ENGINES[number]
/** A file that names no engine runs on the scale engine above this many MAARs (one process saturates at 50–100 with the deployed settings). */
export const SCALE_ENGINE_ABOVE = 100
/** Contenders the scale engine runs: every discovery contender, a CMD one with its CMD on the memory transport (packages/scale scale-cmd.ts); not the federation policies. */
export const SCALE_CONTENDERS = DISCOVERY_CONTENDERS

const KM = 20_000
const coordinate = numberIn(-KM, KM)
const seconds = (max = 86_400): z.ZodNumber => numberIn(0, max)
const positiveSeconds = numberIn(0.001, 86_400)

const namedMaar = mapping({ name: text.regex(/^[a-z][a-z0-9-]*$/, { error: 'must be lower-case letters, digits and -, starting with a letter' }), x: coordinate, y: coordinate }, '{ name, x, y }')

/** `count` MAARs laid out on a line or a grid `spacingKm` apart, or a list with positions. */
const maars = z.union([
  mapping({ count: integer(2, 500, 2), layout: oneOf(['line', 'grid'], 'line'), spacingKm: numberIn(0, KM).default(1) }, '{ count, layout, spacingKm }'),
  list(namedMaar).min(2, { error: 'must list at least 2 MAARs' })
], { error: 'must be { count, layout, spacingKm } or a list of { name, x, y }' })

/** Explicit pairs of MAAR names, or derived from positions: the k nearest, or all within a distance. */
const neighbours = z.union([
  mapping({ nearest: integer(1, 100, 2) }, '{ nearest }'),
  mapping({ withinKm: numberIn(0, KM) }, '{ withinKm }'),
  list(z.tuple([text, text], { error: 'must be a pair [maarA, maarB]' }))
], { error: 'must be { nearest: K }, { withinKm: D } or a list of pairs [maarA, maarB]' })

const dwell = { dwellS: positiveSeconds, jitter: numberIn(0, 1).default(0.5) }

const movement = z.discriminatedUnion('model', [
  mapping({ model: z.literal('random-walk'), ...dwell }, '{ model, dwellS, jitter }'),
  mapping({ model: z.literal('ping-pong'), between: z.tuple([text, text], { error: 'must be two MAAR names' }), ...dwell }, '{ model, between, dwellS, jitter }'),
  mapping({ model: z.literal('commuter'), path: list(text).min(2, { error: 'must name at least 2 MAARs' }), ...dwell, stayS: seconds().default(10) }, '{ model, path, dwellS, jitter, stayS }'),
  mapping({ model: z.literal('highway'), cells: list(text).min(2, { error: 'must name at least 2 MAARs' }), speedKmh: numberIn(1, 1000), entryEveryS: seconds().default(0) }, '{ model, cells, speedKmh, entryEveryS }')
], {
  error: iss => iss.code === 'invalid_union'
    ? `model must be random-walk, ping-pong, commuter or highway, got ${JSON.stringify((iss.input as { model?: unknown } | undefined)?.model)}`
    : 'must be a mapping with a model'
})

const groupName = text.regex(/^[a-z][a-z0-9-]*$/, { error: 'must be lower-case letters, digits and -, starting with a letter' })

const mnGroup = mapping({
  group: groupName,
  count: integer(1, 10_000, 1),
  movement,
  /** The MN leaves the domain then (its serving MAAR de-registers it); default: stays to the end. */
  leaveAtS: seconds().optional()
}, '{ group, count, movement, leaveAtS }')

const flow = mapping({
  group: groupName,
  startS: seconds(),
  endS: seconds(),
  everyMs: numberIn(10, 60_000).default(200)
}, '{ group, startS, endS, everyMs }').refine(f => f.endS > f.startS, { error: 'endS must be after startS', path: ['endS'] })

const fault = z.discriminatedUnion('kind', [
  mapping({ kind: z.literal('maar-down'), maar: text, atS: seconds(), forS: positiveSeconds }, '{ kind, maar, atS, forS }'),
  mapping({ kind: z.literal('cmd-down'), atS: seconds(), forS: positiveSeconds }, '{ kind, atS, forS }'),
  mapping({ kind: z.literal('maars-leave'), share: numberIn(0, 0.9), atS: seconds() }, '{ kind, share, atS }'),
  mapping({ kind: z.literal('attach-burst'), mns: integer(1, 10_000, 1), atS: seconds(), stayS: positiveSeconds.optional() }, '{ kind, mns, atS, stayS }'),
  /** The issuer `from` revokes its agreement accepting `to` (a signed revocation, as on SIGHUP). */
  mapping({ kind: z.literal('agreement-revoked'), from: text, to: text, atS: seconds() }, '{ kind, from, to, atS }')
], {
  error: iss => iss.code === 'invalid_union'
    ? `kind must be maar-down, cmd-down, maars-leave, attach-burst or agreement-revoked, got ${JSON.stringify((iss.input as { kind?: unknown } | undefined)?.kind)}`
    : 'must be a mapping with a kind'
})

export const CHECKS = ['reachable', 'no-prefix-held-twice', 'one-serving-maar'] as const
export type CheckName = typeof CHECKS[number]

/** A domain's label: its MAARs are `<label>1`, `<label>2`, … and it is `<label>.example`. */
const domainLabel = text.regex(/^[a-z]{1,20}$/, { error: 'must be 1 to 20 lower-case letters' })

/**
 * A domain of a federation: its MAARs (by name, each in one domain) and its discovery: its own
 * DHT, or a CMD in that mode (draft-bernardos-dmm-pmip §3) at `cmd`, which is then its gateway.
 */
export const DOMAIN_DISCOVERY = ['dht', 'relay', 'locator', 'proxy'] as const
const domain = mapping({
  name: domainLabel,
  maars: list(text).min(1, { error: 'must name at least 1 MAAR' }),
  discovery: oneOf(DOMAIN_DISCOVERY, 'dht'),
  cmd: mapping({ x: coordinate, y: coordinate }, '{ x, y }').optional()
}, '{ name, maars, discovery, cmd }')

/** Operator `from` accepts `to`'s MAARs (an MN moving from `from` into `to` may keep `from`'s prefixes). */
const agreement = mapping({ from: domainLabel, to: domainLabel, boundedS: positiveSeconds.default(30) }, '{ from, to, boundedS }')
  .refine(a => a.from !== a.to, { error: 'from and to must be different domains', path: ['to'] })

const contender = z.enum(CONTENDERS, { error: iss => `must be one of ${CONTENDERS.join(', ')}, got ${JSON.stringify(iss.input)}` })

const scenarioBase = mapping({
  name: groupName,
  description: text.optional(),
  seed: integer(0, 0xffffffff, 1),
  durationS: positiveSeconds,
  /** Default: `scale` above SCALE_ENGINE_ABOVE MAARs, else `local` (a federation always `local`). */
  engine: z.enum(ENGINES, { error: iss => `must be ${ENGINES.join(' or ')}, got ${JSON.stringify(iss.input)}` }).optional(),
  /** Real time per scenario second (2: the trace plays at half speed). */
  timeScale: numberIn(0.01, 100).default(1),
  /** MAARs' registration lifetime (RFC 6275 §6.1.7: a multiple of 4 s). */
  lifetimeS: integer(4, 0xffff * 4, 3600).refine(l => l % 4 === 0, { error: iss => `${String(iss.input)} s is not a multiple of 4 (RFC 6275 §6.1.7)` }),
  maars,
  neighbours: neighbours.default({ nearest: 2 }),
  cmd: mapping({ x: coordinate, y: coordinate, relayTimeoutMs: integer(1, 60_000, 1000) }, '{ x, y, relayTimeoutMs }').optional(),
  /** One-way delay between two nodes: perHopMs + distance / kmPerMs (200 km/ms: 2/3 c in fibre). */
  delay: mapping({ perHopMs: numberIn(0, 10_000).default(0.1), kmPerMs: numberIn(0.001, 300).default(200) }, '{ perHopMs, kmPerMs }').prefault({}),
  contenders: list(contender).min(1, { error: 'must name at least one contender' }),
  /** Several operators' domains (RFC 7333 REQ5): then the contenders are cross-border policies. */
  domains: list(domain).min(2, { error: 'must list at least 2 domains' }).max(9, { error: 'must list at most 9 domains' }).optional(),
  agreements: list(agreement).default([]),
  mns: list(mnGroup).default([]),
  flows: list(flow).default([]),
  faults: list(fault).default([]),
  checks: mapping({ everyS: positiveSeconds.default(10), run: list(z.enum(CHECKS, { error: iss => `must be ${CHECKS.join(', ')}, got ${JSON.stringify(iss.input)}` })).default([...CHECKS]) }, '{ everyS, run }').prefault({})
}, '(the top level of the file)')

export const scenarioSchema = scenarioBase.superRefine((s, ctx) => {
  const names = Array.isArray(s.maars) ? s.maars.map(m => m.name) : Array.from({ length: s.maars.count }, (_, i) => `maar${i + 1}`)
  const known = new Set(names)
  if (known.size !== names.length) ctx.addIssue({ code: 'custom', path: ['maars'], message: 'MAAR names must be unique' })
  const maar = (path: PropertyKey[], name: string): void => {
    if (!known.has(name)) ctx.addIssue({ code: 'custom', path, message: `no MAAR named ${JSON.stringify(name)} (MAARs: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})` })
  }
  if (Array.isArray(s.neighbours)) s.neighbours.forEach((pair, i) => { pair.forEach((n, j) => { maar(['neighbours', i, j], n) }) })
  const groups = new Set<string>()
  s.mns.forEach((g, i) => {
    if (groups.has(g.group)) ctx.addIssue({ code: 'custom', path: ['mns', i, 'group'], message: `group ${g.group} is named twice` })
    groups.add(g.group)
    const m = g.movement
    const cells = m.model === 'ping-pong' ? m.between : m.model === 'commuter' ? m.path : m.model === 'highway' ? m.cells : []
    const key = m.model === 'ping-pong' ? 'between' : m.model === 'commuter' ? 'path' : 'cells'
    cells.forEach((n, j) => { maar(['mns', i, 'movement', key, j], n) })
  })
  s.flows.forEach((f, i) => { if (!groups.has(f.group)) ctx.addIssue({ code: 'custom', path: ['flows', i, 'group'], message: `no MN group named ${JSON.stringify(f.group)}` }) })
  s.faults.forEach((f, i) => { if (f.kind === 'maar-down') maar(['faults', i, 'maar'], f.maar) })
  checkFederation(s, ctx, maar, names)
  checkEngine(s, ctx)
  if (s.domains !== undefined) return
  const needsCmd = s.contenders.findIndex(c => c !== 'dht' && c !== 'legacy')
  if (needsCmd >= 0 && s.cmd === undefined) ctx.addIssue({ code: 'custom', path: ['contenders', needsCmd], message: `${s.contenders[needsCmd] ?? ''} needs a CMD: add cmd: { x, y }` })
  const cmdFault = s.faults.findIndex(f => f.kind === 'cmd-down')
  if (cmdFault >= 0 && s.cmd === undefined) ctx.addIssue({ code: 'custom', path: ['faults', cmdFault, 'kind'], message: 'cmd-down needs a CMD: add cmd: { x, y }' })
})

type Checked = z.output<typeof scenarioBase>

/** The engine a scenario runs on: the file's `engine`, else by its number of MAARs. */
export function engineOf (s: Pick<Checked, 'engine' | 'maars' | 'domains'>): EngineName {
  if (s.engine !== undefined) return s.engine
  const count = Array.isArray(s.maars) ? s.maars.length : s.maars.count
  return s.domains === undefined && count > SCALE_ENGINE_ABOVE ? 'scale' : 'local'
}

/** Why the scale engine cannot run this contender, or undefined when it can. */
export function scaleMisfit (contender: ContenderSpec): string | undefined {
  if ((SCALE_CONTENDERS as readonly string[]).includes(contender)) return undefined
  return `${contender}: federation scenarios run on the local engine (set engine: local)`
}

/** What the scale engine cannot run, named at the contender (or at `engine` for a federation). */
function checkEngine (s: Checked, ctx: z.RefinementCtx): void {
  if (engineOf(s) !== 'scale') return
  const chosen = s.engine === undefined ? ` (chosen for more than ${SCALE_ENGINE_ABOVE} MAARs)` : ''
  if (s.domains !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['engine'], message: 'federation scenarios run on the local engine: set engine: local' })
    return
  }
  s.contenders.forEach((c, i) => {
    const why = scaleMisfit(c)
    if (why !== undefined) ctx.addIssue({ code: 'custom', path: ['contenders', i], message: `${why}${chosen}` })
  })
}

/**
 * Domains, agreements and their revocations agree with each other and with the MAARs: each MAAR
 * in one domain, agreements between named domains, once each, revocations of agreements made,
 * and the contenders policies exactly when there are domains.
 */
function checkFederation (s: Checked, ctx: z.RefinementCtx, maar: (path: PropertyKey[], name: string) => void, names: string[]): void {
  const issue = (path: PropertyKey[], message: string): void => { ctx.addIssue({ code: 'custom', path, message }) }
  const labels = new Set<string>()
  const domainOf = new Map<string, string>()
  s.domains?.forEach((d, i) => {
    if (labels.has(d.name)) issue(['domains', i, 'name'], `domain ${d.name} is named twice`)
    if (d.discovery !== 'dht' && d.cmd === undefined) issue(['domains', i, 'discovery'], `a ${d.discovery} domain runs a CMD: add cmd: { x, y } to domain ${d.name}`)
    if (d.discovery === 'dht' && d.cmd !== undefined) issue(['domains', i, 'cmd'], `domain ${d.name} discovers through its DHT: a CMD needs discovery relay, locator or proxy`)
    labels.add(d.name)
    d.maars.forEach((m, j) => {
      maar(['domains', i, 'maars', j], m)
      const other = domainOf.get(m)
      if (other !== undefined) issue(['domains', i, 'maars', j], `${m} is already in domain ${other}`)
      domainOf.set(m, d.name)
    })
  })
  if (s.domains !== undefined) {
    if (s.cmd !== undefined) issue(['cmd'], 'in a federation each CMD belongs to a domain: give it as domains[i].cmd with discovery relay, locator or proxy')
    const outside = names.filter(n => !domainOf.has(n))
    if (outside.length > 0) issue(['domains'], `every MAAR must be in a domain; not in one: ${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ', …' : ''}`)
  }
  const made = new Set<string>()
  s.agreements.forEach((a, i) => {
    if (s.domains === undefined) { issue(['agreements', i], 'agreements need domains: add domains: [{ name, maars }, ...]'); return }
    for (const side of ['from', 'to'] as const) if (!labels.has(a[side])) issue(['agreements', i, side], `no domain named ${JSON.stringify(a[side])} (domains: ${[...labels].join(', ')})`)
    if (made.has(`${a.from}>${a.to}`)) issue(['agreements', i], `${a.from} accepts ${a.to} twice`)
    made.add(`${a.from}>${a.to}`)
  })
  s.faults.forEach((f, i) => {
    if (f.kind !== 'agreement-revoked') return
    if (!made.has(`${f.from}>${f.to}`)) issue(['faults', i], `no agreement from ${f.from} to ${f.to} to revoke`)
  })
  s.contenders.forEach((c, i) => {
    if (s.domains !== undefined && !isPolicyContender(c)) issue(['contenders', i], `with domains, a contender is a cross-border policy (${POLICY_CONTENDERS.join(', ')}), got ${JSON.stringify(c)}`)
    if (s.domains === undefined && isPolicyContender(c)) issue(['contenders', i], `${c} is a cross-border policy: it needs domains`)
  })
}

export type ScenarioFile = z.output<typeof scenarioSchema>
export type MnGroup = ScenarioFile['mns'][number]
export type Movement = MnGroup['movement']
export type Fault = ScenarioFile['faults'][number]

/** A scenario as checked: the file's content, with its path. */
export interface Scenario extends ScenarioFile { file: string }

export const SCENARIO_CHECK_COMMAND = 'dmm scenario check'

/** Parses a scenario's YAML text; a bad one throws ConfigError (FILE:LINE: field: why). */
export function parseScenario (yamlText: string, file: string): Scenario {
  return { ...parseYaml(scenarioSchema, yamlText, file, SCENARIO_CHECK_COMMAND), file }
}

/** Reads and parses a scenario file; an unreadable file is a ConfigError naming it. */
export async function readScenario (file: string): Promise<Scenario> {
  let yamlText: string
  try {
    yamlText = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError('(file)', `cannot be read: ${err instanceof Error ? err.message : String(err)}`, undefined, file)
  }
  return parseScenario(yamlText, file)
}
