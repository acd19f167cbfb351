/**
 * The kernel objects the driver owns, in one comparable form for both what is desired and what
 * `ip -j` lists, and their rendering as `ip -batch` lines. Routes and rules carry our protocol
 * number, which is how reconciliation tells ours from everybody else's.
 */

/** Where a route sends packets. */
export type RouteVia =
  | { kind: 'dev', dev: string }
  /** RFC 5213 IPv6-in-IPv6 as SRv6 reduced encapsulation: outer next header 41, no SRH. */
  | { kind: 'seg6', sid: string, dev: string }
  /**
   * The decapsulating SID, End.DT6 (RFC 8986): the inner packet is looked up in `table`;
   * table 0 means through the policy rules, as if it had arrived on the interface the outer one
   * came in on (plan.ts: the backbone rules then apply to it).
   */
  | { kind: 'seg6local', dev: string, table: number | 'main' }
  /** Refused with ICMPv6 "no route" (RFC 4443 §3.1): a pool's addresses no MN holds (plan.ts planOwn). */
  | { kind: 'unreachable' }

/**
 * `metric` undefined: the kernel's default for IPv6 (1024). `src`: a source-specific route
 * (`from PREFIX`, IPv6 subtrees, CONFIG_IPV6_SUBTREES): it matches only packets from that prefix.
 */
export interface Route { table: number | 'main', dst: string, src?: string, via: RouteVia, metric?: number }
/**
 * A policy rule: packets from `src` (to `dst`, of next header `ipproto`, when given) arriving on
 * `iif` are looked up in `table`, or refused with ICMPv6 "no route" (`unreachable`, RFC 4443 §3.1).
 */
export interface Rule { src: string, dst?: string, ipproto?: number, iif: string, table: number | 'main' | 'unreachable', priority: number }
export type Link =
  | { kind: 'ip6tnl', name: string, local: string, remote: string, dev: string }
  /** `linkLocal`: the device's only link-local, set by us (the shared access router), not by the kernel. */
  | { kind: 'macvlan', name: string, parent: string, mac: string, linkLocal?: string }

export interface KernelState {
  routes: Map<string, Route>
  rules: Map<string, Rule>
  links: Map<string, Link>
}

export function emptyKernel (): KernelState {
  return { routes: new Map(), rules: new Map(), links: new Map() }
}

export function routeKey (r: Route): string { return `${r.table} ${selectorText(r)}${metricText(r)}` }

function metricText (r: Route): string { return r.metric !== undefined ? ` metric ${r.metric}` : '' }
/** The route's destination and, if it has one, its source prefix, in `ip route` syntax. */
function selectorText (r: Route): string { return r.src !== undefined ? `${r.dst} from ${r.src}` : r.dst }
export function ruleKey (r: Rule): string { return `${r.priority} ${ruleText(r)}` }

/** The selector and action of a rule in `ip rule` syntax (without the priority). */
function ruleText (r: Rule): string {
  const to = r.dst !== undefined ? ` to ${r.dst}` : ''
  const proto = r.ipproto !== undefined ? ` ipproto ${r.ipproto}` : ''
  return `from ${r.src}${to}${proto} iif ${r.iif} ${r.table === 'unreachable' ? 'unreachable' : `table ${r.table}`}`
}

function viaText (v: Exclude<RouteVia, { kind: 'unreachable' }>): string {
  switch (v.kind) {
    case 'dev': return `dev ${v.dev}`
    case 'seg6': return `encap seg6 mode encap.red segs ${v.sid} dev ${v.dev}`
    case 'seg6local': return `encap seg6local action End.DT6 table ${v.table} dev ${v.dev}`
  }
}

export function routeText (r: Route): string {
  return r.via.kind === 'unreachable'
    ? `unreachable ${selectorText(r)} table ${r.table}${metricText(r)}`
    : `${selectorText(r)} ${viaText(r.via)} table ${r.table}${metricText(r)}`
}

export function linkText (l: Link): string {
  return l.kind === 'ip6tnl'
    // encaplimit none: no Tunnel Encapsulation Limit option, so next header is 41 as RFC 5213 §6.10.5 expects.
    ? `${l.name} type ip6tnl mode ip6ip6 local ${l.local} remote ${l.remote} encaplimit none dev ${l.dev}`
    : `${l.name} address ${l.mac} link ${l.parent} type macvlan mode bridge`
}

/** `ip -batch` lines. `proto` is our routing protocol number (rtnetlink rtm_protocol). */
export const render = {
  routeReplace: (r: Route, proto: number) => `route replace ${routeText(r)} proto ${proto}`,
  routeDel: (r: Route, proto: number) => `route del ${selectorText(r)} table ${r.table}${metricText(r)} proto ${proto}`,
  ruleAdd: (r: Rule, proto: number) => `rule add ${ruleText(r)} priority ${r.priority} protocol ${proto}`,
  ruleDel: (r: Rule) => `rule del ${ruleText(r)} priority ${r.priority}`,
  linkAdd: (l: Link) => l.kind === 'macvlan' && l.linkLocal !== undefined
    // No kernel-made link-local (addrgenmode none) and ours without DAD, before and right after
    // up: radvd cannot send from a tentative address, and the shared link-local never meets its
    // twins (each MAAR's copy is on its own access link), so DAD has nothing to find.
    ? [`link add ${linkText(l)}`, `link set ${l.name} addrgenmode none`, `link set ${l.name} up`, `address add ${l.linkLocal}/64 dev ${l.name} nodad`]
    : [`link add ${linkText(l)}`, `link set ${l.name} up`],
  linkDel: (l: Link) => `link del ${l.name}`
}
