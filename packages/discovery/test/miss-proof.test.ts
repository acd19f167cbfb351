import assert from 'node:assert/strict'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { SessionDirectory, createMeshNode, meshServices, sealSessionRecord, sessionKey } from '../src/index.js'
import type { RequestShaper } from '../src/index.js'
import { KadIds } from '../src/closest.js'
import { eventually, makeDomain, sessionAt } from './fixtures.js'
import type { TestMaar } from './fixtures.js'

/**
 * A miss is proven only by the key's closest members (doc/ARCHITECTURE.md "Lookup under partial
 * views and churn"): "not found" from members further out, answering in place of a closer one
 * that failed, proves nothing, since the closer one may be the holder.
 */
describe('miss proof: only the key\'s closest members prove a miss', function () {
  this.timeout(120_000)
  const nodes: Libp2p[] = []
  const directories: SessionDirectory[] = []

  after(async () => {
    for (const dir of directories) await dir.stop()
    for (const node of nodes) await node.stop()
  })

  it('the key\'s closest member, the only holder, failed a GET in the first round: the lookup asks it again after the walk and finds the record', async () => {
    const COUNT = 8
    const d = await makeDomain(COUNT, 'proof.example')
    const mn = 'dave@proof.example'
    const ids = new KadIds()
    const ranked = ids.closest(d.maars.map(m => peerIdFromString(m.peerId)), sessionKey(mn), COUNT).map(p => p.toString())
    const holder = d.maars.find(m => m.peerId === ranked[0]) as TestMaar
    const lookerMaar = d.maars.find(m => m.peerId === ranked[COUNT - 1]) as TestMaar
    // The looker's first GET to the holder fails (as a GET to a loaded or restarting MAAR does); later ones go through.
    let failedOnce = false
    const shaper: RequestShaper = async (request, send) => {
      if (request.peer === holder.peerId && !failedOnce) {
        failedOnce = true
        throw new Error('first GET to the holder lost')
      }
      return await send()
    }
    const byId = new Map<string, { node: Libp2p, dir: SessionDirectory }>()
    for (const m of d.maars) {
      const node = await createMeshNode({ privateKey: m.key, certificate: m.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: nodes.slice(-2).map(n => n.getMultiaddrs()[0]?.toString() ?? ''), trust: d.trust, kBucketSize: 3 })
      const dir = new SessionDirectory(node, { privateKey: m.key, certificate: m.certificate, trust: d.trust, requestTimeoutMs: 5000, dhtTimeoutMs: 2000, ...(m === lookerMaar ? { shaper } : {}) })
      await dir.start()
      nodes.push(node)
      directories.push(dir)
      byId.set(m.peerId, { node, dir })
    }
    const looker = byId.get(lookerMaar.peerId) as { node: Libp2p, dir: SessionDirectory }
    const held = byId.get(holder.peerId) as { node: Libp2p, dir: SessionDirectory }
    // The holder alone keeps the record (it reached no other member), and the looker knows it.
    await held.dir.remember(await sealSessionRecord(sessionAt(mn, 1, holder), holder.key, [holder.certificate]))
    await looker.node.dial(held.node.getMultiaddrs()[0] ?? held.node.peerId)
    await eventually('the looker to know the holder and 3 other members', () => meshServices(looker.node).membership.isMember(held.node.peerId) && looker.node.getPeers().length >= 4)

    const found = await looker.dir.lookup(mn)
    assert.ok(failedOnce, 'the first GET to the holder failed')
    assert.equal(found?.signer, holder.peerId, 'a miss "proven" by members further out than the holder would be a wrong first attach')
  })
})
