/**
 * Kademlia distance as kad-dht computes it (sha256 of the key, sha256 of the peer id multihash,
 * XOR), so the peers a MAAR picks for a record are the ones the DHT itself would store it on.
 */
import { createHash } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'

export function kadId (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** Negative when `a` is closer to `target` than `b`. */
export function compareDistance (a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const d = ((a[i] ?? 0) ^ (target[i] ?? 0)) - ((b[i] ?? 0) ^ (target[i] ?? 0))
    if (d !== 0) return d
  }
  return 0
}

/** Remembers each peer's kad id (hashing every candidate on every lookup adds up). */
export class KadIds {
  private readonly ids = new Map<string, Uint8Array>()

  of (peer: PeerId): Uint8Array {
    const k = peer.toString()
    let id = this.ids.get(k)
    if (id === undefined) {
      if (this.ids.size >= 10_000) this.ids.clear()
      id = kadId(peer.toMultihash().bytes)
      this.ids.set(k, id)
    }
    return id
  }

  /** The `count` peers closest to `key`. */
  closest (peers: PeerId[], key: Uint8Array, count: number): PeerId[] {
    const target = kadId(key)
    return peers
      .map(p => ({ p, id: this.of(p) }))
      .sort((a, b) => compareDistance(a.id, b.id, target))
      .slice(0, count)
      .map(x => x.p)
  }
}
