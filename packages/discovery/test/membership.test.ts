/**
 * Issue 9 finding 3: peers outside the domain must not read records, take part in the DHT or
 * answer lookups; and the record protocol resets a stream announcing an over-long frame (finding 7).
 * Real libp2p nodes on loopback; the rogues are nodes made by createMeshNode with a certificate
 * of another operator key, or none.
 */
import assert from 'node:assert/strict'
import { lpStream } from '@libp2p/utils'
import type { Libp2p } from '@libp2p/interface'
import { LookupIncompleteError, MEMBERSHIP_PROTOCOL, RECORD_PROTOCOL, SessionDirectory, TrustStore, createMeshNode, generateKey, meshServices, sessionKey } from '../src/index.js'
import { requestFrames, requestRecord } from '../src/record-protocol.js'
import { eventually, makeDomain, makeMaar, sessionAt } from './fixtures.js'
import type { TestDomain, TestMaar } from './fixtures.js'

interface Member { maar: TestMaar, node: Libp2p, directory: SessionDirectory, lines: string[] }

const tablePeers = (node: Libp2p): string[] => {
  const table = (node.services.dht as unknown as { routingTable: { closestPeers: (k: Uint8Array, o: { count: number }) => Array<{ toString: () => string }> } }).routingTable
  return table.closestPeers(new Uint8Array(32), { count: 1000 }).map(p => p.toString())
}

const PROOF_MS = 1500

/** Values a kad-dht get() yields before it ends or gives up (an error is no value). */
async function dhtValues (node: Libp2p, key: Uint8Array): Promise<number> {
  let values = 0
  try {
    for await (const e of meshServices(node).dht.get(key, { signal: AbortSignal.timeout(3000) })) if (e.name === 'VALUE') values++
  } catch {}
  return values
}

async function join (maar: TestMaar, trust: TrustStore, bootstrap: Libp2p[], opts: { certificate?: Uint8Array, peerBackoffMs?: number, proofTimeoutMs?: number } = {}): Promise<Member> {
  const lines: string[] = []
  const node = await createMeshNode({
    privateKey: maar.key,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: bootstrap.map(n => n.getMultiaddrs()[0]?.toString() ?? ''),
    trust,
    // A rogue without a certificate is refused after this long (a bound for the test's sake).
    proofTimeoutMs: opts.proofTimeoutMs ?? PROOF_MS,
    ...(opts.certificate !== undefined ? { certificate: opts.certificate } : {}),
    log: line => { lines.push(line) }
  })
  const directory = new SessionDirectory(node, { privateKey: maar.key, certificate: opts.certificate ?? maar.certificate, trust, requestTimeoutMs: 5000, ...(opts.peerBackoffMs !== undefined ? { peerBackoffMs: opts.peerBackoffMs } : {}), log: line => { lines.push(line) } })
  return { maar, node, directory, lines }
}

/** A node of another operator that also trusts this domain's operator, so it keeps its side open. */
async function rogue (d: TestDomain, bootstrap: Libp2p[], withCertificate: boolean): Promise<{ node: Libp2p, maar: TestMaar, trust: TrustStore }> {
  const operator = await generateKey()
  const maar = await makeMaar(operator, 0x66)
  const trust = TrustStore.fromOperatorKeys([{ domain: 'dmm.example', publicKey: operator.publicKey }, { domain: 'dmm.example', publicKey: d.operator.publicKey }])
  const node = await createMeshNode({
    privateKey: maar.key,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: bootstrap.map(n => n.getMultiaddrs()[0]?.toString() ?? ''),
    trust,
    ...(withCertificate ? { certificate: maar.certificate } : {})
  })
  return { node, maar, trust }
}

/** A record handler that answers "not found" to everything, with the node's own certificate. */
async function answerNotFound (node: Libp2p, certificate: Uint8Array): Promise<void> {
  await node.handle(RECORD_PROTOCOL, async (stream) => {
    const lp = lpStream(stream)
    await lp.read()
    await lp.read()
    await lp.writeV([new TextEncoder().encode(JSON.stringify({ ok: true, found: false })), certificate])
    await stream.close()
  }, { force: true })
}

