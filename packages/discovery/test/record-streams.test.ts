/**
 * `/dmm/record/1.0.0` on kept streams (record-protocol.ts): many requests on one stream, each
 * answered in its turn; a malformed frame ends only the stream it came on. Real libp2p nodes on
 * loopback, real certificates and records.
 */
import assert from 'node:assert/strict'
import { RecordEnvelope } from '@libp2p/peer-record'
import { lpStream } from '@libp2p/utils'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { RECORD_PROTOCOL, SessionDirectory, createMeshNode, issueCertificate, peekSessionRecord, sealSessionRecord, sessionKey } from '../src/index.js'
import { requestFrames, requestRecord } from '../src/record-protocol.js'
import { eventually, makeDomain, sessionAt } from './fixtures.js'
import type { TestDomain } from './fixtures.js'

/** A certificate's notAfter, as the trust store reads it. */
const expiry = (certificate: Uint8Array): number => JSON.parse(new TextDecoder().decode(RecordEnvelope.createFromProtobuf(certificate).payload)).notAfter as number

interface Member { node: Libp2p, directory: SessionDirectory, lines: string[] }

const recordStreams = (from: Libp2p, to: PeerId): Array<{ id: string }> =>
  from.getConnections(to).flatMap(c => c.streams).filter(s => s.protocol === RECORD_PROTOCOL && s.status === 'open')

