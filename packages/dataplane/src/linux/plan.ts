/**
 * From a DataPlaneState to the kernel objects that implement it (pure, no I/O).
 *
 * Tunnels (RFC 5213 §6.10.5 / RFC 8885 §3): the remote end of every tunnel is the remote MAAR's
 * tunnel address. With `seg6` that address IS the remote MAAR's decapsulating SID: this MAAR
 * encapsulates with `encap seg6 mode encap.red segs REMOTE` (IPv6-in-IPv6, next header 41, no
 * SRH) and installs its own SID as `encap seg6local action End.DT6 table 0` (RFC 8986):
 * table 0 looks the inner packet up through the policy rules, with the backbone as input
 * interface. Not a table of its own: a legacy End.DT6 table has no fall-back, and an uplink
 * packet decapsulated at the anchor must reach the CN through the main table's routes; End.DT6
 * `vrftable` would, but needs VRF, which kernels may lack. The backbone rules (backboneRules,
 * planOwn) then forward what arrives on the backbone, native or decapsulated, only to the MNs
 * this MAAR anchors or serves (those served for another anchor through one rule into the served
 * table, which planMns fills with their delivery routes), from the MNs it anchors, and into tunnels; the rest is refused
 * with ICMPv6 "no route" instead of going back into the backbone, where a prefix still tunnelled
 * to a MAAR that no longer serves it would loop until the hop limit (RFC 5213 §6.10.5: a MAG
 * drops a tunnelled packet it has no interface for). With `ip6tnl` each remote MAAR gets one
 * ip6ip6 device (and there are no backbone rules).
 */
import { cachedPrefix, canonicalIpv6, formatPrefix, parsePrefix, prefixContains } from '@dmm-mesh/wire'
import { dlifDevice, routerDevice, tunnelDevice } from './names.js'
import { routerFor, sharedRouter } from '../dlif.js'
import type { RouterMode } from '../dlif.js'
import { emptyKernel, routeKey, ruleKey } from './model.js'
import type { KernelState, Link, Route, RouteVia, Rule } from './model.js'
import type { Advertisement, DataPlaneState } from '../types.js'
import type { MnSlice } from '../mn-slices.js'

/** `RouterMode`: which router the MN sees for each prefix (dlif.ts). */
export type PlanOptions = RouterMode & {
  tunnelKind: 'seg6' | 'ip6tnl'
  tunnelAddress: string
  backboneInterface: string
  rulePriority: number
  /**
   * seg6: the routing table of the delivery routes of the MNs served here for another anchor,
   * which one backbone rule looks up (planOwn); never the uplink table.
   */
  servedTable: number
  /**
   * The routing table of every MN's uplink (`default from PREFIX` into the tunnel to its anchor),
   * which one rule per access-side device looks up (planMns).
   */
  uplinkTable: number
  /**
   * The MAAR's own pools (canonical), which every prefix it anchors comes from (RFC 8885 §3.1);
   * empty: unknown, and the backbone rules are per MN (backboneRules).
   */
  ownPools: string[]
}

/**
 * The device of the router the MN sees for `anchor`'s prefixes on access link `link` (dlif.ts
 * routerFor); undefined means the access link itself. A DLIF logical router is a macvlan whose
 * kernel-made link-local is the EUI-64 one of its MAC, as dlifRouter() derives it. The shared
 * router is a macvlan carrying the domain-wide identity with its link-local set by us (it may be
 * configured apart from the MAC), rather than the access bridge's own MAC and link-local: a
 * bridge takes its MAC from its lowest port unless forced, keeps a kernel-made link-local from
 * whatever MAC it had when it came up, and belongs to the operator; the macvlan is ours (named,
 * reconciled, removed with the last MN) and carries exactly one link-local, so neighbour
 * discovery and RAs all use it. Frames to its MAC reach it through the bridge (a macvlan makes
 * its parent promiscuous), as DLIF's do.
 */
