/**
 * The two steps a handover cannot skip under this design, timed on this machine, so that the
 * goals benchmark can say how far each latency ratio can fall at best:
 * - an Ed25519 check of a new session record: every record a MAAR reads is checked, since a
 *   domain member may be hostile (doc/ARCHITECTURE.md "Trust"); a handover reads a record its
 *   previous serving MAAR signed a moment ago, so no check is cached;
 * - a synced LevelDB commit of the intent (one BCE and its prefix), before any PBU leaves
 *   (doc/ARCHITECTURE.md "Faults and how the mesh repairs itself").
 * Each is made as the MAAR makes it: node:crypto against a key object kept per key (as
 * discovery's signatureVerifies), and BindingCache.commit with its default sync.
 */
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import { join } from 'node:path'
import { BindingCache } from '@dmm-mesh/binding-cache'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { formatPrefix, parsePrefix, subPrefix } from '@dmm-mesh/wire'

/** About the size of a session record with three anchors and their certificates. */
const RECORD_BYTES = 1800

export class FloorProbe {
  private readonly keys = generateKeyPairSync('ed25519')
  private commits = 0

  private constructor (private readonly cache: BindingCache) {}

  static async open (dir: string): Promise<FloorProbe> {
    return new FloorProbe(await BindingCache.open(join(dir, 'floor-cache')))
  }

  /** One signature of a fresh record-sized message (what a serving MAAR does per publication), ms. */
  signOnce (): number {
    const message = randomBytes(RECORD_BYTES)
    const t = performance.now()
    sign(null, message, this.keys.privateKey)
    return performance.now() - t
  }

  /** One check of a fresh signed record-sized message, ms. */
  verifyOnce (): number {
    const message = randomBytes(RECORD_BYTES)
    const signature = sign(null, message, this.keys.privateKey)
    const t = performance.now()
    if (!verify(null, message, this.keys.publicKey, signature)) throw new Error('the probe signature does not verify')
    return performance.now() - t
  }

  /** One synced commit of an intent-sized entry with its prefix allocation, ms. */
  async commitOnce (): Promise<number> {
    const i = this.commits++
    const mnId = `floor${i}@bench`
    const prefix = formatPrefix(subPrefix(parsePrefix('2001:db8::/32'), 64, i))
    const now = Date.now()
    const entry: BindingCacheEntry = {
      mnId, localPrefixes: [prefix], attached: true, access: { link: 'access0', linkLayerId: '02:00:00:00:00:01', accessTechnology: 3 },
      remoteAnchors: [1, 2, 3].map(n => ({ prefix: `2001:db8:${n}::/64`, peerId: `peer${n}`, address: `2001:db8:ffff::${n}`, multiaddrs: [], pendingUntil: now + 60_000 })),
      lastUpdate: { sequence: 1, timestampMs: now }, sessionSequence: 1, expiresAt: now + 3_600_000, createdAt: now, updatedAt: now
    }
    const t = performance.now()
    await this.cache.commit({ put: [entry], allocate: [{ prefix, mnId }] })
    return performance.now() - t
  }

  async close (): Promise<void> {
    await this.cache.close()
  }
}
