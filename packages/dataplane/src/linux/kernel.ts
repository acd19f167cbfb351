/**
 * Reads what the kernel has of ours (`ip -j`) into the model, and turns the difference between
 * two kernel states into `ip -batch` lines: adds and replaces first, then deletes (make before
 * break, so a handover never leaves a prefix without a route).
 */
import { emptyKernel, render, routeKey, routeText, ruleKey } from './model.js'
import { runChecked } from './runner.js'
import type { KernelState, Link, Route, RouteVia, Rule } from './model.js'
import type { CommandRunner } from './runner.js'

/** Name prefixes of the devices the driver creates (see names.ts). */
export const OWN_LINK = /^dm[tlr][0-9a-f]{10}$/

type Json = Record<string, unknown>

function parseJson (text: string, what: string): Json[] {
  const trimmed = text.trim()
  if (trimmed === '') return []
  const v: unknown = JSON.parse(trimmed)
  if (!Array.isArray(v)) throw new Error(`${what}: expected a JSON array`)
  return v as Json[]
}

function str (o: Json, key: string): string | undefined {
  const v = o[key]
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined
}

function tableOf (t: string | undefined): number | 'main' {
  if (t === undefined || t === 'main' || t === '254') return 'main'
  const n = Number(t)
  if (!Number.isInteger(n)) throw new Error(`unexpected table ${t}`)
  return n
}

const DEFAULT_METRIC = 1024

export function parseRoutes (json: string): Route[] {
  return parseJson(json, 'ip -j route').map(o => {
    const rawDst = str(o, 'dst') ?? 'default'
    const dst = rawDst === 'default' || rawDst.includes('/') ? rawDst : `${rawDst}/128`
    const src = str(o, 'from')
    const dev = str(o, 'dev') ?? ''
    const encap = str(o, 'encap')
    let via: RouteVia = { kind: 'dev', dev }
    if (encap === 'seg6') via = { kind: 'seg6', sid: ((o.segs as string[] | undefined) ?? [])[0] ?? '', dev }
    // For seg6local the JSON "table" is End.DT6's lookup table ("unspec": through the rules); we
    // only install those in main.
    if (encap === 'seg6local') {
      const lookup = str(o, 'table')
      return { table: 'main', dst, via: { kind: 'seg6local', dev, table: lookup === 'unspec' ? 0 : tableOf(lookup) } }
    }
    if (str(o, 'type') === 'unreachable') via = { kind: 'unreachable' }
    // 1024 is IPv6's default metric, which our routes leave out (model.ts Route).
    const metric = Number(str(o, 'metric') ?? DEFAULT_METRIC)
    return { table: tableOf(str(o, 'table')), dst, ...(src !== undefined ? { src } : {}), via, ...(metric !== DEFAULT_METRIC ? { metric } : {}) }
  })
}

/** `ip -j rule` names a rule's ipproto from /etc/protocols when it can. */
const PROTOCOL_NUMBERS: Record<string, number> = { ipv6: 41 }

/** "all", or a prefix: `ip -j rule` leaves the length out of a host address. */
function ruleSelector (o: Json, key: 'src' | 'dst'): string | undefined {
  const addr = str(o, key)
  if (addr === undefined || addr === 'all') return addr
  return `${addr}/${str(o, `${key}len`) ?? '128'}`
}

export function parseRules (json: string, proto: number): Rule[] {
  return parseJson(json, 'ip -j rule').filter(o => str(o, 'protocol') === String(proto)).map(o => {
    const dst = ruleSelector(o, 'dst')
    const ipproto = str(o, 'ipproto')
    return {
      src: ruleSelector(o, 'src') ?? 'all',
      ...(dst !== undefined && dst !== 'all' ? { dst } : {}),
      ...(ipproto !== undefined ? { ipproto: PROTOCOL_NUMBERS[ipproto] ?? Number(ipproto) } : {}),
      iif: str(o, 'iif') ?? '',
      table: str(o, 'action') === 'unreachable' ? 'unreachable' : tableOf(str(o, 'table')),
      priority: Number(str(o, 'priority'))
    }
  })
}

