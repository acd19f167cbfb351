/**
 * `dmm inspect --api URL [--watch]`: the mesh as one MAAR sees it, from its management API: its
 * identity, the MAARs it is connected to or shares bindings with, and each binding as serving (the MN is attached
 * here) or anchored (a prefix delegated here, tunnelled to the MN's serving MAAR; RFC 8885 §3).
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { callApi } from './client.js'

export interface MaarStatus { name: string, peerId: string, address: string, multiaddrs: string[] }
/** A connected peer as `GET /peers` gives it (Maar.knownPeers). */
export interface ConnectedPeer { peerId: string, remoteAddrs: string[], address?: string }
export interface MeshView { status: MaarStatus, bindings: BindingCacheEntry[], peers: ConnectedPeer[] }

export async function readMeshView (api: string): Promise<MeshView> {
  const [status, bindings, peers] = await Promise.all([callApi(api, 'GET', '/status'), callApi(api, 'GET', '/bindings'), callApi(api, 'GET', '/peers')])
  return { status: status as MaarStatus, bindings: bindings as BindingCacheEntry[], peers: peers as ConnectedPeer[] }
}

/** Columns padded to their widest cell. */
export function table (header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => `  ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd()
  return [line(header), ...rows.map(line)]
}

const count = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

const expiry = (e: BindingCacheEntry, now: number): string =>
  e.expiresAt === undefined ? '-' : e.expiresAt > now ? `in ${Math.round((e.expiresAt - now) / 1000)} s` : 'expired'

/** One row per prefix: where it is anchored and where its traffic is tunnelled. */
function bindingRows (entries: BindingCacheEntry[], now: number): string[][] {
  const rows: string[][] = []
  for (const e of entries) {
    if (e.attached) {
      for (const p of e.localPrefixes) rows.push([e.mnId, 'serving', p, 'anchored here (native)', expiry(e, now)])
      for (const a of e.remoteAnchors) {
        // RFC 5213 §6.9.4: an anchor that has not acknowledged is retransmitted to.
        const pending = a.pendingUntil !== undefined ? ' (unacknowledged, retransmitting)' : ''
        rows.push([e.mnId, 'serving', a.prefix, `tunnel to anchor ${a.address}${pending}`, expiry(e, now)])
      }
    } else {
      for (const p of e.localPrefixes) rows.push([e.mnId, 'anchored', p, `tunnel to serving MAAR ${e.servingMaar?.address ?? '(unknown)'}`, expiry(e, now)])
    }
  }
  return rows
}

/**
 * The MAARs connected now and those named by the bindings: anchors of MNs served here, serving
 * MAARs of MNs anchored here.
 */
function peerRows (entries: BindingCacheEntry[], connected: ConnectedPeer[]): string[][] {
  const peers = new Map<string, { address: string, anchors: number, serves: number, connected: boolean }>()
  const peer = (peerId: string, address: string): { address: string, anchors: number, serves: number, connected: boolean } => {
    const known = peers.get(peerId) ?? { address, anchors: 0, serves: 0, connected: false }
    peers.set(peerId, known)
    return known
  }
  for (const c of connected) peer(c.peerId, c.address ?? c.remoteAddrs[0] ?? '?').connected = true
  for (const e of entries) {
    if (e.attached) for (const a of e.remoteAnchors) peer(a.peerId, a.address).anchors++
    else if (e.servingMaar !== undefined) peer(e.servingMaar.peerId, e.servingMaar.address).serves++
  }
  return [...peers].map(([peerId, p]) => [peerId, p.address, [
    ...(p.connected ? ['connected'] : []),
    ...(p.anchors > 0 ? [`anchors ${count(p.anchors, 'prefix', 'prefixes')} of MNs served here`] : []),
    ...(p.serves > 0 ? [`serves ${count(p.serves, 'MN')} anchored here`] : [])
  ].join('; ')])
}

export function renderMeshView (v: MeshView, now = Date.now()): string[] {
  const { status, bindings } = v
  const peers = peerRows(bindings, v.peers)
  const rows = bindingRows(bindings, now)
  return [
    `${status.name}  peer ${status.peerId}  address ${status.address}`,
    ...status.multiaddrs.map(m => `  listens on ${m}`),
    '',
    `peers: ${peers.length === 0 ? 'none connected or named by a binding' : count(peers.length, 'MAAR')}`,
    ...(peers.length > 0 ? table(['PEER', 'ADDRESS', 'RELATION'], peers) : []),
    '',
    `bindings: ${count(bindings.length, 'MN')}, ${count(rows.length, 'prefix', 'prefixes')}`,
    ...(rows.length > 0 ? table(['MN', 'ROLE', 'PREFIX', 'TUNNEL', 'EXPIRES'], rows) : [])
  ]
}

export interface InspectOptions { api: string, watch: boolean, out: (text: string) => void, tty: boolean }

/**
 * Prints the view once, or with --watch every second until SIGINT/SIGTERM (exit 0); in watch
 * mode an unreachable API is shown in place of the view and retried.
 */
export async function inspect (o: InspectOptions): Promise<number> {
  if (!o.watch) {
    o.out(`${renderMeshView(await readMeshView(o.api)).join('\n')}\n`)
    return 0
  }
  let stop: () => void = () => {}
  const stopped = new Promise<void>(resolve => { stop = resolve })
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  let running = true
  void stopped.then(() => { running = false })
  while (running) {
    const view = await readMeshView(o.api).then(v => renderMeshView(v), (err: unknown) => [`${o.api}: ${err instanceof Error ? err.message : String(err)}`])
    // A terminal is redrawn in place; a pipe gets one block per refresh.
    o.out(`${o.tty ? '\x1b[2J\x1b[H' : ''}${new Date().toISOString()} (every 1 s, Ctrl-C to stop)\n${view.join('\n')}\n\n`)
    await Promise.race([stopped, new Promise(resolve => setTimeout(resolve, 1000))])
  }
  return 0
}
