/**
 * The members closest to a key across the whole domain, not only among the peers this MAAR
 * knows (doc/ARCHITECTURE.md "Lookup under partial views and churn"). At hundreds of MAARs a
 * kad-dht routing table holds a small share of the domain, so the closest members a MAAR knows
 * for a key are often not the ones a record was PUT to. The walk is kad-dht's own iterative
 * FIND_NODE (getClosestPeers: alpha parallel queries on disjoint paths, each answer bringing
 * closer peers) over the gated DHT protocol, so its answer is the set the DHT itself stores on.
 *
 * Each peer the walk meets gets a depth: 1 for a peer of this MAAR's own view, d + 1 for a peer
 * first named by a peer of depth d; a lookup's hop count is the depth of the peer that answered.
 * The closest set of a key is cached for `cacheMs` (bounded, oldest first out): the next lookup
 * or re-publication of that key asks those members first without a walk.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { routingTable } from './mesh-node.js'
import type { MeshServices } from './mesh-node.js'
import type { MemberPeers } from './member-peers.js'

export interface KeyWalkResult {
  /** Verified members the walk ended on, closest to the key first. */
  closest: PeerId[]
  /** Depth of each peer met (1 = in this MAAR's view). */
  depth: Map<string, number>
  /** FIND_NODE queries sent. */
  queries: number
  /** Sequential rounds of the walk: the greatest depth of a peer it queried. */
  rounds: number
}

export interface KeyWalkerInit {
  /** Bound of one walk (default 5 s). */
  timeoutMs?: number
  /** How long a key's closest set is reused without a walk (default 30 s). */
  cacheMs?: number
  /** Keys whose closest set is kept (default 10,000). */
  maxKeys?: number
}

export class KeyWalker {
  private readonly cache = new Map<string, { closest: PeerId[], until: number }>()
  private readonly timeoutMs: number
  private readonly cacheMs: number
  private readonly maxKeys: number
  walks = 0

  constructor (private readonly node: Libp2p, private readonly services: MeshServices, private readonly members: MemberPeers, init: KeyWalkerInit = {}) {
    this.timeoutMs = init.timeoutMs ?? 5000
    this.cacheMs = init.cacheMs ?? 30_000
    this.maxKeys = init.maxKeys ?? 10_000
  }

  /** The key's closest members from a recent walk, those still reachable; undefined when none is cached. */
  cached (key: Uint8Array): PeerId[] | undefined {
    const k = keyText(key)
    const hit = this.cache.get(k)
    if (hit === undefined) return undefined
    if (hit.until <= Date.now()) {
      this.cache.delete(k)
      return undefined
    }
    return this.members.reachable(hit.closest)
  }

  /** Drops a key's cached set (its members changed: a holder left). */
  forget (key: Uint8Array): void {
    this.cache.delete(keyText(key))
  }

  /** Walks toward the key; rejects when the walk fails or `signal` aborts first. */
  async walk (key: Uint8Array, signal?: AbortSignal): Promise<KeyWalkResult> {
    this.walks++
    const bound = AbortSignal.timeout(this.timeoutMs)
    const options = { signal: signal === undefined ? bound : AbortSignal.any([bound, signal]) }
    const depth = new Map<string, number>()
    const final: PeerId[] = []
    let queries = 0
    let rounds = 0
    // kad-dht holds queries until its table has a peer; with none there is nothing to walk.
    if (routingTable(this.services.dht).size === 0) return { closest: [], depth, queries, rounds }
    for await (const event of this.services.dht.getClosestPeers(key, options)) {
      if (event.name === 'SEND_QUERY') {
        queries++
        if (!depth.has(event.to.toString())) depth.set(event.to.toString(), 1)
        rounds = Math.max(rounds, depth.get(event.to.toString()) ?? 1)
      } else if (event.name === 'PEER_RESPONSE') {
        const next = (depth.get(event.from.toString()) ?? 1) + 1
        for (const p of event.closer) if (!depth.has(p.id.toString())) depth.set(p.id.toString(), next)
      } else if (event.name === 'FINAL_PEER') {
        final.push(event.peer.id)
      }
    }
    // A peer met on the walk proves membership on its new connection (membership.ts) a moment later.
    const proven = await Promise.all(final.filter(p => !p.equals(this.node.peerId)).map(async p => await this.services.membership.whenMember(p) ? p : undefined))
    const closest = this.members.rank(proven.filter((p): p is PeerId => p !== undefined), key)
    if (this.cache.size >= this.maxKeys) {
      const oldest = this.cache.keys().next().value
      if (oldest !== undefined) this.cache.delete(oldest)
    }
    this.cache.set(keyText(key), { closest, until: Date.now() + this.cacheMs })
    return { closest, depth, queries, rounds }
  }
}

function keyText (key: Uint8Array): string {
  return new TextDecoder().decode(key)
}
