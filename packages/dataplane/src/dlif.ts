/**
 * Which router an MN sees on its access link, for each of its prefixes: the one home of DLIF
 * (Distributed Logical Interface, RFC 8885 §3.6, draft-bernardos-dmm-pmip) and of its other mode,
 * the shared router identity (RFC 5213 §6.8). Both drivers ask this module; the Linux driver
 * turns the answer into macvlan devices and radvd configs (linux/plan.ts, linux/radvd.ts), the
 * memory driver into the router an MN learns each prefix from (memory/network.ts).
 *
 * - DLIF: the serving MAAR shows one logical router per anchoring MAAR. Its MAC is derived from
 *   the anchor's address alone, so every serving MAAR shows the MN the same router for that
 *   anchor's prefixes, and the MN keeps the router it had when the prefix was local. (RFC 8885
 *   options 69/70 could carry this identity in the PBA; deriving it makes that signalling
 *   unnecessary.)
 * - Shared router: every MAAR of the domain shows one router identity on every access link
 *   (RFC 5213 §6.8, §9.3 FixedMAGLinkLayerAddressOnAllAccessLinks), by default the one RFC 6543
 *   reserves for this.
 * - Neither (`accessRouter: false`): each serving MAAR advertises as its access link's own
 *   router, which this module does not fix; the MN sees a new router after each move.
 */
import { createHash } from 'node:crypto'
import { canonicalIpv6, formatIpv6, maskBytes, parseIpv6 } from '@dmm-mesh/wire'

/** A router identity on an access link: the link-layer address and the link-local RAs come from. */
export interface AccessRouter { mac: string, linkLocal: string }

/**
 * RFC 6543's reserved identity for PMIPv6 access routers: IANA MAC 00-00-5E-00-52-13 and its
 * modified EUI-64 link-local.
 */
export const PMIP_ROUTER: Readonly<AccessRouter> = Object.freeze({ mac: '00:00:5e:00:52:13', linkLocal: 'fe80::200:5eff:fe00:5213' })

/** What an operator (or a test) sets; routerMode() validates it. */
export interface DlifSettings {
  /** RFC 8885 DLIF: one logical router per anchoring MAAR on each access link. */
  dlif?: boolean
  /**
   * Without DLIF: the router identity every MAAR of the domain shows on every access link that
   * carries an MN (RFC 5213 §6.8, §9.3). Defaults to PMIP_ROUTER; the link-local defaults to the
   * MAC's EUI-64 one. `false`: each MAAR advertises as its access link's own router (the MN keeps
   * the old one until neighbour unreachability detection gives up). Not allowed with DLIF.
   */
  accessRouter?: Partial<AccessRouter> | false
}

/** The validated mode: DLIF, or a shared router identity (none: the access link's own router). */
export type RouterMode = { dlif: true } | { dlif: false, router?: AccessRouter }

/** Validates `s` (TypeError naming the field) into the mode both drivers use. */
export function routerMode (s: DlifSettings): RouterMode {
  if (s.dlif !== undefined && typeof s.dlif !== 'boolean') throw new TypeError(`dlif must be true or false, got ${JSON.stringify(s.dlif)}`)
  const dlif = s.dlif === true
  const r = s.accessRouter
  if (dlif) {
    if (r !== undefined && r !== false) throw new TypeError('accessRouter: DLIF shows one router per anchor; set accessRouter only without dlif')
    return { dlif: true }
  }
  if (r === false) return { dlif: false }
  if (r !== undefined && (r === null || typeof r !== 'object')) throw new TypeError(`accessRouter must be { mac, linkLocal } or false, got ${JSON.stringify(r)}`)
  const mac = r?.mac ?? PMIP_ROUTER.mac
  // Unicast (I/G bit clear): a router's address, never a group address.
  if (typeof mac !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1) {
    throw new TypeError(`accessRouter.mac: need a unicast MAC like 00:00:5e:00:52:13, got ${JSON.stringify(mac)}`)
  }
  let linkLocal: string
  try {
    linkLocal = canonicalIpv6(r?.linkLocal ?? eui64LinkLocal(mac))
  } catch (err) {
    throw new TypeError(`accessRouter.linkLocal: ${(err as Error).message}`)
  }
  // fe80::/64 (RFC 4291 §2.5.6): the prefix Linux routes link-locals in.
  if (!isLinkLocal(linkLocal)) throw new TypeError(`accessRouter.linkLocal: need an address in fe80::/64, got ${JSON.stringify(r?.linkLocal)}`)
  return { dlif: false, router: { mac: mac.toLowerCase(), linkLocal } }
}

/**
 * The router the MN sees for a prefix anchored at `anchor` (canonical address): the anchor's
 * logical router with DLIF, else the shared one; undefined means the serving MAAR's access link's
 * own router (no shared identity configured).
 */
export function routerFor (mode: RouterMode, anchor: string): AccessRouter | undefined {
  return mode.dlif ? dlifRouter(anchor) : mode.router
}

/** The router that stays on an access link whatever its MNs' anchors: the shared one, if any. */
export function sharedRouter (mode: RouterMode): AccessRouter | undefined {
  return mode.dlif ? undefined : mode.router
}

/** The DLIF logical router of `anchor`: its MAC and the EUI-64 link-local the kernel forms from it. */
export function dlifRouter (anchor: string): AccessRouter {
  const mac = dlifMac(anchor)
  return { mac, linkLocal: eui64LinkLocal(mac) }
}

/**
 * RFC 8885 DLIF link-layer address: derived from the anchor alone, so every serving MAAR shows
 * the MN the same router (same MAC, hence the same EUI-64 link-local) for that anchor.
 * Locally administered, unicast (02 in the first octet).
 */
export function dlifMac (anchor: string): string {
  const h = createHash('sha256').update(`dlif|${anchor}`).digest('hex').slice(0, 10)
  return ['02', ...h.match(/../g) as string[]].join(':')
}

/** RFC 4291 §2.5.1 / Appendix A: modified EUI-64 link-local address of a MAC. */
export function eui64LinkLocal (mac: string): string {
  const b = mac.split(':').map(x => parseInt(x, 16))
  if (b.length !== 6 || b.some(x => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad link-layer address ${JSON.stringify(mac)}`)
  const [b0, b1, b2, b3, b4, b5] = b as [number, number, number, number, number, number]
  const g = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16)
  return canonicalIpv6(`fe80::${g(b0 ^ 0x02, b1)}:${g(b2, 0xff)}:${g(0xfe, b3)}:${g(b4, b5)}`)
}

function isLinkLocal (address: string): boolean {
  return formatIpv6(maskBytes(parseIpv6(address), 64)) === 'fe80::'
}