export function routerLink (o: RouterMode, link: string, anchor: string): Link & { kind: 'macvlan' } | undefined {
  const router = routerFor(o, anchor)
  if (router === undefined) return undefined
  return o.dlif
    ? { kind: 'macvlan', name: dlifDevice(link, anchor), parent: link, mac: router.mac }
    : { kind: 'macvlan', name: routerDevice(link, router), parent: link, mac: router.mac, linkLocal: router.linkLocal }
}

const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/

function ifname (name: string, what: string): string {
  if (typeof name !== 'string' || !IFNAME.test(name)) throw new TypeError(`${what}: bad interface name ${JSON.stringify(name)}`)
  return name
}

function prefix (text: string, what: string): string {
  try { return formatPrefix(parsePrefix(text)) } catch (err) { throw new TypeError(`${what}: ${(err as Error).message}`) }
}

function address (text: string, what: string): string {
  try { return canonicalIpv6(text) } catch (err) { throw new TypeError(`${what}: ${(err as Error).message}`) }
}

function mac (text: string, what: string): string {
  if (typeof text !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text)) throw new TypeError(`${what}: bad link-layer address ${JSON.stringify(text)}`)
  return text.toLowerCase()
}

/** The MAAR's own pools (LinuxDataPlaneOptions.ownPools), canonical; throws TypeError naming a bad one. */
export function normalizePools (pools: string[] | undefined): string[] {
  if (pools === undefined) return []
  if (!Array.isArray(pools)) throw new TypeError('ownPools: must be an array of prefixes')
  return pools.map((p, i) => prefix(p, `ownPools[${i}]`))
}

/**
 * Validates and canonicalises a desired state; throws TypeError naming the bad field, before any
 * command runs. `at` gives each item's index in the whole state when `s` is one MN's slice of it.
 */
