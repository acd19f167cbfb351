/**
 * Deterministic kernel names and addresses derived from protocol identities, so that a restarted
 * driver (or another MAAR) derives the same ones without storing anything.
 */
import { createHash } from 'node:crypto'
import { canonicalIpv6 } from '@dmm-mesh/wire'

function hex (text: string, chars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, chars)
}

/** ip6ip6 tunnel device towards one remote MAAR: "dmt" + 10 hex (13 chars, IFNAMSIZ is 16). */
export function tunnelDevice (remote: string): string {
  return `dmt${hex(remote, 10)}`
}

/** DLIF logical interface of `anchor` on access link `link`: "dml" + 10 hex. */
export function dlifDevice (link: string, anchor: string): string {
  return `dml${hex(`${link}|${anchor}`, 10)}`
}

/**
 * RFC 8885 DLIF link-layer address: derived from the anchor alone, so every serving MAAR shows
 * the MN the same router (same MAC, hence the same EUI-64 link-local) for that anchor.
 * Locally administered, unicast (02 in the first octet).
 */
export function dlifMac (anchor: string): string {
  const h = hex(`dlif|${anchor}`, 10)
  return ['02', ...h.match(/../g) as string[]].join(':')
}

/**
 * The router identity every MAAR shows on every access link when DLIF is off (RFC 5213 §6.8:
 * the MN must not see a different router after it moves; §9.3 FixedMAGLinkLayerAddressOnAllAccessLinks
 * and FixedMAGLinkLocalAddressOnAllAccessLinks). Defaults are the values RFC 6543 reserves for
 * exactly this: IANA MAC 00-00-5E-00-52-13 and its modified EUI-64 link-local.
 */
export interface AccessRouter { mac: string, linkLocal: string }
export const PMIP_ROUTER: Readonly<AccessRouter> = Object.freeze({ mac: '00:00:5e:00:52:13', linkLocal: 'fe80::200:5eff:fe00:5213' })

/**
 * The shared-router device on access link `link`: "dmr" + 10 hex. The identity is part of the
 * name, so a changed identity is a different device (kernel.ts compares devices by name only).
 */
export function routerDevice (link: string, router: AccessRouter): string {
  return `dmr${hex(`router|${link}|${router.mac}|${router.linkLocal}`, 10)}`
}

/** RFC 4291 §2.5.1 / Appendix A: modified EUI-64 link-local address of a MAC. */
export function eui64LinkLocal (mac: string): string {
  const b = mac.split(':').map(x => parseInt(x, 16))
  if (b.length !== 6 || b.some(x => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad link-layer address ${JSON.stringify(mac)}`)
  const [b0, b1, b2, b3, b4, b5] = b as [number, number, number, number, number, number]
  const g = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16)
  return canonicalIpv6(`fe80::${g(b0 ^ 0x02, b1)}:${g(b2, 0xff)}:${g(0xfe, b3)}:${g(b4, b5)}`)
}

/** Short stable file-name tag for one MN. */
export function mnTag (mnId: string): string {
  return hex(`mn|${mnId}`, 12)
}
