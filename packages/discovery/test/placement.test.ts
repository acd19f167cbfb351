import assert from 'node:assert/strict'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { SessionDirectory, createMeshNode, meshServices, sessionKey } from '../src/index.js'
import { KadIds } from '../src/closest.js'
import { eventually, makeDomain, sessionAt } from './fixtures.js'
import type { TestMaar } from './fixtures.js'

/**
 * The walk ends on the key's k closest members (k = 3 here, 20 in a deployment), and a lookup
 * that hears "not found" from them takes the MN for new (doc/ARCHITECTURE.md "Lookup under
 * partial views and churn"). A record must therefore reach that set even when its first put did
 * not: the scale benchmark at 300 MAARs saw 7 of 40 background puts run out of time before any
 * PUT_VALUE, and every lookup of those MNs then ended "absent".
 */
describe('placement: a record whose put reached nobody reaches the key\'s closest set later', function () {
  this.timeout(120_000)
  const COUNT = 8
  const K = 3
  const nodes: Libp2p[] = []
  const directories: SessionDirectory[] = []

  afterEach(async () => {
    for (const dir of directories.splice(0)) await dir.stop()
    for (const node of nodes.splice(0)) await node.stop()
  })

  it('a publisher that knew no member when it published puts the record again once it connects; a lookup from elsewhere finds it', async () => {
    const d = await makeDomain(COUNT, 'place.example')
    const start = async (maar: TestMaar, bootstrap: Libp2p[], dhtPutTimeoutMs?: number): Promise<SessionDirectory> => {
      const node = await createMeshNode({ privateKey: maar.key, certificate: maar.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: bootstrap.map(n => n.getMultiaddrs()[0]?.toString() ?? ''), trust: d.trust, kBucketSize: K })
      nodes.push(node)
      const dir = new SessionDirectory(node, { privateKey: maar.key, certificate: maar.certificate, trust: d.trust, requestTimeoutMs: 5000, ...(dhtPutTimeoutMs !== undefined ? { dhtPutTimeoutMs } : {}) })
      await dir.start()
      directories.push(dir)
      return dir
    }
    const publisher = d.maars[COUNT - 1] as TestMaar
    const others = d.maars.slice(0, COUNT - 1)
    // An MN whose key has the publisher farthest of all 8: neither the looker's first round nor
    // its walk asks the publisher, so only a placed record can be found.
    const ids = new KadIds()
    const all = d.maars.map(m => peerIdFromString(m.peerId))
    let mn = ''
    for (let i = 0; mn === ''; i++) {
      const ranked = ids.closest(all, sessionKey(`mn${i}@place.example`), COUNT)
      if (ranked[COUNT - 1]?.toString() === publisher.peerId) mn = `mn${i}@place.example`
    }
    const closest = ids.closest(all, sessionKey(mn), K).map(p => p.toString())
    const lookerIndex = others.findIndex(m => !closest.includes(m.peerId))
    const running: Libp2p[] = []
    const dirs: SessionDirectory[] = []
    for (const m of others) {
      dirs.push(await start(m, running.slice(-2)))
      running.push(nodes[nodes.length - 1] as Libp2p)
    }
    const looker = dirs[lookerIndex] as SessionDirectory
    const lookerNode = running[lookerIndex] as Libp2p
    await eventually('the looker to know 4 members', () => meshServices(lookerNode).membership.isMember(running[(lookerIndex + 1) % running.length]?.peerId ?? lookerNode.peerId) && lookerNode.getPeers().length >= 4)

    // The publisher knows nobody: no direct PUT, and its kad-dht put ends without a PUT_VALUE.
    const dirP = await start(publisher, [], 1000)
    const nodeP = nodes[nodes.length - 1] as Libp2p
    await dirP.publish(sessionAt(mn, 1, publisher), [])
    await dirP.settled()
    assert.equal(dirP.replicas.waitingForPlacement, 1, 'the put placed the record nowhere')

    const first = running[0]?.getMultiaddrs()[0]
    assert.ok(first !== undefined)
    await nodeP.dial(first)
    // Eventually: the re-put follows the connection after a grace period; a lookup before it may
    // end "absent" (the key's closest members hold nothing yet), which is what this test is about.
    await eventually('a lookup from a MAAR that is not among the key\'s closest to find the record', async () => (await looker.lookup(mn))?.signer === publisher.peerId, 30_000)
    assert.equal(dirP.replicas.waitingForPlacement, 0)
  })
})