describe('membership: only MAARs of the domain take part', function () {
  this.timeout(120_000)
  let d: TestDomain
  const members: Member[] = []
  const at = (i: number): Member => members[i] as Member
  const stopLater: Libp2p[] = []

  before(async () => {
    d = await makeDomain(4)
    for (const maar of d.maars) {
      const m = await join(maar, d.trust, members.map(x => x.node))
      await m.directory.start()
      members.push(m)
    }
    await eventually('every member to know the others', () => members.every(m => tablePeers(m.node).length >= members.length - 1))
  })

  after(async () => {
    for (const n of stopLater) {
      try { await n.stop() } catch {}
    }
    for (const m of members) {
      await m.directory.stop()
      await m.node.stop()
    }
  })

  it('a rogue with another operator\'s certificate is refused at once, cannot GET a record and does not stay in the routing table', async () => {
    const mn = 'grace@dmm.example'
    await at(0).directory.publish(sessionAt(mn, 3, at(0).maar), [])
    const r = await rogue(d, [at(1).node], true)
    stopLater.push(r.node)
    const id = r.node.peerId.toString()
    await eventually('the member to refuse the rogue', () => at(1).lines.some(l => l.startsWith(`refused peer ${id}: not a MAAR of the domain`) && l.includes('unknown-operator')))
    await eventually('the rogue to be disconnected', () => !at(1).node.getPeers().some(p => p.toString() === id))
    assert.ok(!tablePeers(at(1).node).includes(id), 'the rogue is not in the routing table')
    // (a) no record through the record protocol, nor through the DHT.
    const get = requestRecord(r.node, at(1).node.peerId, requestFrames({ op: 'get', key: new TextDecoder().decode(sessionKey(mn)) }, r.maar.certificate), AbortSignal.timeout(10_000), r.trust)
    await assert.rejects(get, 'the refused rogue cannot even open a stream again')
    assert.equal(await dhtValues(r.node, sessionKey(mn)), 0, 'no record reaches the rogue through the DHT')
    // The other members never took the rogue into their tables either.
    for (const m of members) assert.ok(!tablePeers(m.node).includes(id), `${m.maar.peerId} keeps the rogue out`)
  })

  it('a rogue that presents no certificate is refused after the proof timeout; its kad-dht queries are aborted meanwhile', async () => {
    const r = await rogue(d, [at(2).node], false)
    stopLater.push(r.node)
    const id = r.node.peerId.toString()
    // Before the timeout, its DHT query reaches a member that waits for the proof, then aborts it.
    assert.equal(await dhtValues(r.node, sessionKey('grace@dmm.example')), 0)
    await eventually('the member to refuse the silent rogue', () => at(2).lines.some(l => l.startsWith(`refused peer ${id}: not a MAAR of the domain: no membership proof within ${PROOF_MS} ms`)))
    await eventually('the rogue to be disconnected', () => !at(2).node.getPeers().some(p => p.toString() === id))
    assert.ok(!tablePeers(at(2).node).includes(id))
  })

  it('a member whose proof stream ends before its certificate is not shut out: its next proof on the same connection admits it', async () => {
    // A loaded host loses a proof stream this way (the connection or the stream closed under it).
    const slow = await makeMaar(d.operator, 0x55)
    const node = await createMeshNode({ privateKey: slow.key, listen: ['/ip4/127.0.0.1/tcp/0'], trust: d.trust })
    stopLater.push(node)
    const id = node.peerId.toString()
    const connection = await node.dial(at(3).node.getMultiaddrs())
    const early = await connection.newStream(MEMBERSHIP_PROTOCOL)
    await early.close().catch(() => {})
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.ok(!at(3).lines.some(l => l.startsWith(`refused peer ${id}`)), 'an early end of the proof stream is no refusal')
    meshServices(node).membership.present(slow.certificate)
    await eventually('the slow member to be admitted', () => meshServices(at(3).node).membership.isMember(id))
    assert.equal(connection.status, 'open')
  })

  it('"not found" from a responder that does not prove membership is refused by the requester (its certificate is checked on the answer)', async () => {
    // The record protocol checks the responder on its own, whatever the connection gate decided:
    // an asker whose gate waits long for proofs keeps the rogue connected during the test.
    const asker = await join(await makeMaar(d.operator, 0x77), d.trust, [], { proofTimeoutMs: 120_000 })
    await asker.directory.start()
    stopLater.push(asker.node)
    const r = await rogue(d, [], false)
    stopLater.push(r.node)
    await asker.node.dial(r.node.getMultiaddrs())
    await answerNotFound(r.node, r.maar.certificate)
    const ask = requestRecord(asker.node, r.node.peerId, requestFrames({ op: 'get', key: new TextDecoder().decode(sessionKey('x@dmm.example')) }, asker.maar.certificate), AbortSignal.timeout(10_000), d.trust)
    await assert.rejects(ask, /certificate unknown-operator/)
    // A stolen member certificate does not help: it is bound to another peer id.
    await answerNotFound(r.node, at(0).maar.certificate)
    const stolen = requestRecord(asker.node, r.node.peerId, requestFrames({ op: 'get', key: new TextDecoder().decode(sessionKey('x@dmm.example')) }, asker.maar.certificate), AbortSignal.timeout(10_000), d.trust)
    await assert.rejects(stolen, /certificate peer-mismatch/)
    await asker.directory.stop()
  })

  it('a miss proves absence only when min(fanout, known members) members answered; rogues answering "not found" do not count', async () => {
    // A small domain of its own: the looker, one honest member, one member whose record service fails.
    const small = await makeDomain(3, 'small.example')
    const looker = await join(small.maars[0] as TestMaar, small.trust, [], { peerBackoffMs: 0 })
    await looker.directory.start()
    const honest = await join(small.maars[1] as TestMaar, small.trust, [looker.node])
    await honest.directory.start()
    const failing = await join(small.maars[2] as TestMaar, small.trust, [looker.node])
    await failing.directory.start()
    stopLater.push(looker.node, honest.node, failing.node)
    await eventually('the looker to know both members', () => tablePeers(looker.node).length >= 2)
    await failing.node.handle(RECORD_PROTOCOL, (stream) => { stream.abort(new Error('out of service')) }, { force: true })
    // Rogues connect to the looker and answer "not found" to anything.
    for (let i = 0; i < 4; i++) {
      const r = await rogue(small, [looker.node], true)
      stopLater.push(r.node)
      await answerNotFound(r.node, r.maar.certificate)
    }
    await assert.rejects(looker.directory.lookup('nobody@small.example'), (err: unknown) => {
      assert.ok(err instanceof LookupIncompleteError, String(err))
      assert.equal(err.absentAnswers, 1)
      assert.equal(err.required, 2)
      return true
    })
    // With both members answering, the same miss is proven.
    await failing.node.unhandle(RECORD_PROTOCOL)
    await meshServices(failing.node).records.start()
    assert.equal(await looker.directory.lookup('nobody@small.example'), undefined)
    for (const n of [looker, honest, failing]) await n.directory.stop()
  })

  it('a MAAR alone in its domain proves a miss at once (first attach)', async () => {
    const solo = await makeDomain(1, 'solo.example')
    const m = await join(solo.maars[0] as TestMaar, solo.trust, [])
    await m.directory.start()
    stopLater.push(m.node)
    assert.equal(await m.directory.lookup('first@solo.example'), undefined)
    await m.directory.stop()
  })

  it('a record stream announcing a 100 MB frame after the certificate is reset at once, and the node keeps serving', async () => {
    const target = at(0)
    const stream = await at(1).node.dialProtocol(target.node.peerId, RECORD_PROTOCOL)
    const lp = lpStream(stream)
    await lp.writeV([new TextEncoder().encode(JSON.stringify({ op: 'put', key: new TextDecoder().decode(sessionKey('big@dmm.example')) })), at(1).maar.certificate])
    // The length prefix of a 100 MB record, and no data behind it.
    const varint = [0x80, 0x80, 0x80, 0x32] // 100 * 2^20 = 104857600 as an unsigned LEB128 varint
    assert.equal(varint.reduce((n, b, i) => n + (b & 0x7f) * 2 ** (7 * i), 0), 100 * 2 ** 20)
    stream.send(new Uint8Array(varint))
    // The answer is a reset, not a wait for 100 MB: reading ends in an error or at once at EOF.
    await assert.rejects(lp.read({ signal: AbortSignal.timeout(20_000) }), (err: Error) => err.name !== 'AbortError' && err.name !== 'TimeoutError')
    await eventually('the reset to be logged', () => target.lines.some(l => l.startsWith(`reset record stream from ${at(1).node.peerId.toString()}`) && /too long/.test(l)))
    const found = await at(2).directory.lookup('grace@dmm.example')
    assert.equal(found?.record.sequence, 3)
  })
})
