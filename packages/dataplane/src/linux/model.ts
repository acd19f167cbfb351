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
  /** The decapsulating SID: End.DT6, inner packet looked up in the main table. */
  | { kind: 'seg6local', dev: string }

export interface Route { table: number | 'main', dst: string, via: RouteVia }
export interface Rule { src: string, iif: string, table: number, priority: number }
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

export function routeKey (r: Route): string { return `${r.table} ${r.dst}` }
export function ruleKey (r: Rule): string { return `${r.priority} ${r.src} ${r.iif} ${r.table}` }

function viaText (v: RouteVia): string {
  switch (v.kind) {
    case 'dev': return `dev ${v.dev}`
    case 'seg6': return `encap seg6 mode encap.red segs ${v.sid} dev ${v.dev}`
    case 'seg6local': return `encap seg6local action End.DT6 table main dev ${v.dev}`
  }
}

export function routeText (r: Route): string {
  return `${r.dst} ${viaText(r.via)} table ${r.table}`
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
  routeDel: (r: Route, proto: number) => `route del ${r.dst} table ${r.table} proto ${proto}`,
  ruleAdd: (r: Rule, proto: number) => `rule add from ${r.src} iif ${r.iif} table ${r.table} priority ${r.priority} protocol ${proto}`,
  ruleDel: (r: Rule) => `rule del from ${r.src} iif ${r.iif} table ${r.table} priority ${r.priority}`,
  linkAdd: (l: Link) => l.kind === 'macvlan' && l.linkLocal !== undefined
    // No kernel-made link-local (addrgenmode none) and ours without DAD, before and right after
    // up: radvd cannot send from a tentative address, and the shared link-local never meets its
    // twins (each MAAR's copy is on its own access link), so DAD has nothing to find.
    ? [`link add ${linkText(l)}`, `link set ${l.name} addrgenmode none`, `link set ${l.name} up`, `address add ${l.linkLocal}/64 dev ${l.name} nodad`]
    : [`link add ${linkText(l)}`, `link set ${l.name} up`],
  linkDel: (l: Link) => `link del ${l.name}`
}
