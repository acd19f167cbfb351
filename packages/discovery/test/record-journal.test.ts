/**
 * Session records on disk (record-journal.ts, doc/ARCHITECTURE.md "Records on disk"): a holder
 * that restarts on its records folder answers for the records it was PUT before; a record that
 * no longer validates is dropped at restore, and said; the journal keeps the last write of a key.
 * Real libp2p nodes on loopback, real LevelDB.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import type { Libp2p } from '@libp2p/interface'
import { MemoryDatastore } from 'datastore-core'
import { RecordJournal } from '../src/record-journal.js'
import { SessionStore } from '../src/record-store.js'
import { dmmValidator } from '../src/dht-records.js'
import { createMeshNode, meshServices, sealSessionRecord, sessionKey } from '../src/index.js'
import { requestFrames, requestRecord } from '../src/record-protocol.js'
import { openSessionRecord, peekSessionRecord } from '../src/records.js'
import { makeDomain, sessionAt } from './fixtures.js'
import type { TestDomain, TestMaar } from './fixtures.js'

describe('session records on disk', function () {
  this.timeout(60_000)
  let dir: string
  let d: TestDomain
  const nodes: Libp2p[] = []
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-record-journal-'))
    d = await makeDomain(2)
  })
  after(async () => {
    for (const n of nodes.splice(0)) await n.stop()
    await rm(dir, { recursive: true, force: true })
  })
  const at = (i: number): TestMaar => d.maars[i] as TestMaar

  async function holder (recordsDir: string, lines: string[] = []): Promise<Libp2p> {
    const node = await createMeshNode({ privateKey: at(0).key, certificate: at(0).certificate, listen: ['/ip4/127.0.0.1/tcp/0'], trust: d.trust, recordsDir, log: line => { lines.push(line) } })
    nodes.push(node)
    return node
  }

  async function asker (): Promise<Libp2p> {
    const node = await createMeshNode({ privateKey: at(1).key, certificate: at(1).certificate, listen: ['/ip4/127.0.0.1/tcp/0'], trust: d.trust })
    nodes.push(node)
    return node
  }

  async function ask (from: Libp2p, to: Libp2p, op: 'get' | 'put', mnId: string, record?: Uint8Array): Promise<{ ok: boolean, found?: boolean, record?: Uint8Array }> {
    await from.dial(to.getMultiaddrs()[0]!)
    const header = { op, key: new TextDecoder().decode(sessionKey(mnId)) } as const
    const answer = await requestRecord(from, to.peerId, requestFrames(header, at(1).certificate, ...(record !== undefined ? [record] : [])), AbortSignal.timeout(20_000), d.trust)
    return { ok: answer.header.ok, ...(answer.header.found !== undefined ? { found: answer.header.found } : {}), ...(answer.record !== undefined ? { record: answer.record } : {}) }
  }

  it('a holder restarted on its records folder answers for the record it was PUT before', async () => {
    const recordsDir = join(dir, 'holder')
    const bytes = await sealSessionRecord(sessionAt('ruth@dmm.example', 7, at(1)), at(1).key, [at(1).certificate])
    let node = await holder(recordsDir)
    const publisher = await asker()
    assert.equal((await ask(publisher, node, 'put', 'ruth@dmm.example', bytes)).ok, true)
    await node.stop()
    const lines: string[] = []
    node = await holder(recordsDir, lines)
    assert.ok(lines.some(l => l.includes('session records restored') && l.includes(': 1')), lines.join('\n'))
    const answer = await ask(publisher, node, 'get', 'ruth@dmm.example')
    assert.equal(answer.found, true)
    assert.equal(peekSessionRecord(answer.record!).sequence, 7)
    // kad-dht's GET_VALUE reads the same restored record (dht-records.ts keepForDht).
    assert.equal(meshServices(node).sessions.get(sessionKey('ruth@dmm.example'))?.record.sequence, 7)
    await node.stop()
  })

  /**
   * A store on a journal whose queue holds `ahead` large writes (not awaited), so that what is
   * written next waits its turn; `onDisk` reads the folder's keys as LevelDB holds them now.
   */
  async function busyStore (recordsDir: string, ahead = 200): Promise<{ store: SessionStore, onDisk: () => Promise<string[]>, journal: RecordJournal }> {
    const journal = await RecordJournal.open(recordsDir)
    for (let i = 0; i < ahead; i++) void journal.put(`filler${i}`, new Uint8Array(32 * 1024).fill(i))
    const onDisk = async (): Promise<string[]> => {
      const keys: string[] = []
      for await (const [k] of journal.entries()) if (!k.startsWith('filler')) keys.push(k)
      return keys
    }
    return { store: new SessionStore(d.trust, undefined, journal), onDisk, journal }
  }

  it('a PUT of a record held a moment ago through the DHT is acknowledged only once that copy is on disk', async () => {
    const { store, onDisk, journal } = await busyStore(join(dir, 'same'))
    const key = sessionKey('wanda@dmm.example')
    const bytes = await sealSessionRecord(sessionAt('wanda@dmm.example', 2, at(1)), at(1).key, [at(1).certificate])
    // The DHT validator's keep: written in the background.
    const { record, signer } = await openSessionRecord(bytes, d.trust, { key })
    assert.equal(store.keep(key, { bytes, record, signer, storedAt: Date.now() }).stored, true)
    // The same bytes PUT over /dmm/record/1.0.0 right after: held already ('same'), yet its ack waits for the disk.
    const offered = await store.offer(key, bytes)
    assert.equal(offered.stored ? 'stored' : offered.reason, 'same')
    assert.deepEqual(await onDisk(), [new TextDecoder().decode(key)])
    await journal.close()
  })

  it("kad-dht's PUT_VALUE is answered (its validator resolves) only once the record is on disk", async () => {
    const { store, onDisk, journal } = await busyStore(join(dir, 'validator'))
    const key = sessionKey('xena@dmm.example')
    const bytes = await sealSessionRecord(sessionAt('xena@dmm.example', 4, at(1)), at(1).key, [at(1).certificate])
    await dmmValidator(new MemoryDatastore(), '/dht', store)(key, bytes)
    assert.deepEqual(await onDisk(), [new TextDecoder().decode(key)])
    await journal.close()
  })

  it('a damaged record in the folder is dropped at restore and named; the others come back', async () => {
    const recordsDir = join(dir, 'damaged')
    const journal = await RecordJournal.open(recordsDir)
    const good = await sealSessionRecord(sessionAt('sam@dmm.example', 3, at(1)), at(1).key, [at(1).certificate])
    await journal.put(new TextDecoder().decode(sessionKey('sam@dmm.example')), good)
    await journal.put(new TextDecoder().decode(sessionKey('tina@dmm.example')), new TextEncoder().encode('not a record'))
    // A record whose key names another MN: a signed record moved under the wrong key.
    await journal.put(new TextDecoder().decode(sessionKey('uma@dmm.example')), good)
    await journal.close()
    const lines: string[] = []
    const node = await holder(recordsDir, lines)
    const line = lines.find(l => l.includes('session records restored')) ?? ''
    assert.match(line, /: 1, 2 dropped/)
    assert.ok(line.includes(`${new TextDecoder().decode(sessionKey('tina@dmm.example'))}: session record malformed`), line)
    assert.ok(line.includes(`${new TextDecoder().decode(sessionKey('uma@dmm.example'))}: session record wrong-key`), line)
    assert.equal(meshServices(node).sessions.get(sessionKey('sam@dmm.example'))?.record.sequence, 3)
    assert.equal(meshServices(node).sessions.get(sessionKey('tina@dmm.example')), undefined)
    await node.stop()
    // Dropped from the folder too, not validated again at every start.
    const db = new Level<string, Uint8Array>(recordsDir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    const keys = await db.keys().all()
    await db.close()
    assert.deepEqual(keys, [new TextDecoder().decode(sessionKey('sam@dmm.example'))])
  })

  it('the journal keeps the last of many writes of one key, issued at once', async () => {
    const recordsDir = join(dir, 'order')
    let journal = await RecordJournal.open(recordsDir)
    const writes: Array<Promise<void>> = []
    for (let i = 0; i < 200; i++) writes.push(journal.put('k', new Uint8Array([i])))
    writes.push(journal.delete('gone'))
    await Promise.all(writes)
    await journal.close()
    journal = await RecordJournal.open(recordsDir)
    const entries = []
    for await (const e of journal.entries()) entries.push(e)
    await journal.close()
    assert.deepEqual(entries.map(([k, v]) => [k, [...v]]), [['k', [199]]])
  })

  it('a records folder LevelDB cannot open is set aside, kept and named, and the node starts with none', async () => {
    const recordsDir = join(dir, 'broken')
    const journal = await RecordJournal.open(recordsDir)
    await journal.put('k', new Uint8Array([1]))
    await journal.close()
    await writeFile(join(recordsDir, 'CURRENT'), 'MANIFEST-999999\n')
    const lines: string[] = []
    const node = await holder(recordsDir, lines)
    const line = lines.find(l => l.includes('could not be opened')) ?? ''
    const moved = /set aside as (\S+),/.exec(line)?.[1]
    assert.ok(moved !== undefined && moved.startsWith(`${recordsDir}.damaged-`), lines.join('\n'))
    assert.ok((await readdir(moved)).includes('CURRENT'), 'the damaged folder is kept for inspection')
    assert.equal(meshServices(node).sessions.size, 0)
    // The new folder takes records again.
    const publisher = await asker()
    const bytes = await sealSessionRecord(sessionAt('vera@dmm.example', 1, at(1)), at(1).key, [at(1).certificate])
    assert.equal((await ask(publisher, node, 'put', 'vera@dmm.example', bytes)).ok, true)
    await node.stop()
  })

  it('a records folder another node holds is refused, naming the folder', async () => {
    const recordsDir = join(dir, 'locked')
    const first = await holder(recordsDir)
    await assert.rejects(holder(recordsDir), (err: Error) => err.message.startsWith(`session records ${recordsDir}:`))
    await first.stop()
  })
})