export function normalizeState (s: DataPlaneState, at?: MnSlice['at']): DataPlaneState {
  if (s === null || typeof s !== 'object' || ![s.local, s.downlinks, s.uplinks, s.advertisements].every(Array.isArray)) {
    throw new TypeError('state: needs local, downlinks, uplinks and advertisements arrays')
  }
  const mnId = (v: unknown, what: string): string => {
    if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${what}: mnId must be a non-empty string`)
    return v
  }
  const path = (kind: keyof DataPlaneState, i: number): string => `${kind}[${at?.[kind][i] ?? i}]`
  return {
    local: s.local.map((l, i) => { const p = path('local', i); return { mnId: mnId(l.mnId, p), prefix: prefix(l.prefix, `${p}.prefix`), accessLink: ifname(l.accessLink, `${p}.accessLink`), linkLayerId: mac(l.linkLayerId, `${p}.linkLayerId`) } }),
    downlinks: s.downlinks.map((d, i) => { const p = path('downlinks', i); return { mnId: mnId(d.mnId, p), prefix: prefix(d.prefix, `${p}.prefix`), remote: address(d.remote, `${p}.remote`) } }),
    uplinks: s.uplinks.map((u, i) => { const p = path('uplinks', i); return { mnId: mnId(u.mnId, p), prefix: prefix(u.prefix, `${p}.prefix`), remote: address(u.remote, `${p}.remote`), accessLink: ifname(u.accessLink, `${p}.accessLink`) } }),
    advertisements: s.advertisements.map((a: Advertisement, i) => {
      const p = path('advertisements', i)
      if (!Array.isArray(a.prefixes)) throw new TypeError(`${p}.prefixes must be an array`)
      return {
        mnId: mnId(a.mnId, p),
        accessLink: ifname(a.accessLink, `${p}.accessLink`),
        linkLayerId: mac(a.linkLayerId, `${p}.linkLayerId`),
        prefixes: a.prefixes.map((x, j) => ({ prefix: prefix(x.prefix, `${p}.prefixes[${j}].prefix`), preferred: x.preferred === true, anchor: address(x.anchor, `${p}.prefixes[${j}].anchor`) }))
      }
    })
  }
}

/**
 * The kernel objects for `s` (already normalised): the MN's routes, rules and the devices they
 * use. The driver's own objects (SID, idle router devices) are planOwn()'s.
 */
export function planMns (s: DataPlaneState, o: PlanOptions): KernelState {
  const k = emptyKernel()
  const addRoute = (r: Route): void => { k.routes.set(routeKey(r), r) }
  const addLink = (l: Link): void => { k.links.set(l.name, l) }
  const self = canonicalIpv6(o.tunnelAddress)

  const tunnelVia = (remote: string): RouteVia => {
    if (o.tunnelKind === 'seg6') return { kind: 'seg6', sid: remote, dev: o.backboneInterface }
    const name = tunnelDevice(remote)
    addLink({ kind: 'ip6tnl', name, local: self, remote, dev: o.backboneInterface })
    return { kind: 'dev', dev: name }
  }
  // Packets to the MN leave from the router device it knows (see routerLink).
  const deliveryDev = (link: string, anchor: string): string => {
    const l = routerLink(o, link, anchor)
    if (l === undefined) return link
    addLink(l)
    return l.name
  }

  // Local delivery: the MN's own prefix routed natively on its access link (RFC 8885 §3.1).
  for (const l of s.local) addRoute({ table: 'main', dst: l.prefix, via: { kind: 'dev', dev: deliveryDev(l.accessLink, self) } })
  // Downlink at the anchor (RFC 5213 §5.6.1): the MN's prefix into the tunnel to its serving MAAR.
  for (const d of s.downlinks) addRoute({ table: 'main', dst: d.prefix, via: tunnelVia(d.remote) })
  for (const a of s.advertisements) for (const p of a.prefixes) deliveryDev(a.accessLink, p.anchor)

  // Interfaces an MN's packets can arrive on: its access link and the device of every router it
  // sees there for its prefixes (one shared device, or one DLIF device per anchor).
  const arrival = (mnId: string, link: string): string[] => {
    const anchors = new Set<string>()
    for (const l of s.local) if (l.mnId === mnId && l.accessLink === link) anchors.add(self)
    for (const u of s.uplinks) if (u.mnId === mnId && u.accessLink === link) anchors.add(u.remote)
    return [...new Set([link, ...[...anchors].map(a => deliveryDev(link, a))])]
  }

  if (o.tunnelKind === 'seg6') for (const r of backboneRules(s, o)) k.rules.set(ruleKey(r), r)

  // Uplink at the serving MAAR (RFC 5213 §6.10.3 MAG role, §6.10.5 reverse tunnelling): a
  // source-specific default route per served prefix, into the tunnel to its anchor, in the one
  // uplink table; one rule per interface the MN may send from looks it up, shared by every MN
  // sending from there (KernelPlan), so the rules grow with the devices, not with the MNs. A
  // packet from no served prefix (an MN anchored here) finds no route there and goes on to main.
  // Downlink packets for the prefix are delivered on the access link: from the served table when
  // they come out of the anchor's tunnel (seg6, planOwn), from main when they come from elsewhere
  // (another MN here).
  for (const u of s.uplinks) {
    addRoute({ table: o.uplinkTable, dst: 'default', src: u.prefix, via: tunnelVia(u.remote) })
    const delivery: RouteVia = { kind: 'dev', dev: deliveryDev(u.accessLink, u.remote) }
    addRoute({ table: 'main', dst: u.prefix, via: delivery })
    if (o.tunnelKind === 'seg6') addRoute({ table: o.servedTable, dst: u.prefix, via: delivery })
    for (const iif of arrival(u.mnId, u.accessLink)) {
      const rule: Rule = { src: 'all', iif, table: o.uplinkTable, priority: o.rulePriority }
      k.rules.set(ruleKey(rule), rule)
    }
  }
  return k
}

/** A rule for packets arriving on the backbone; `src` and `dst` "all" when not given. */
function fromBackbone (o: PlanOptions, r: { src?: string, dst?: string, ipproto?: number }, table: Rule['table'], priority = o.rulePriority): Rule {
  return { src: r.src ?? 'all', ...(r.dst !== undefined ? { dst: r.dst } : {}), ...(r.ipproto !== undefined ? { ipproto: r.ipproto } : {}), iif: o.backboneInterface, table, priority }
}

/**
 * What arrives on the backbone (seg6), native or out of a tunnel, for the MNs of `s` goes
 * through the main table: to their prefixes anchored here (local delivery, or into the tunnel to
 * the serving MAAR, RFC 5213 §5.6.2) and from them (the MN's uplink out of the tunnel, on to the
 * CN). planOwn() refuses the rest. A prefix anchored here that lies in an own pool needs no rule
 * of its own: planOwn()'s pool rules let it through. A prefix served here for another anchor
 * (out of the anchor's tunnel onto the access link, RFC 5213 §6.10.5) needs none either: its
 * delivery route in the served table, which planOwn()'s one rule looks up, lets it through. So the
 * rules (walked one by one for every forwarded packet) grow with the pools, not with the MNs.
 */
function backboneRules (s: DataPlaneState, o: PlanOptions): Rule[] {
  const perMn = (prefix: string): boolean => !o.ownPools.some(pool => prefixContains(cachedPrefix(pool), cachedPrefix(prefix)))
  return [
    ...s.local.filter(l => perMn(l.prefix)).map(l => fromBackbone(o, { dst: l.prefix }, 'main')),
    ...s.downlinks.filter(d => perMn(d.prefix)).flatMap(d => [fromBackbone(o, { dst: d.prefix }, 'main'), fromBackbone(o, { src: d.prefix }, 'main')])
  ]
}

/**
 * Each own pool refused in main at the lowest preference (longest match puts every MN's route
 * first): an address no MN holds, a released prefix among them, gets ICMPv6 "no route" instead of
 * leaving through a default route towards the backbone, which routes the pool back here.
 */
const POOL_METRIC = 0xffffffff

function poolRoutes (o: PlanOptions): Route[] {
  return o.ownPools.map(dst => ({ table: 'main', dst, via: { kind: 'unreachable' }, metric: POOL_METRIC }))
}

/**
 * The driver's own objects: its decapsulating SID and backbone rules (seg6), the unreachable
 * route of each own pool, and the shared router device of each access link in `routerLinks`
 * (kept with no MN on it). `running` false means none of them.
 */
export function planOwn (o: PlanOptions, running: boolean, routerLinks: Iterable<string>): KernelState {
  const k = emptyKernel()
  if (!running) return k
  const self = canonicalIpv6(o.tunnelAddress)
  if (o.tunnelKind === 'seg6') {
    const sid: Route = { table: 'main', dst: `${self}/128`, via: { kind: 'seg6local', dev: o.backboneInterface, table: 0 } }
    k.routes.set(routeKey(sid), sid)
    // Tunnelled packets go through main: to this SID, and those a downlink route has just put
    // into the tunnel to another MAAR (the kernel looks their outer header up with the backbone
    // as input interface too). Whatever no rule of an MN took is refused.
    // Packets to and from the prefixes of its own pools (backboneRules) are let through by pool,
    // and those to the MNs served here for another anchor by their routes in the served table (a
    // lookup that finds no route there goes on to the next rule, and at last to the refusal).
    for (const r of [
      fromBackbone(o, { dst: `${self}/128` }, 'main'),
      fromBackbone(o, { ipproto: 41 }, 'main'),
      fromBackbone(o, {}, o.servedTable),
      ...o.ownPools.flatMap(pool => [fromBackbone(o, { dst: pool }, 'main'), fromBackbone(o, { src: pool }, 'main')]),
      fromBackbone(o, {}, 'unreachable', o.rulePriority + 1)
    ]) k.rules.set(ruleKey(r), r)
  }
  for (const r of poolRoutes(o)) k.routes.set(routeKey(r), r)
  if (sharedRouter(o) !== undefined) {
    for (const link of routerLinks) {
      const l = routerLink(o, link, self)
      if (l !== undefined) k.links.set(l.name, l)
    }
  }
  return k
}
