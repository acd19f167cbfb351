/**
 * A whole simulated network: a backbone with a correspondent node (CN), MAARs programmed through
 * MemoryDataPlane drivers, and MNs attached by radio to one MAAR's access link. It answers
 * "where does this packet go, hop by hop" with the forwarding the Linux driver sets up in the
 * kernel (linux/plan.ts, doc/ARCHITECTURE.md): the backbone routes a destination to the MAAR
 * announcing the pool that contains it, a MAAR looks the destination up in its FIB (longest
 * prefix), a downlink tunnel (RFC 5213 §6.10.4 LMA side) carries it to the serving MAAR, which
 * decapsulates it (End.DT6) and delivers it on the access link; uplink packets take the
 * source-based tunnel back to their anchor (RFC 5213 §6.10.3 MAG side). What reaches a MAAR from
 * the backbone, natively or out of a tunnel, and is for no MN it anchors or serves is refused
 * there, not sent back into the backbone (linux/plan.ts backbone rules and served table: a served
 * MN's 'uplink' route here is the delivery route the Linux driver puts there). Hop limits are
 * decremented at every MAAR (RFC 8200 §3), so a routing loop ends with reason 'loop'. Each MN
 * learns every prefix from the router dlif.ts says it sees for the prefix's anchor (DLIF or the
 * shared RFC 5213 §6.8 router), so a test sees whether the MN keeps its router across a move
 * (traces skip the link-layer hop).
 */
import { canonicalIpv6, formatPrefix, parsePrefix, prefixContains } from '@dmm-mesh/wire'
import type { Ipv6Prefix } from '@dmm-mesh/wire'
import { MemoryDataPlane } from './dataplane.js'
import { PrefixTable } from './lpm.js'
import { newRouter, ownAccessRouter } from './router.js'
import type { Router } from './router.js'
import { interfaceId, slaacAddress } from './slaac.js'
import type { Route } from './state.js'
import { routerFor, routerMode } from '../dlif.js'
import type { DlifSettings } from '../dlif.js'

export interface Trace {
  delivered: boolean
  /** Names, e.g. ['CN', 'maar1', 'tunnel->maar3', 'maar3', 'mn:alice']. */
  hops: string[]
  reason?: string
}

/** An address an MN formed from a router advertisement. */
export interface MnAddress {
  address: string
  prefix: string
  /** false: deprecated (a prefix anchored at a previous MAAR), still valid. */
  preferred: boolean
  /** Address of the anchoring MAAR, as advertised. */
  anchor: string
}

/**
 * The router an MN learned a prefix from: the RA's source link-local and the link-layer address
 * it comes from (RFC 4861 §4.2, §6.3.4), as dlif.ts decides them for the prefix's anchor.
 */
export interface MnRouter {
  prefix: string
  anchor: string
  mac: string
  linkLocal: string
}

export const HOP_LIMIT = 64
/** The CN sits on the backbone at a documentation address outside 2001:db8::/32 (RFC 9637). */
export const DEFAULT_CN_ADDRESS = '3fff::1'

interface Mn {
  /** Address of the MAAR whose access link the MN is on, if any. */
  at?: string
  addresses: MnAddress[]
  routers: MnRouter[]
}

export class MemoryNetwork {
  readonly cnAddress: string
  private readonly routers = new Map<string, Router>()
  private backbone = new PrefixTable<Router>()
  private readonly mns = new Map<string, Mn>()
  /** Address -> MN holding it, for neighbour resolution on access links. */
  private readonly holders = new Map<string, string>()

  constructor (opts: { cnAddress?: string } = {}) {
    this.cnAddress = canonicalIpv6(opts.cnAddress ?? DEFAULT_CN_ADDRESS)
  }

