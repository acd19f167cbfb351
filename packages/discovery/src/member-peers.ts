/**
 * The domain members a MAAR asks for records: peers whose membership the MembershipGate verified
 * (membership.ts), connected or in the kad-dht routing table, ranked by XOR distance to a key
 * (the DHT's own metric). A member that failed a request is skipped for `backoffMs`, so a dead
 * MAAR does not cost every lookup a timeout.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { CertificateError } from './domain.js'
import { routingTable } from './mesh-node.js'
import type { MeshServices } from './mesh-node.js'
import { KadIds, kadId } from './closest.js'

export class MemberPeers {
  private readonly kadIds = new KadIds()
  private readonly backoff = new Map<string, number>()
  /**
   * The peers connected or in the routing table, kept until either changes: listing them on
   * every lookup (libp2p's peer list, the table sorted by distance) cost a tenth of a lookup's CPU.
   */
  private peers: PeerId[] | undefined
  private watching = false

  constructor (
    private readonly node: Libp2p,
    private readonly services: MeshServices,
    private readonly backoffMs: number,
    private readonly log: (line: string) => void
  ) {}

  /**
   * Every verified member this node knows: `known` counts them, `ranked` lists those not backing
   * off, closest to the key first.
   */
  candidates (key: Uint8Array): { ranked: PeerId[], known: number } {
    const now = Date.now()
    const candidates = new Map<string, PeerId>()
    // Membership is asked every time: a verdict changes without a connection or table event.
    for (const p of this.knownPeers()) if (this.services.membership.isMember(p.toString())) candidates.set(p.toString(), p)
    const known = candidates.size
    for (const [id, until] of this.backoff) {
      if (until <= now) this.backoff.delete(id)
      else candidates.delete(id)
    }
    return { ranked: this.rank([...candidates.values()], key), known }
  }

  /** Connected peers and routing-table peers but this node, listed again after a change of either. */
  private knownPeers (): PeerId[] {
    if (this.peers !== undefined) return this.peers
    const table = routingTable(this.services.dht)
    if (!this.watching) {
      this.watching = true
      const changed = (): void => { this.peers = undefined }
      for (const target of [this.node, table] as EventTarget[]) {
        target.addEventListener('peer:connect', changed)
        target.addEventListener('peer:disconnect', changed)
        target.addEventListener('peer:add', changed)
        target.addEventListener('peer:remove', changed)
      }
    }
    const all = new Map<string, PeerId>()
    for (const p of this.node.getPeers()) all.set(p.toString(), p)
    for (const p of table.closestPeers(kadId(this.node.peerId.toMultihash().bytes), { count: table.size })) all.set(p.toString(), p)
    all.delete(this.node.peerId.toString())
    this.peers = [...all.values()]
    return this.peers
  }

  /** Every verified member this node knows (backing off or not). */
  all (): string[] {
    return this.knownPeers().map(p => p.toString()).filter(id => this.services.membership.isMember(id))
  }

  /** The peers, closest to the key first. */
  rank (peers: PeerId[], key: Uint8Array): PeerId[] {
    return this.kadIds.closest(peers, key, peers.length)
  }

  /** Those of `peers` that are verified members and not backing off, in the same order. */
  reachable (peers: PeerId[]): PeerId[] {
    const now = Date.now()
    return peers.filter(p => this.services.membership.isMember(p) && (this.backoff.get(p.toString()) ?? 0) <= now)
  }

  /** The `count` reachable members closest to the key. */
  closest (key: Uint8Array, count: number): PeerId[] {
    return this.candidates(key).ranked.slice(0, count)
  }

  /** A request to `peer` failed: skip it for a while, and say why. */
  failed (peer: PeerId, op: string, err: unknown): void {
    this.backoff.set(peer.toString(), Date.now() + this.backoffMs)
    if (err instanceof CertificateError) {
      this.log(`ignored record ${op} answer from ${peer.toString()}: not a MAAR of the domain: ${err.message}`)
      return
    }
    this.log(`record ${op} to ${peer.toString()} failed: ${err instanceof Error ? err.message : String(err)}`)
  }
}
