/**
 * Deterministic kernel device and file names derived from protocol identities, so that a
 * restarted driver derives the same ones without storing anything. The router identities
 * (MACs, link-locals) are dlif.ts's.
 */
import { createHash } from 'node:crypto'
import type { AccessRouter } from '../dlif.js'

function hex (text: string, chars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, chars)
}

/** ip6ip6 tunnel device towards one remote MAAR: "dmt" + 10 hex (13 chars, IFNAMSIZ is 16). */
export function tunnelDevice (remote: string): string {
  return `dmt${hex(remote, 10)}`
}

/** DLIF logical interface of `anchor` on access link `link` (its identity: dlif.ts dlifRouter): "dml" + 10 hex. */
export function dlifDevice (link: string, anchor: string): string {
  return `dml${hex(`${link}|${anchor}`, 10)}`
}

/**
 * The shared-router device on access link `link` (its identity: dlif.ts sharedRouter): "dmr" +
 * 10 hex. The identity is part of the name, so a changed identity is a different device
 * (kernel.ts compares devices by name only).
 */
export function routerDevice (link: string, router: AccessRouter): string {
  return `dmr${hex(`router|${link}|${router.mac}|${router.linkLocal}`, 10)}`
}

/** Short stable file-name tag for one MN. */
export function mnTag (mnId: string): string {
  return hex(`mn|${mnId}`, 12)
}
