/**
 * PBUs pipelined on one PMIP stream (discovery's pipelined-stream.ts), on real MAARs (libp2p on loopback,
 * LevelDB): each PBA reaches the PBU it answers, PBUs of one MN are handled in their order, and
 * a PBU the anchor cannot answer fails its sender instead of leaving it waiting.
 */
import assert from 'node:assert/strict'
import { BINDING_ACK_STATUS, timestampAfter } from '@dmm-mesh/wire'
import { buildPbu, readPba } from '../src/index.js'
import type { LocalMaar } from '../src/index.js'
import { useMesh } from './mesh-fixture.js'

describe('maar: PBUs pipelined on one PMIP stream', function () {
  const fx = useMesh('pipeline', { count: 2 }, '02:00:00:00:00:0c')
  const MNS = 40
  const prefixes = new Map<string, string>()
  const to = (m: LocalMaar): { peerId: string, multiaddrs: string[] } => ({ peerId: m.maar.peerId, multiaddrs: m.maar.multiaddrs() })

  before(async () => {
    // Every MN anchored at maar1 and served by maar2.
    for (let j = 0; j < MNS; j++) {
      const mnId = `pipe${j}@dmm.example`
      prefixes.set(mnId, (await fx.move(mnId, 1)).localPrefix)
      assert.equal((await fx.move(mnId, 2)).complete, true)
    }
  })

  it('40 PBUs at once on one stream: each PBA answers its own PBU, all accepted', async () => {
    const anchor = fx.m(1); const serving = fx.m(2)
    const ts = Date.now()
    const sent = [...prefixes].map(([mnId, prefix], j) => buildPbu({ mnId, sequence: 500 + j, lifetime: 3600, timestampMs: ts, anchoredPrefixes: [prefix], servingAddress: serving.address }))
    const answers = await Promise.all(sent.map(async pbu => await serving.maar.transport.exchange(to(anchor), pbu)))
    answers.forEach(({ ack }, j) => {
      const pba = readPba(ack)
      assert.equal(ack.status, BINDING_ACK_STATUS.ACCEPTED, `PBU ${j}: status ${ack.status}`)
      assert.equal(pba.mnId, `pipe${j}@dmm.example`)
      assert.equal(ack.sequence, 500 + j)
      assert.deepEqual(pba.anchoredPrefixes, [prefixes.get(`pipe${j}@dmm.example`)])
    })
  })

  it('PBUs of one MN sent back to back are handled in order: the newer accepted, then a stale one refused (157)', async () => {
    const anchor = fx.m(1); const serving = fx.m(2)
    const [mnId, prefix] = [...prefixes][0] as [string, string]
    const t1 = Date.now() + 10
    const t2 = timestampAfter(t1)
    const pbu = (sequence: number, timestampMs: number): ReturnType<typeof buildPbu> => buildPbu({ mnId, sequence, lifetime: 3600, timestampMs, anchoredPrefixes: [prefix], servingAddress: serving.address })
    const [first, second, stale] = await Promise.all([
      serving.maar.transport.exchange(to(anchor), pbu(900, t1)),
      serving.maar.transport.exchange(to(anchor), pbu(901, t2)),
      serving.maar.transport.exchange(to(anchor), pbu(902, t1))
    ])
    assert.equal(first.ack.status, BINDING_ACK_STATUS.ACCEPTED)
    assert.equal(second.ack.status, BINDING_ACK_STATUS.ACCEPTED)
    assert.equal(stale.ack.status, BINDING_ACK_STATUS.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED)
    assert.equal((await fx.binding(1, mnId))?.lastUpdate.timestampMs, t2)
  })

  it('a PBU the anchor fails on resets the stream: its sender and the PBUs behind it get an error, not a wait; the next stream works', async () => {
    const anchor = fx.m(1); const serving = fx.m(2)
    const entries = [...prefixes]
    const [mnId, prefix] = entries[1] as [string, string]
    // The anchor's binding cache fails the next two commits (as a full disk would): the PBU and
    // the transport's one retry on a fresh stream.
    const store = (anchor.maar as unknown as { store: { cache: { commit: (tx: unknown) => Promise<void> } } }).store
    const commit = store.cache.commit.bind(store.cache)
    let failures = 0
    store.cache.commit = async (tx) => { if (++failures <= 2) throw new Error('disk full'); await commit(tx) }
    try {
      const pbu = buildPbu({ mnId, sequence: 1000, lifetime: 3600, timestampMs: Date.now() + 20, anchoredPrefixes: [prefix], servingAddress: serving.address })
      await assert.rejects(serving.maar.transport.exchange(to(anchor), pbu, { signal: AbortSignal.timeout(20_000) }))
    } finally {
      store.cache.commit = commit
    }
    assert.equal(failures, 2)
    const again = buildPbu({ mnId, sequence: 1001, lifetime: 3600, timestampMs: Date.now() + 30, anchoredPrefixes: [prefix], servingAddress: serving.address })
    assert.equal((await serving.maar.transport.exchange(to(anchor), again)).ack.status, BINDING_ACK_STATUS.ACCEPTED)
  })
})
