import assert from 'node:assert/strict'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { HedgeDelay, SessionDirectory, createMeshNode, meshServices, sealSessionRecord, sessionKey } from '../src/index.js'
import type { HedgePolicy, RecordRequest, RequestShaper } from '../src/index.js'
import { KadIds } from '../src/closest.js'
import { eventually, makeDomain, sessionAt } from './fixtures.js'
import type { TestMaar } from './fixtures.js'

/**
 * A lookup asks the closest member it knows alone first, and its record decides; the others are
 * asked when it has none, or has not answered within the hedge (hedge.ts, lookup.ts).
 */
describe('hedged lookup: the closest member first, the others when it cannot answer', function () {
  this.timeout(120_000)
  const COUNT = 6
  const nodes: Libp2p[] = []
  const byId = new Map<string, { maar: TestMaar, node: Libp2p, dir: SessionDirectory }>()
  /** What each looker's GETs did, in order: `sent <peer>` and `answered <peer>`. */
  const trace: string[] = []
  let hold: ((request: RecordRequest) => Promise<void>) | undefined
  const shaper: RequestShaper = async (request, send) => {
    if (request.op !== 'get') return await send()
    trace.push(`sent ${request.peer}`)
    await hold?.(request)
    const answer = await send()
    trace.push(`answered ${request.peer}`)
    return answer
  }
  // The patient looker's hedge never runs out before a GET's own bound (5 s): only a "not found" brings the others in.
  const patient: HedgePolicy = { initialMs: 60_000, minMs: 60_000, factor: 1, samples: 16 }
  const hasty: HedgePolicy = { initialMs: 1, minMs: 1, factor: 1, samples: 16 }
  let d: Awaited<ReturnType<typeof makeDomain>>
  const lookers: Record<'patient' | 'hasty', TestMaar> = {} as Record<'patient' | 'hasty', TestMaar>

  before(async () => {
    d = await makeDomain(COUNT, 'hedge.example')
    lookers.patient = d.maars[COUNT - 2] as TestMaar
    lookers.hasty = d.maars[COUNT - 1] as TestMaar
    for (const m of d.maars) {
      const node = await createMeshNode({ privateKey: m.key, certificate: m.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: nodes.map(n => n.getMultiaddrs()[0]?.toString() ?? ''), trust: d.trust })
      // The hasty looker's GETs have a long bound, so that only its hedge can bring the others in while the closest is silent.
      const looking = m === lookers.patient ? { lookupHedge: patient, shaper } : m === lookers.hasty ? { lookupHedge: hasty, shaper, requestTimeoutMs: 120_000 } : {}
      const dir = new SessionDirectory(node, { privateKey: m.key, certificate: m.certificate, trust: d.trust, requestTimeoutMs: 5000, ...looking })
      await dir.start()
      nodes.push(node)
      byId.set(m.peerId, { maar: m, node, dir })
    }
    for (const looker of Object.values(lookers)) {
      const { node } = byId.get(looker.peerId) as { node: Libp2p }
      for (const other of nodes) if (other !== node) await node.dial(other.getMultiaddrs()[0] ?? other.peerId)
      await eventually('the looker to know every other MAAR as a member', () => nodes.every(n => n === node || meshServices(node).membership.isMember(n.peerId)))
    }
  })

  after(async () => {
    for (const { dir } of byId.values()) await dir.stop()
    for (const node of nodes) await node.stop()
  })

  beforeEach(() => { trace.length = 0; hold = undefined })

  /** The members other than `looker`, closest to `mn`'s key first. */
  function ranked (mn: string, looker: TestMaar): TestMaar[] {
    const others = d.maars.filter(m => m !== looker)
    return new KadIds().closest(others.map(m => peerIdFromString(m.peerId)), sessionKey(mn), others.length)
      .map(p => others.find(m => m.peerId === p.toString()) as TestMaar)
  }

  /** `holders` keep a record of `mn` signed by the first of them, and nobody else does. */
  async function heldBy (mn: string, holders: TestMaar[]): Promise<TestMaar> {
    const signer = holders[0] as TestMaar
    const bytes = await sealSessionRecord(sessionAt(mn, 1, signer), signer.key, [signer.certificate])
    for (const h of holders) await byId.get(h.peerId)?.dir.remember(bytes)
    return signer
  }

  const lookup = async (looker: TestMaar, mn: string) => await (byId.get(looker.peerId) as { dir: SessionDirectory }).dir.lookup(mn)

  it('the closest member holds the record: it alone is asked, and its record is the answer', async () => {
    const mn = 'ann@hedge.example'
    const [first, second, third] = ranked(mn, lookers.patient) as [TestMaar, TestMaar, TestMaar]
    const signer = await heldBy(mn, [first, second, third])
    const found = await lookup(lookers.patient, mn)
    assert.equal(found?.signer, signer.peerId)
    assert.equal(found?.source, 'direct')
    assert.equal(found?.asked, 1)
    assert.deepEqual(trace, [`sent ${first.peerId}`, `answered ${first.peerId}`])
  })

  it('the closest member holds none: the next ones are asked as soon as it says so, and theirs is the answer', async () => {
    const mn = 'bob@hedge.example'
    const [first, second, third] = ranked(mn, lookers.patient) as [TestMaar, TestMaar, TestMaar]
    const signer = await heldBy(mn, [second, third])
    const found = await lookup(lookers.patient, mn)
    assert.equal(found?.signer, signer.peerId)
    assert.equal(found?.asked, 3)
    assert.deepEqual(trace.slice(0, 2), [`sent ${first.peerId}`, `answered ${first.peerId}`], 'the closest alone first')
    assert.deepEqual(trace.slice(2).filter(t => t.startsWith('sent')).sort(), [`sent ${second.peerId}`, `sent ${third.peerId}`].sort())
  })

  it('the closest member does not answer within the hedge: the next ones are asked while it is still silent, and theirs is the answer', async () => {
    const mn = 'cem@hedge.example'
    const [first, second, third] = ranked(mn, lookers.hasty) as [TestMaar, TestMaar, TestMaar]
    const signer = await heldBy(mn, [first, second, third])
    // The closest member's GET is held until both others have answered (a guard releases it after 30 s, so that a failure ends).
    let release: () => void = () => {}
    const released = new Promise<void>(resolve => { release = resolve; setTimeout(resolve, 30_000).unref() })
    hold = async request => { if (request.peer === first.peerId) await released }
    const answeredBoth = (): boolean => [second, third].every(m => trace.includes(`answered ${m.peerId}`))
    const checkRelease = setInterval(() => { if (answeredBoth()) release() }, 5)
    try {
      const found = await lookup(lookers.hasty, mn)
      assert.equal(found?.signer, signer.peerId)
      assert.equal(found?.asked, 3)
      const closestAnswered = trace.indexOf(`answered ${first.peerId}`)
      for (const m of [second, third]) {
        const sent = trace.indexOf(`sent ${m.peerId}`)
        assert.ok(sent >= 0 && (closestAnswered < 0 || sent < closestAnswered), `${m.peerId} asked while the closest was silent: ${trace.join(', ')}`)
      }
    } finally {
      clearInterval(checkRelease)
      release()
    }
  })
})

describe('hedge delay: how long the closest member is asked alone', () => {
  const policy: HedgePolicy = { initialMs: 10, minMs: 2, factor: 3, samples: 4 }

  it('starts at the initial wait, then follows the median of the recent round trips, within the floor and the GET bound', () => {
    const hedge = new HedgeDelay(policy, 500)
    assert.equal(hedge.delayMs(), 10)
    for (const ms of [0.1, 0.2, 0.3]) hedge.answered(ms)
    assert.equal(hedge.delayMs(), 2, 'never under the floor')
    for (const ms of [40, 50, 60, 1000]) hedge.answered(ms)
    assert.equal(hedge.delayMs(), 180, 'three times the median of the last 4 (the oldest forgotten), not pulled up by one slow answer')
    for (const ms of [400, 400, 400]) hedge.answered(ms)
    assert.equal(hedge.delayMs(), 500, 'never over the GET\'s own bound')
    assert.equal(new HedgeDelay(policy, 5).delayMs(), 5)
  })
})
