/**
 * PBUs pipelined on one PMIP stream (discovery's pipelined-stream.ts), on real MAARs (libp2p on loopback,
 * LevelDB): each PBA reaches the PBU it answers, PBUs of one MN are handled in their order, and
 * a PBU the anchor cannot answer fails its sender instead of leaving it waiting; in one batch of
 * pipelined PBUs a refused one is refused alone (last: it restarts the anchor).
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

  it('one pipelined batch with refused PBUs in it: each refused alone with its status, the others accepted, durable and written in shared LevelDB batches', async () => {
    const anchor = fx.m(1); const serving = fx.m(2)
    // Count the anchor's LevelDB writes (group commit: one synced batch for many PBUs).
    const db = (anchor.cache as unknown as { db: { batch: (...args: unknown[]) => Promise<void> } }).db
    const batch = db.batch.bind(db)
    let batches = 0
    db.batch = async (...args) => { batches++; await batch(...args) }
    const ts = Date.now() + 50
    const entries = [...prefixes]
    const pbus = entries.map(([mnId, prefix], j) => {
      const u = { mnId, sequence: 2000 + j, lifetime: 3600, timestampMs: ts, anchoredPrefixes: [prefix], servingAddress: serving.address }
      // RFC 5213 §5.3: a prefix not anchored here for the MN, a timestamp far ahead, an unknown MN.
      if (j === 3) return buildPbu({ ...u, anchoredPrefixes: ['2001:db8:9999::/64'] })
      if (j === 17) return buildPbu({ ...u, timestampMs: ts + 3_600_000 })
      if (j === 29) return buildPbu({ ...u, mnId: 'stranger@dmm.example' })
      return buildPbu(u)
    })
    let answers
    try {
      answers = await Promise.all(pbus.map(async pbu => (await serving.maar.transport.exchange(to(anchor), pbu)).ack))
    } finally {
      db.batch = batch
    }
    const refused = new Map([[3, BINDING_ACK_STATUS.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX], [17, BINDING_ACK_STATUS.TIMESTAMP_MISMATCH], [29, BINDING_ACK_STATUS.NOT_LMA_FOR_THIS_MOBILE_NODE]])
    answers.forEach((ack, j) => { assert.equal(ack.status, refused.get(j) ?? BINDING_ACK_STATUS.ACCEPTED, `PBU ${j}`) })
    assert.ok(batches < MNS - refused.size, `${MNS - refused.size} accepted PBUs in ${batches} LevelDB batches`)
    // What was acknowledged is in LevelDB: the anchor restarted reads it back.
    await fx.mesh.restartMaar(0)
    for (const [j, [mnId]] of entries.entries()) {
      const stored = await fx.binding(1, mnId)
      if (refused.has(j)) assert.notEqual(stored?.lastUpdate.timestampMs, ts + (j === 17 ? 3_600_000 : 0), `refused PBU ${j} changed the binding`)
      else assert.equal(stored?.lastUpdate.timestampMs, ts, `accepted PBU ${j} not in LevelDB`)
    }
  })
})