describe('record protocol: kept streams', function () {
  this.timeout(120_000)
  let d: TestDomain
  const members: Member[] = []
  const at = (i: number): Member => members[i] as Member
  const keyOf = (mn: string): string => new TextDecoder().decode(sessionKey(mn))

  before(async () => {
    d = await makeDomain(2)
    for (const maar of d.maars) {
      const node = await createMeshNode({ privateKey: maar.key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: members.map(m => m.node.getMultiaddrs()[0]?.toString() ?? ''), trust: d.trust })
      const lines: string[] = []
      const directory = new SessionDirectory(node, { privateKey: maar.key, certificate: maar.certificate, trust: d.trust, requestTimeoutMs: 5000, log: line => { lines.push(line) } })
      await directory.start()
      members.push({ node, directory, lines })
    }
    await eventually('the two members to be connected', () => at(0).node.getConnections(at(1).node.peerId).length > 0)
  })

  after(async () => {
    for (const m of members) {
      await m.directory.stop()
      await m.node.stop()
    }
  })

  it('many GETs at once on one stream are each answered with their own record, in one kept stream', async () => {
    const maar0 = d.maars[0]
    assert.ok(maar0 !== undefined)
    const mns = Array.from({ length: 40 }, (_, i) => `many${i}@dmm.example`)
    // Records of the even MNs only, held by member 1; the odd ones are "not found".
    for (const [i, mn] of mns.entries()) if (i % 2 === 0) await at(1).directory.remember(await sealed(mn, i + 1))
    const answers = await Promise.all(mns.map(async mn => await requestRecord(at(0).node, at(1).node.peerId, requestFrames({ op: 'get', key: keyOf(mn) }, maar0.certificate), AbortSignal.timeout(20_000), d.trust)))
    for (const [i, a] of answers.entries()) {
      assert.equal(a.header.ok, true, `answer ${i}: ${a.header.error ?? ''}`)
      assert.equal(a.header.found, i % 2 === 0, `answer ${i} found`)
      if (i % 2 === 0) assert.equal(peekSessionRecord(a.record as Uint8Array).mnId, mns[i], `answer ${i} is its own MN's record`)
    }
    assert.equal(recordStreams(at(0).node, at(1).node.peerId).length, 1, 'one kept record stream from member 0 to member 1')
  })

  it('a requester\'s certificate is checked in full when new on its stream: another MAAR\'s certificate after a good one is refused, and one that expired while its stream was open is refused', async () => {
    const [maar0, maar1] = d.maars
    assert.ok(maar0 !== undefined && maar1 !== undefined)
    const get = async (certificate: Uint8Array): Promise<Awaited<ReturnType<typeof requestRecord>>> =>
      await requestRecord(at(0).node, at(1).node.peerId, requestFrames({ op: 'get', key: keyOf('cert-check@dmm.example') }, certificate), AbortSignal.timeout(20_000), d.trust)
    assert.equal((await get(maar0.certificate)).header.ok, true, 'its own certificate')
    const foreign = await get(maar1.certificate)
    assert.equal(foreign.header.ok, false, 'member 1\'s certificate presented by member 0')
    assert.match(foreign.header.error ?? '', /not a MAAR of the domain/)
    assert.ok(at(1).lines.some(l => l.includes('issued to')), 'the holder said whose certificate it was')
    const shortLived = await issueCertificate(d.operator, { domain: 'dmm.example', peerId: maar0.peerId, pools: [maar0.pool], addresses: [maar0.address], notAfter: Date.now() + 1500 })
    assert.equal((await get(shortLived)).header.ok, true, 'the short-lived certificate while valid')
    assert.equal((await get(shortLived)).header.ok, true, 'again on the same stream')
    await eventually('the short-lived certificate to expire', () => Date.now() > expiry(shortLived))
    const expired = await get(shortLived)
    assert.equal(expired.header.ok, false, 'the same bytes once expired')
    assert.ok(at(1).lines.some(l => l.includes('expired at')), 'the holder said it expired')
    assert.equal((await get(maar0.certificate)).header.ok, true, 'a valid certificate still gets answers')
  })

  it('a malformed frame on one stream ends that stream only; the kept stream still answers', async () => {
    const maar0 = d.maars[0]
    assert.ok(maar0 !== undefined)
    const mn = 'kept@dmm.example'
    await at(1).directory.remember(await sealed(mn, 7))
    const get = async (): Promise<number | undefined> => {
      const a = await requestRecord(at(0).node, at(1).node.peerId, requestFrames({ op: 'get', key: keyOf(mn) }, maar0.certificate), AbortSignal.timeout(20_000), d.trust)
      return a.record === undefined ? undefined : peekSessionRecord(a.record).sequence
    }
    assert.equal(await get(), 7)
    const [kept] = recordStreams(at(0).node, at(1).node.peerId)
    assert.ok(kept !== undefined)
    // A second stream from member 0: a request whose header is not JSON.
    const bad = await at(0).node.dialProtocol(at(1).node.peerId, RECORD_PROTOCOL)
    const lp = lpStream(bad)
    await lp.writeV([new TextEncoder().encode('{not json'), maar0.certificate])
    const refusal = JSON.parse(new TextDecoder().decode((await lp.read({ signal: AbortSignal.timeout(20_000) })).subarray())) as { ok: boolean, error: string }
    assert.deepEqual(refusal, { ok: false, error: 'bad request' })
    await assert.rejects(lp.read({ signal: AbortSignal.timeout(20_000) }), (err: Error) => err.name !== 'AbortError' && err.name !== 'TimeoutError')
    await eventually('the refusal to be logged', () => at(1).lines.some(l => l.startsWith(`refused record request from ${at(0).node.peerId.toString()}: bad request`)))
    // A third stream: a frame announced over the bound (100 MB), after a valid GET header and certificate.
    const big = await at(0).node.dialProtocol(at(1).node.peerId, RECORD_PROTOCOL)
    const bigLp = lpStream(big)
    await bigLp.writeV([new TextEncoder().encode(JSON.stringify({ op: 'put', key: keyOf(mn) })), maar0.certificate])
    big.send(new Uint8Array([0x80, 0x80, 0x80, 0x32]))
    await assert.rejects(bigLp.read({ signal: AbortSignal.timeout(20_000) }), (err: Error) => err.name !== 'AbortError' && err.name !== 'TimeoutError')
    // The kept stream is the same one and still answers: no stream is opened for the next GET.
    const before = recordStreams(at(0).node, at(1).node.peerId).map(s => s.id)
    assert.ok(before.includes(kept.id), `kept stream ${kept.id} still open (${before.join()})`)
    assert.equal(await get(), 7)
    assert.deepEqual(recordStreams(at(0).node, at(1).node.peerId).map(s => s.id), before)
  })

  async function sealed (mn: string, sequence: number): Promise<Uint8Array> {
    const maar1 = d.maars[1]
    assert.ok(maar1 !== undefined)
    return await sealSessionRecord(sessionAt(mn, sequence, maar1), maar1.key, [maar1.certificate])
  }
})
