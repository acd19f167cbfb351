import assert from 'node:assert/strict'
import { LookupIncompleteError, SessionDirectory, createMeshNode, meshServices } from '../src/index.js'
import { eventually, makeDomain } from './fixtures.js'
import type { TestMaar } from './fixtures.js'

describe('a MAAR whose members all left', function () {
  this.timeout(120_000)

  it('does not take itself for alone: its miss stays unproven (LookupIncompleteError), not a first attach', async () => {
    const d = await makeDomain(2, 'cutoff.example')
    const [a, b] = d.maars as [TestMaar, TestMaar]
    const nodeA = await createMeshNode({ privateKey: a.key, certificate: a.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], trust: d.trust })
    const nodeB = await createMeshNode({ privateKey: b.key, certificate: b.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: nodeA.getMultiaddrs().map(m => m.toString()), trust: d.trust })
    const dirA = new SessionDirectory(nodeA, { privateKey: a.key, certificate: a.certificate, trust: d.trust, dhtTimeoutMs: 1000, peerBackoffMs: 0 })
    await dirA.start()
    try {
      await eventually('A to see B as a member', () => meshServices(nodeA).membership.isMember(nodeB.peerId))
      // While B answers, the miss is proven.
      assert.equal(await dirA.lookup('nobody@cutoff.example'), undefined)
      await nodeB.stop()
      await eventually('A to lose its connection to B', () => nodeA.getConnections().length === 0)
      await eventually('B to leave A\'s routing table', async () => {
        const table = (meshServices(nodeA).dht as unknown as { routingTable: { size: number, remove: (p: unknown) => Promise<void> } }).routingTable
        if (table.size > 0) await table.remove(nodeB.peerId)
        return table.size === 0
      })
      await assert.rejects(dirA.lookup('nobody@cutoff.example'), (err: unknown) => err instanceof LookupIncompleteError)
    } finally {
      await dirA.stop()
      await nodeA.stop()
      await nodeB.stop()
    }
  })

  it('an incomplete lookup says whether the members answered too few "not found" or the walk toward the key failed', () => {
    const short = new LookupIncompleteError('mn@cutoff.example', 1, 3, 4)
    assert.match(short.message, /1 of the 3 domain members required answered "not found" \(4 asked\)/)
    const walkFailed = new LookupIncompleteError('mn@cutoff.example', 0, 3, 3, 'The operation was aborted due to timeout')
    assert.match(walkFailed.message, /the walk toward the key's closest members failed \(The operation was aborted due to timeout\), so the 3 members asked prove no miss/)
    assert.doesNotMatch(walkFailed.message, /0 of the 3/)
  })
})