export function parseLinks (json: string): Link[] {
  const out: Link[] = []
  for (const o of parseJson(json, 'ip -j link')) {
    const name = str(o, 'ifname') ?? ''
    if (!OWN_LINK.test(name)) continue
    const info = (o.linkinfo ?? {}) as Json
    const data = (info.info_data ?? {}) as Json
    // A router device's link-local is not read back: it is part of the device's name.
    if (info.info_kind === 'macvlan') out.push({ kind: 'macvlan', name, parent: str(o, 'link') ?? '', mac: str(o, 'address') ?? '' })
    else if (info.info_kind === 'ip6tnl') out.push({ kind: 'ip6tnl', name, local: str(data, 'local') ?? '', remote: str(data, 'remote') ?? '', dev: str(o, 'link') ?? '' })
  }
  return out
}

/** Lists routes and rules carrying our protocol number and devices carrying our names. */
export async function readKernel (runner: CommandRunner, proto: number): Promise<KernelState> {
  const k = emptyKernel()
  for (const r of parseRoutes(await runChecked(runner, ['ip', '-j', '-6', 'route', 'show', 'table', 'all', 'proto', String(proto)]))) k.routes.set(routeKey(r), r)
  for (const r of parseRules(await runChecked(runner, ['ip', '-j', '-6', 'rule', 'show']), proto)) k.rules.set(ruleKey(r), r)
  for (const l of parseLinks(await runChecked(runner, ['ip', '-j', '-d', 'link', 'show']))) k.links.set(l.name, l)
  return k
}

/** Keys of the kernel objects an apply may have changed. */
export interface KernelKeys { routes: Iterable<string>, rules: Iterable<string>, links: Iterable<string> }

/**
 * The batch that turns `from` into `to`, looking only at `keys` (default: every object of
 * both). Devices are compared by name only: every attribute is derived from the name's inputs,
 * so a different device is a different name.
 */
export function diffKernel (from: KernelState, to: KernelState, proto: number, keys?: KernelKeys): string[] {
  const all = <T>(a: Map<string, T>, b: Map<string, T>): Iterable<string> => new Set([...b.keys(), ...a.keys()])
  const linkKeys = [...(keys?.links ?? all(from.links, to.links))]
  const routeKeys = [...(keys?.routes ?? all(from.routes, to.routes))]
  const ruleKeys = [...(keys?.rules ?? all(from.rules, to.rules))]
  const lines: string[] = []
  for (const name of linkKeys) {
    const l = to.links.get(name)
    if (l !== undefined && !from.links.has(name)) lines.push(...render.linkAdd(l))
  }
  // Routes before rules, so a new rule never points at an empty table.
  for (const key of routeKeys) {
    const r = to.routes.get(key)
    const old = from.routes.get(key)
    if (r !== undefined && (old === undefined || routeText(old) !== routeText(r))) lines.push(render.routeReplace(r, proto))
  }
  // A refusing rule comes after the rules it lets through and goes before them, so a packet
  // those let through is never refused in between.
  const added = ruleKeys.flatMap(key => { const r = to.rules.get(key); return r !== undefined && !from.rules.has(key) ? [r] : [] })
  const gone = ruleKeys.flatMap(key => { const r = from.rules.get(key); return r !== undefined && !to.rules.has(key) ? [r] : [] })
  const refusing = (r: Rule): boolean => r.table === 'unreachable'
  for (const r of [...added.filter(r => !refusing(r)), ...added.filter(refusing)]) lines.push(render.ruleAdd(r, proto))
  for (const r of [...gone.filter(refusing), ...gone.filter(r => !refusing(r))]) lines.push(render.ruleDel(r))
  for (const key of routeKeys) {
    const r = from.routes.get(key)
    if (r !== undefined && !to.routes.has(key)) lines.push(render.routeDel(r, proto))
  }
  for (const name of linkKeys) {
    const l = from.links.get(name)
    if (l !== undefined && !to.links.has(name)) lines.push(render.linkDel(l))
  }
  return lines
}