  /**
   * A MAAR on the backbone: its global address and the pools it announces to the backbone, and
   * which router its MNs see (`dlif`, `accessRouter`: DlifSettings, as the Linux driver takes
   * them; default the shared RFC 6543 identity). Calling it again for a MAAR whose driver stopped
   * is a restart: the programmed state is kept.
   */
  createDataPlane (maar: { name: string, address: string, pools: string[] } & DlifSettings): MemoryDataPlane {
    const { name } = maar
    const mode = routerMode(maar)
    if (typeof name !== 'string' || name.length === 0 || name === 'CN' || name.startsWith('mn:') || name.startsWith('tunnel->')) {
      throw new Error(`MAAR name ${JSON.stringify(name)} is empty or clashes with trace hop names`)
    }
    const address = canonicalIpv6(maar.address)
    const pools = maar.pools.map(p => parsePrefix(p))
    for (const [i, pool] of pools.entries()) {
      if (prefixContains(pool, this.cnAddress)) throw new Error(`pool ${formatPrefix(pool)} of ${name} contains the CN address ${this.cnAddress}`)
      const own = pools.slice(0, i).find(q => overlaps(q, pool))
      if (own !== undefined) throw new Error(`pools ${formatPrefix(own)} and ${formatPrefix(pool)} of ${name} overlap`)
      for (const other of this.routers.values()) {
        const clash = other.address === address ? undefined : other.pools.find(q => overlaps(q, pool))
        if (clash !== undefined) throw new Error(`pool ${formatPrefix(pool)} of ${name} overlaps ${formatPrefix(clash)} of ${other.name}`)
      }
    }
    for (const other of this.routers.values()) {
      if (other.name === name && other.address !== address) throw new Error(`MAAR name ${name} is already used by ${other.address}`)
    }
    let router = this.routers.get(address)
    if (router !== undefined) {
      if (router.name !== name) throw new Error(`address ${address} belongs to ${router.name}, not ${name}`)
      if (router.owner !== undefined) throw new Error(`MAAR ${name} already has a running data plane`)
      router.pools = pools
      router.mode = mode
    } else {
      router = newRouter(name, address, pools, mode)
      this.routers.set(address, router)
    }
    this.rebuildBackbone()
    return new MemoryDataPlane(router, (r, mnIds) => { this.refreshLink(r, mnIds) })
  }

  /** Physical attachment of an MN (the radio link): which MAAR's access link it is on now, or none. */
  attachMn (mnId: string, maarAddress: string | undefined): void {
    if (typeof mnId !== 'string' || mnId.length === 0) throw new Error(`MN id must be a non-empty string, got ${JSON.stringify(mnId)}`)
    const mn = this.mns.get(mnId) ?? { addresses: [], routers: [] }
    this.mns.set(mnId, mn)
    if (maarAddress === undefined) {
      delete mn.at
      return
    }
    const address = canonicalIpv6(maarAddress)
    if (!this.routers.has(address)) throw new Error(`no MAAR with address ${address} in this network`)
    mn.at = address
    this.refreshMn(mnId, mn)
  }

  /** Addresses the MN holds (it forms one per advertised prefix; deprecated ones stay valid). */
  mnAddresses (mnId: string): string[] {
    return this.mnAddressInfo(mnId).map(a => a.address)
  }

  /** The MN's addresses with their state (preferred / deprecated) and anchor. */
  mnAddressInfo (mnId: string): MnAddress[] {
    return (this.mns.get(mnId)?.addresses ?? []).map(a => ({ ...a }))
  }

  /** The router the MN learned each of its prefixes from (see MnRouter). */
  mnRouters (mnId: string): MnRouter[] {
    return (this.mns.get(mnId)?.routers ?? []).map(r => ({ ...r }))
  }

  /** Name of the MAAR the MN is attached to, if any. */
  mnLocation (mnId: string): string | undefined {
    const at = this.mns.get(mnId)?.at
    return at === undefined ? undefined : this.routers.get(at)?.name
  }

  /** Downlink: a packet from the CN (on the backbone) to `destination`. */
  traceFromCn (destination: string): Trace {
    const hops = ['CN']
    const dst = tryCanonical(destination)
    if (dst === undefined) return lost(hops, `invalid destination address ${JSON.stringify(destination)}`)
    return this.route(dst, hops, undefined, HOP_LIMIT)
  }

  /** Uplink: a packet the MN sends from `source` to the CN. */
  traceFromMn (mnId: string, source: string): Trace {
    const hops = [`mn:${mnId}`]
    const src = tryCanonical(source)
    if (src === undefined) return lost(hops, `invalid source address ${JSON.stringify(source)}`)
    const at = this.mns.get(mnId)?.at
    const serving = at === undefined ? undefined : this.routers.get(at)
    if (serving === undefined) return lost(hops, `mn:${mnId} is not attached to any MAAR`)
    hops.push(serving.name)
    // Source-based routing at the serving MAAR (ip -6 rule from PREFIX iif ACCESS).
    const route = serving.fib.lookup(src)
    if (route?.kind === 'local') return this.route(this.cnAddress, hops, serving, HOP_LIMIT - 1)
    if (route?.kind === 'uplink') {
      const anchor = this.tunnel(route, hops)
      if (anchor === undefined) return lost(hops, `tunnel remote ${route.remote} is no MAAR on the backbone`)
      // Out of the tunnel, the anchor forwards packets from the prefixes it tunnels to a serving MAAR only.
      if (anchor.fib.lookup(src)?.kind !== 'downlink') return lost(hops, `no route from ${src} at ${anchor.name}: it tunnels that prefix to no serving MAAR`)
      return this.route(this.cnAddress, hops, anchor, HOP_LIMIT - 2)
    }
    return lost(hops, `source not routable: ${src} is in no local or uplink prefix of ${serving.name}`)
  }

