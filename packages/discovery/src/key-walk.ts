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
 *
 * A walk that runs out of its bound (`timeoutMs`) still says how far it got: `ended` is
 * 'cut-short', and `closest` holds the verified members closest to the key among those that
 * answered it so far. Such a set may miss closer members the walk had not reached, so it is never
 * cached and never proves a miss (lookup.ts); a record found on it is an answer all the same.
 * A lookup may also ask those members while the walk goes on (start(), KeyWalk.closestSoFar),
 * and stop the walk when they hold the record.
 */
import { performance } from 'node:perf_hooks'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { routingTable } from './mesh-node.js'
import { uniquePeers } from './util.js'
import type { MeshServices } from './mesh-node.js'
import type { MemberPeers } from './member-peers.js'

/**
 * How a walk ended: ran to its end, ran out of its bound, failed (the caller's signal, an
 * error), or was stopped because the members it had met held the record (KeyWalk.stop).
 */
export type WalkEnd = 'complete' | 'cut-short' | 'failed' | 'stopped'

/** What a walk did, for a lookup's result and the benchmarks. */
export interface WalkOutcome {
  ended: WalkEnd
  /** FIND_NODE queries sent. */
  queries: number
  /** Sequential rounds of the walk: the greatest depth of a peer it queried. */
  rounds: number
  /** Peers that answered a FIND_NODE. */
  answered: number
  /** Members in `closest`. */
  closest: number
  elapsedMs: number
  /** Why it failed, when it did. */
  error?: string
}

export interface KeyWalkResult {
  /**
   * Verified members the walk ended on, closest to the key first: the key's closest set when
   * `outcome.ended` is 'complete'; the closest that answered when 'cut-short'; empty when 'failed'.
   */
  closest: PeerId[]
  /** Depth of each peer met (1 = in this MAAR's view). */
  depth: Map<string, number>
  /** FIND_NODE queries sent. */
  queries: number
  /** Sequential rounds of the walk: the greatest depth of a peer it queried. */
  rounds: number
  outcome: WalkOutcome
}

/** A walk under way (KeyWalker.start). */
export interface KeyWalk {
  /** Resolves when the walk ends; never rejects. */
  result: Promise<KeyWalkResult>
  /** The verified members closest to the key among those that answered so far (at most k). */
  closestSoFar: () => PeerId[]
  /** Ends the walk now ('stopped'); returns what it had done. */
  stop: () => WalkOutcome
}

export interface KeyWalkerInit {
  /** Bound of one walk (default 5 s). */
  timeoutMs?: number
  /** How long a key's closest set is reused without a walk (default 30 s). */
  cacheMs?: number
  /** Keys whose closest set is kept (default 10,000). */
  maxKeys?: number
}

/** The size of a key's closest set: kad-dht's k, the members a record is put to. */
const K_CLOSEST = 20

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

  /**
   * Walks toward the key. Never rejects: a walk that ran out of its bound ends 'cut-short' with
   * the closest members that answered so far; one the caller's `signal` aborted or that failed
   * ends 'failed' with none.
   */
  async walk (key: Uint8Array, signal?: AbortSignal): Promise<KeyWalkResult> {
    return await this.start(key, signal).result
  }

  /**
   * Starts a walk toward the key (see walk()) and hands it over while it runs: a lookup may ask
   * the closest members met so far before the walk ends, and stop it when they hold the record.
   */
  start (key: Uint8Array, signal?: AbortSignal): KeyWalk {
    this.walks++
    const t0 = performance.now()
    const bound = AbortSignal.timeout(this.timeoutMs)
    const stopper = new AbortController()
    const options = { signal: AbortSignal.any([bound, stopper.signal, ...(signal !== undefined ? [signal] : [])]) }
    const depth = new Map<string, number>()
    const answered: PeerId[] = []
    let queries = 0
    let rounds = 0
    const outcome = (ended: WalkEnd, closest: number, error?: string): WalkOutcome =>
      ({ ended, queries, rounds, answered: answered.length, closest, elapsedMs: performance.now() - t0, ...(error !== undefined ? { error } : {}) })
    const result = (ended: WalkEnd, closest: PeerId[], error?: string): KeyWalkResult => ({ closest, depth, queries, rounds, outcome: outcome(ended, closest.length, error) })
    // The members closest to the key among those that answered: where the walk has got to.
    // Only proven members (they answered on a connection the gate checked); none is waited for.
    const closestSoFar = (): PeerId[] => this.members.rank(uniquePeers(answered).filter(p => !p.equals(this.node.peerId) && this.services.membership.isMember(p)), key).slice(0, K_CLOSEST)
    const run = async (): Promise<KeyWalkResult> => {
      const final: PeerId[] = []
      // kad-dht holds queries until its table has a peer; with none there is nothing to walk.
      if (routingTable(this.services.dht).size === 0) return result('complete', [])
      try {
        for await (const event of this.services.dht.getClosestPeers(key, options)) {
          if (event.name === 'SEND_QUERY') {
            queries++
            if (!depth.has(event.to.toString())) depth.set(event.to.toString(), 1)
            rounds = Math.max(rounds, depth.get(event.to.toString()) ?? 1)
          } else if (event.name === 'PEER_RESPONSE') {
            answered.push(event.from)
            const next = (depth.get(event.from.toString()) ?? 1) + 1
            for (const p of event.closer) if (!depth.has(p.id.toString())) depth.set(p.id.toString(), next)
          } else if (event.name === 'FINAL_PEER') {
            final.push(event.peer.id)
          }
        }
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err)
        if (stopper.signal.aborted) return result('stopped', [], error)
        if (!bound.aborted || signal?.aborted === true) return result('failed', [], error)
        return result('cut-short', closestSoFar(), error)
      }
      // A peer met on the walk proves membership on its new connection (membership.ts) a moment later.
      const proven = await Promise.all(final.filter(p => !p.equals(this.node.peerId)).map(async p => await this.services.membership.whenMember(p) ? p : undefined))
      const closest = this.members.rank(proven.filter((p): p is PeerId => p !== undefined), key)
      if (this.cache.size >= this.maxKeys) {
        const oldest = this.cache.keys().next().value
        if (oldest !== undefined) this.cache.delete(oldest)
      }
      this.cache.set(keyText(key), { closest, until: Date.now() + this.cacheMs })
      return result('complete', closest)
    }
    return {
      result: run().catch(err => result('failed', [], err instanceof Error ? err.message : String(err))),
      closestSoFar,
      stop: () => {
        stopper.abort(new Error('stopped: the record was found'))
        return outcome('stopped', 0)
      }
    }
  }
}

function keyText (key: Uint8Array): string {
  return new TextDecoder().decode(key)
}
