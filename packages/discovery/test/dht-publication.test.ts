/**
 * The background kad-dht put at most once per key per interval (dht-publication.ts): a burst of
 * moves of one MN walks the DHT once at once and once more with the newest record; stop() walks
 * what is still waiting, so the DHT ends with the last sequence. Real libp2p nodes on loopback.
 */
import assert from 'node:assert/strict'
import type { Libp2p } from '@libp2p/interface'
import { SessionDirectory, createMeshNode, meshServices, peekSessionRecord, sessionKey } from '../src/index.js'
import { eventually, makeDomain, sessionAt } from './fixtures.js'
import type { TestDomain } from './fixtures.js'

interface Member { node: Libp2p, directory: SessionDirectory }

/** Sequences of the values a kad-dht get() from `node` yields. */
async function dhtSequences (node: Libp2p, mn: string): Promise<number[]> {
  const sequences: number[] = []
  for await (const e of meshServices(node).dht.get(sessionKey(mn), { signal: AbortSignal.timeout(20_000) })) {
    if (e.name === 'VALUE') sequences.push(peekSessionRecord(e.value).sequence)
  }
  return sequences
}

describe('dht publication: one walk per key per interval', function () {
  this.timeout(120_000)
  let d: TestDomain
  const members: Member[] = []
  const at = (i: number): Member => members[i] as Member

  before(async () => {
    d = await makeDomain(4)
    for (const maar of d.maars) {
      const node = await createMeshNode({ privateKey: maar.key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: members.map(m => m.node.getMultiaddrs()[0]?.toString() ?? ''), trust: d.trust })
      // An interval longer than the test: only the first record of a key is walked before stop().
      // Every publication is walked here (no skipping in a domain the walk showed complete): the coalescing is under test.
      const directory = new SessionDirectory(node, { privateKey: maar.key, certificate: maar.certificate, trust: d.trust, requestTimeoutMs: 5000, dhtPutIntervalMs: 600_000, stopFlushMs: 30_000, skipWalksInKnownDomain: false })
      await directory.start()
      members.push({ node, directory })
    }
    const tableSize = (n: Libp2p): number => ((n.services.dht as { routingTable?: { size: number } }).routingTable?.size ?? 0)
    await eventually('every routing table to hold the other members', () => members.every(m => tableSize(m.node) >= members.length - 1))
  })

  after(async () => {
    for (const m of members) {
      await m.directory.stop()
      await m.node.stop()
    }
  })

  it('a burst of 8 moves walks twice (the first record at once, the last on stop), and the DHT ends with the last sequence', async () => {
    const mn = 'burst@dmm.example'
    const publisher = at(0).directory
    const serving = d.maars[0]
    assert.ok(serving !== undefined)
    for (let sequence = 1; sequence <= 8; sequence++) await publisher.publish(sessionAt(mn, sequence, serving, [], 1_700_000_000_000 + sequence), [])
    await publisher.settled()
    assert.equal(publisher.dhtPuts.walks, 1, 'the first record walked at once, the others wait')
    assert.equal(publisher.dhtPuts.waiting, 1, 'one record waits: the newest')
    assert.equal(publisher.dhtPuts.coalesced, 6, 'sequences 2..7 replaced by a newer one before their walk')
    // The direct PUTs store where kad-dht's get reads (dht-records.ts keepForDht), and in a
    // domain of 4 they reach every other member: the DHT answers the newest before any walk of it.
    assert.deepEqual([...new Set(await dhtSequences(at(2).node, mn))], [8], 'the direct PUTs reached the DHT store')
    // Stop walks what waits: nothing published is lost to the DHT.
    await publisher.stop()
    assert.equal(publisher.dhtPuts.walks, 2)
    const after = await dhtSequences(at(2).node, mn)
    assert.ok(after.length > 0, 'the DHT answers')
    assert.deepEqual([...new Set(after)], [8], `every copy found is the last record (found ${after.join()})`)
    // A directory started again walks at once (restart forgets the interval).
    await publisher.start()
  })
})