  /**
   * Forwards a packet to `dst`, starting on the backbone (`at` undefined) or at a MAAR it has
   * already reached (its hop already counted) that may send it on into the backbone (the MN's
   * uplink, native or out of the tunnel to its anchor), until it is delivered or lost.
   */
  private route (dst: string, hops: string[], at: Router | undefined, hopLimit: number): Trace {
    let here = at
    let limit = hopLimit
    let fromBackbone = false
    for (;;) {
      if (limit <= 0) return lost(hops, 'loop')
      if (here === undefined) {
        if (dst === this.cnAddress) {
          hops.push('CN')
          return { delivered: true, hops }
        }
        here = this.backbone.lookup(dst)
        if (here === undefined) return lost(hops, `no route on the backbone to ${dst}`)
        hops.push(here.name)
        limit--
        fromBackbone = true
        continue
      }
      const route = here.fib.lookup(dst)
      if (route === undefined) {
        // From the backbone a MAAR forwards only to the MNs it anchors or serves: an address of its
        // pool without a route, or a prefix tunnelled to it that it no longer serves, is
        // unreachable there (not bounced back into the backbone).
        if (fromBackbone) return lost(hops, `no route to ${dst} at ${here.name}`)
        here = undefined
        continue
      }
      if (route.kind === 'downlink') {
        const next = this.tunnel(route, hops)
        if (next === undefined) return lost(hops, `tunnel remote ${route.remote} is no MAAR on the backbone`)
        here = next
        limit--
        fromBackbone = true
        continue
      }
      return this.deliver(here, route, dst, hops)
    }
  }

  /** IPv6-in-IPv6 to the tunnel's remote end, routed on the backbone by that MAAR's address. */
  private tunnel (route: { remote: string }, hops: string[]): Router | undefined {
    const remote = this.routers.get(route.remote)
    hops.push(`tunnel->${remote?.name ?? route.remote}`)
    if (remote !== undefined) hops.push(remote.name)
    return remote
  }

  /** Delivery on the access link: whichever MN on this MAAR's link holds the address answers ND. */
  private deliver (router: Router, route: Route, dst: string, hops: string[]): Trace {
    const holder = this.holders.get(dst)
    if (holder !== undefined && this.mns.get(holder)?.at === router.address) {
      hops.push(`mn:${holder}`)
      return { delivered: true, hops }
    }
    if (this.mns.get(route.mnId)?.at !== router.address) return lost(hops, `mn:${route.mnId} is not on the access link of ${router.name}`)
    return lost(hops, `no neighbour holds ${dst} on ${router.name} ${route.kind === 'downlink' ? '' : route.accessLink}`.trimEnd())
  }

  private rebuildBackbone (): void {
    const table = new PrefixTable<Router>()
    for (const r of this.routers.values()) for (const p of r.pools) table.set(p, r)
    this.backbone = table
  }

  /** A router's advertisements changed: the MNs on its access link (only `mnIds` when given) update their addresses. */
  private refreshLink (router: Router, mnIds?: string[]): void {
    const which = mnIds === undefined ? this.mns : mnIds.flatMap(id => { const mn = this.mns.get(id); return mn === undefined ? [] : [[id, mn] as const] })
    for (const [mnId, mn] of which) if (mn.at === router.address) this.refreshMn(mnId, mn)
  }

  /**
   * The MN takes the prefixes its MAAR advertises to it (RFC 4862 §5.5.3): one address each,
   * preferred or deprecated as advertised. With no advertisement for it (yet) it keeps what it has.
   */
  private refreshMn (mnId: string, mn: Mn): void {
    const serving = mn.at === undefined ? undefined : this.routers.get(mn.at)
    const ad = serving?.programmed.ads.get(mnId)
    if (serving === undefined || ad === undefined) return
    for (const a of mn.addresses) if (this.holders.get(a.address) === mnId) this.holders.delete(a.address)
    const iid = interfaceId(ad.linkLayerId, mnId)
    mn.addresses = ad.prefixes.flatMap(p => {
      const address = slaacAddress(parsePrefix(p.prefix), iid)
      return address === undefined ? [] : [{ address, prefix: p.prefix, preferred: p.preferred, anchor: p.anchor }]
    })
    for (const a of mn.addresses) this.holders.set(a.address, mnId)
    mn.routers = ad.prefixes.map(p => ({ prefix: p.prefix, anchor: p.anchor, ...(routerFor(serving.mode, p.anchor) ?? ownAccessRouter(serving)) }))
  }
}

function overlaps (a: Ipv6Prefix, b: Ipv6Prefix): boolean {
  return prefixContains(a, b) || prefixContains(b, a)
}

function tryCanonical (text: string): string | undefined {
  try {
    return canonicalIpv6(text)
  } catch {
    return undefined
  }
}

function lost (hops: string[], reason: string): Trace {
  return { delivered: false, hops, reason }
}
