/**
 * Helpers for the fault tests: waiting for a condition (with a hang guard, never a timing
 * threshold), writing a stopped MAAR's LevelDB as a crash would have left it, and making a live
 * MAAR's directory services fail (record GETs and kad-dht queries) and recover.
 */
import { BindingCache } from '@dmm-mesh/binding-cache'
import type { BindingCacheEntry, Transaction } from '@dmm-mesh/binding-cache'
import { RECORD_PROTOCOL } from '@dmm-mesh/discovery'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { LocalMesh } from '../src/index.js'

/** Polls `cond` until true; fails (naming `what`) only if it never holds within the hang guard. */
export async function eventually (what: string, cond: () => boolean | Promise<boolean>, guardMs = 60_000): Promise<void> {
  const end = Date.now() + guardMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** Opens a stopped MAAR's binding cache, lets `change` read it and return one transaction, commits it, closes. */
export async function rewriteCache (dataDir: string, change: (entries: BindingCacheEntry[]) => Transaction): Promise<void> {
  const cache = await BindingCache.open(dataDir)
  try {
    await cache.commit(change(await cache.list()))
  } finally {
    await cache.close()
  }
}

interface HandlerRecord { handler: Parameters<Libp2p['handle']>[1], options: Record<string, unknown> }
interface WithRegistrar { components: { registrar: { getHandler: (protocol: string) => HandlerRecord } } }

/**
 * The node stays up and connected, but every record GET/PUT and kad-dht query it receives is
 * aborted (a member that cannot answer). Returns how to put the original handlers back.
 */
export async function breakDirectoryService (node: Libp2p): Promise<() => Promise<void>> {
  return await breakProtocols(node, p => p === RECORD_PROTOCOL || p.startsWith('/dmm/kad/'))
}

/** Every stream of the node's protocols that `which` selects is aborted until the returned repair runs. */
export async function breakProtocols (node: Libp2p, which: (protocol: string) => boolean): Promise<() => Promise<void>> {
  return await replaceHandlers(node, which, stream => { stream.abort(new Error('out of service')) })
}

/**
 * Every new stream of the node's protocols that `which` selects is held open and never answered
 * (a peer that hangs) until the returned repair runs, which resets the held streams.
 */
export async function silenceProtocols (node: Libp2p, which: (protocol: string) => boolean): Promise<() => Promise<void>> {
  const held: Stream[] = []
  const restore = await replaceHandlers(node, which, stream => { held.push(stream) })
  return async () => {
    await restore()
    for (const s of held) s.abort(new Error('back in service'))
  }
}

/** Serves the selected protocols with `handler` and ends the streams open from before; returns how to put the originals back. */
async function replaceHandlers (node: Libp2p, which: (protocol: string) => boolean, handler: (stream: Stream) => void): Promise<() => Promise<void>> {
  const protocols = node.getProtocols().filter(which)
  const registrar = (node as unknown as WithRegistrar).components.registrar
  const originals = protocols.map(p => ({ p, record: registrar.getHandler(p) }))
  for (const p of protocols) await node.handle(p, handler, { force: true })
  // Streams kept open from before (record streams are kept per peer) are ended too.
  for (const s of node.getConnections().flatMap(c => c.streams)) if (s.protocol !== undefined && protocols.includes(s.protocol)) s.abort(new Error('out of service'))
  return async () => {
    for (const { p, record } of originals) await node.handle(p, record.handler, { ...record.options, force: true })
  }
}

/** Starts again every MAAR of maar1..maarN that is stopped. */
export async function restartStopped (mesh: LocalMesh | undefined, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (mesh !== undefined && !mesh.maars.some(x => x.name === `maar${i + 1}`)) await mesh.restartMaar(i)
  }
}
