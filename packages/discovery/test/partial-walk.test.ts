import assert from 'node:assert/strict'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { DEFAULT_DHT_PROTOCOL, LookupIncompleteError, SessionDirectory, createMeshNode, meshServices, routingTable, sealSessionRecord, sessionKey } from '../src/index.js'
import { KadIds } from '../src/closest.js'
import { eventually, makeDomain, sessionAt } from './fixtures.js'
import type { TestDomain, TestMaar } from './fixtures.js'

/**
 * A walk toward a key that runs out of its bound (key-walk.ts; under load at 1,000 MAARs most
 * did, README "Scale") still yields the closest members that answered it, and the lookup asks
 * them before the kad-dht fallback (doc/ARCHITECTURE.md "Lookup under partial views and churn").
 * Such a set may miss closer members, so their "not found" never proves a miss.
 *
 * The walk is cut short for real: one member takes the DHT protocol's streams and never answers,
 * so the path through it waits until the walk's bound (4 s here; kad-dht's own per-request
 * timeout is at least 5 s).
 */
describe('partial walk: a walk cut short at its bound', function () {
  this.timeout(120_000)
  const COUNT = 10
  const nodes: Libp2p[] = []
  const directories: SessionDirectory[] = []
  let d: TestDomain
  const byId = new Map<string, { node: Libp2p, dir: SessionDirectory }>()
  let looker: TestMaar
  /** A second looker, which asks the members its walk met after 2.5 s while the walk goes on. */
  let eager: TestMaar
  let staller: TestMaar
  /** The members but `from`, closest to the key first. */
  const ranked = (mn: string, from: TestMaar): string[] => new KadIds().closest(d.maars.filter(m => m !== from).map(m => peerIdFromString(m.peerId)), sessionKey(mn), COUNT).map(p => p.toString())

  before(async () => {
    d = await makeDomain(COUNT, 'partial.example')
    looker = d.maars[0] as TestMaar
    eager = d.maars[2] as TestMaar
    for (const m of d.maars) {
      // The looker asks no one before its walk ends (cut short at 4 s); the eager one asks the members met after 2.5 s, its walk bounded at 30 s.
      const walkBounds = m === looker ? { walkTimeoutMs: 4000, walkEarlyMs: 60_000 } : m === eager ? { walkTimeoutMs: 30_000, walkEarlyMs: 2500 } : {}
      const node = await createMeshNode({ privateKey: m.key, certificate: m.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: nodes.slice(-2).map(n => n.getMultiaddrs()[0]?.toString() ?? ''), trust: d.trust })
      // The fallback kad-dht get is short: these tests are about what comes before it.
      const dir = new SessionDirectory(node, { privateKey: m.key, certificate: m.certificate, trust: d.trust, requestTimeoutMs: 5000, dhtTimeoutMs: 2000, ...walkBounds })
      await dir.start()
      nodes.push(node)
      directories.push(dir)
      byId.set(m.peerId, { node, dir })
    }
    // The lookers know every member (a walk starts on all of them, one path each).
    for (const l of [looker, eager]) {
      const from = byId.get(l.peerId)?.node as Libp2p
      const others = d.maars.filter(m => m !== l)
      for (const m of others) await from.dial(byId.get(m.peerId)?.node.peerId ?? assert.fail('no node'))
      await eventually('a looker to verify and table every member', () => others.every(m => meshServices(from).membership.isMember(peerIdFromString(m.peerId))) && routingTable(meshServices(from).dht).size >= COUNT - 1)
    }
    staller = d.maars[1] as TestMaar
    await stall(staller)
  })

  after(async () => {
    for (const dir of directories) await dir.stop()
    for (const node of nodes) await node.stop()
  })

  it('asks the members a walk met so far while it goes on, finds the record there and stops the walk', async () => {
    const mn = 'grace@partial.example'
    const holder = await holdBeyondFirstRound(mn, eager)

    const found = await byId.get(eager.peerId)?.dir.lookup(mn)
    assert.equal(found?.signer, holder.peerId)
    assert.equal(found?.walked, true)
    // The path through the staller holds the walk for at least kad-dht's 5 s request timeout: it was stopped, not ended.
    assert.equal(found?.walk?.ended, 'stopped', JSON.stringify(found?.walk))
    assert.equal(byId.get(eager.peerId)?.dir.walker.cached(sessionKey(mn)), undefined, 'a stopped walk\'s members are not kept as the key\'s closest set')
  })

  /**
   * `from`'s first round asks its 3 closest members: they hold nothing. The next one that answers
   * a walk (not the staller) holds the record, alone; returned.
   */
  async function holdBeyondFirstRound (mn: string, from: TestMaar): Promise<TestMaar> {
    const order = ranked(mn, from)
    const holder = d.maars.find(m => m.peerId === order.slice(3).find(id => id !== staller.peerId)) as TestMaar
    await byId.get(holder.peerId)?.dir.remember(await sealSessionRecord(sessionAt(mn, 1, holder), holder.key, [holder.certificate]))
    return holder
  }

  /** `m` keeps serving records but takes every DHT stream and never answers it: a path through it waits until the walk's bound. */
  async function stall (m: TestMaar): Promise<void> {
    const node = byId.get(m.peerId)?.node as Libp2p
    await node.unhandle(DEFAULT_DHT_PROTOCOL)
    await node.handle(DEFAULT_DHT_PROTOCOL, () => {})
  }

  it('finds a record held by a member the cut-short walk met, beyond the looker\'s first round, without the kad-dht fallback', async () => {
    const mn = 'erin@partial.example'
    const holder = await holdBeyondFirstRound(mn, looker)

    const found = await byId.get(looker.peerId)?.dir.lookup(mn)
    assert.equal(found?.walk?.ended, 'cut-short', `the walk ran out of its bound (${JSON.stringify(found?.walk)})`)
    assert.equal(found?.signer, holder.peerId)
    assert.equal(found?.source, 'direct', 'answered by the members the walk met, not by the kad-dht fallback')
    assert.equal(found?.walked, true)
  })

  it('never proves a miss: no member holds a record, the cut-short walk\'s members all say "not found", and the lookup is incomplete, not absent', async () => {
    const mn = 'frank@partial.example'
    const walksBefore = byId.get(looker.peerId)?.dir.walker.walks ?? 0
    await assert.rejects(byId.get(looker.peerId)?.dir.lookup(mn) ?? assert.fail('no looker'), (err: unknown) => {
      assert.ok(err instanceof LookupIncompleteError, `a LookupIncompleteError, not ${String(err)}`)
      assert.equal(err.walk?.ended, 'cut-short', `the walk ran out of its bound (${JSON.stringify(err.walk)})`)
      assert.ok((err.walk?.closest ?? 0) >= 3, `the walk met members (${JSON.stringify(err.walk)}), and their answers did not count`)
      return true
    })
    assert.equal(byId.get(looker.peerId)?.dir.walker.walks, walksBefore + 1)
    assert.equal(byId.get(looker.peerId)?.dir.walker.cached(sessionKey(mn)), undefined, 'a cut-short walk\'s set is not kept as the key\'s closest set')
  })
})
