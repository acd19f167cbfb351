/**
 * Re-registrations at an anchor for the benchmarks that measure one (anchor-rate.ts, goals.ts):
 * PBUs from an MN's serving MAAR to the MAAR anchoring its prefix, on the PMIP stream between them.
 */
import { BINDING_ACK_STATUS, timestampAfter, timestampFromMillis, timestampToMillis } from '@dmm-mesh/wire'
import { buildPbu } from '@dmm-mesh/maar'
import type { LocalMaar, LocalMesh } from '@dmm-mesh/maar'

/** An MN anchored at `anchor` (its peer, taken once) and served by `client`. */
export interface Mn { mnId: string, prefix: string, client: LocalMaar, anchor: { peerId: string, multiaddrs: string[] }, last: number, sequence: number }

/** A fresh RFC 5213 §5.5 timestamp for the MN: the clock, else one 1/65536 s after its last. */
export function stamp (mn: Mn): number {
  mn.last = Math.max(timestampToMillis(timestampFromMillis(Date.now())), timestampAfter(mn.last))
  return mn.last
}

/** One re-registration of `mn` at the anchor; true when the anchor accepted it. */
export async function reRegister (mn: Mn): Promise<boolean> {
  const pbu = buildPbu({ mnId: mn.mnId, sequence: ++mn.sequence & 0xffff, lifetime: 3600, timestampMs: stamp(mn), anchoredPrefixes: [mn.prefix], servingAddress: mn.client.address })
  const { ack } = await mn.client.maar.transport.exchange(mn.anchor, pbu)
  return ack.status === BINDING_ACK_STATUS.ACCEPTED
}

/**
 * `count` MNs attach at `anchor`, then hand over to one of `serving` (in turn), so that the
 * anchor holds a binding for each with a serving MAAR (RFC 8885 §3.1).
 */
export async function anchorMns (mesh: LocalMesh, anchor: LocalMaar, serving: LocalMaar[], count: number, progress: (line: string) => void = () => {}): Promise<Mn[]> {
  if (serving.length === 0) throw new Error('need a serving MAAR')
  const peer = { peerId: anchor.maar.peerId, multiaddrs: anchor.maar.multiaddrs() }
  const mns: Mn[] = []
  for (let j = 0; j < count; j++) {
    const mnId = `anchor-rate-${j}@dmm.example`
    const client = serving[j % serving.length] as LocalMaar
    mesh.network.attachMn(mnId, anchor.address)
    const first = await anchor.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
    mesh.network.attachMn(mnId, client.address)
    const moved = await client.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
    if (!moved.complete) throw new Error(`handover of ${mnId} to ${client.name} incomplete`)
    mns.push({ mnId, prefix: first.localPrefix, client, anchor: peer, last: Date.now(), sequence: 1000 })
    if ((j + 1) % 100 === 0) progress(`  ${j + 1}/${count} MNs anchored`)
  }
  await Promise.all(mesh.maars.map(async m => { await m.maar.settled() }))
  return mns
}

