import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { RecordEnvelope } from '@libp2p/peer-record'
import type { Libp2p } from '@libp2p/interface'
import { RECORD_PROTOCOL, RecordError, SessionDirectory, TrustStore, createMeshNode, generateKey, issueCertificate, meshServices, sealSessionRecord, sessionKey } from '../src/index.js'
import type { SessionRecord } from '../src/index.js'
import { requestFrames, requestRecord } from '../src/record-protocol.js'
import { KadIds } from '../src/closest.js'
import { eventually, makeDomain, makeMaar, sessionAt } from './fixtures.js'
import type { TestDomain, TestMaar } from './fixtures.js'

const COUNT = 10

interface Member { maar: TestMaar, node: Libp2p, directory: SessionDirectory, lines: string[] }

const routingTableSize = (node: Libp2p): number => ((node.services.dht as { routingTable?: { size: number } }).routingTable?.size ?? 0)

async function join (maar: TestMaar, trust: TrustStore, bootstrap: Libp2p[]): Promise<Member> {
  const node = await createMeshNode({
    privateKey: maar.key,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: bootstrap.map(n => n.getMultiaddrs()[0]?.toString() ?? ''),
    trust
  })
  const lines: string[] = []
  // The 500 ms default bounds a GET on the handover's critical path; a loaded CI machine can take
  // longer to dial, and these tests are about which record wins, not about speed.
  const directory = new SessionDirectory(node, { privateKey: maar.key, certificate: maar.certificate, trust, requestTimeoutMs: 5000, log: line => { lines.push(line) } })
  await directory.start()
  return { maar: { ...maar, ref: { ...maar.ref, multiaddrs: node.getMultiaddrs().map(a => a.toString()) } }, node, directory, lines }
}

describe(`session directory: ${COUNT} MAARs on loopback`, function () {
  this.timeout(120_000)
  let d: TestDomain
  const members: Member[] = []
  const at = (i: number): Member => members[i] as Member
  const MN = 'carol@dmm.example'

  before(async () => {
    d = await makeDomain(COUNT)
    for (const maar of d.maars) members.push(await join(maar, d.trust, members.map(m => m.node)))
    await eventually('every routing table to hold the other MAARs', () => members.every(m => routingTableSize(m.node) >= COUNT - 1))
  })

  after(async () => {
    for (const m of members) {
      await m.directory.stop()
      await m.node.stop()
    }
  })

  it('a record published on one MAAR is found by every other one straight from its peers', async () => {
    const record = sessionAt(MN, 1, at(0).maar)
    await at(0).directory.publish(record, [])
    for (const m of members.slice(1)) {
      const found = await m.directory.lookup(MN)
      assert.ok(found !== undefined, `${m.maar.peerId} found nothing`)
      assert.deepEqual(found.record, record)
      assert.equal(found.signer, at(0).maar.peerId)
      assert.equal(found.source, 'direct')
      assert.equal(found.asked, 3)
    }
  })

  it('a MN nobody published is not found, without a DHT get', async () => {
    const found = await at(4).directory.lookup('nobody@dmm.example')
    assert.equal(found, undefined)
  })

  it('an update with a higher sequence wins; the older one cannot come back', async () => {
    const old = await at(0).directory.lookup(MN)
    assert.equal(old?.record.sequence, 1)
    const moved: SessionRecord = { ...sessionAt(MN, 2, at(1).maar, [at(0).maar], 1_700_000_100_000) }
    await at(1).directory.publish(moved, [at(0).maar.certificate])
    for (const m of members) {
      const found = await m.directory.lookup(MN)
      assert.equal(found?.record.sequence, 2, `${m.maar.peerId} sees the update`)
      // Decoded only when read (lookup.ts): the publisher's and the anchor's, as the record carries them.
      assert.deepEqual(found?.certificates.map(c => Buffer.from(c).toString('base64')).sort(), [at(1).maar.certificate, at(0).maar.certificate].map(c => Buffer.from(c).toString('base64')).sort(), `${m.maar.peerId}: the record's certificates`)
      assert.equal(found?.record.serving?.peerId, at(1).maar.peerId)
    }
    // MAAR1 re-publishing its stale view is refused by the peers holding the newer record.
    await assert.rejects(at(0).directory.publish(sessionAt(MN, 1, at(0).maar, [], 1_700_000_200_000), []),
      (err: Error) => (err instanceof RecordError && err.reason === 'stale') || /no peer accepted/.test(err.message))
    for (const m of members) assert.equal((await m.directory.lookup(MN))?.record.sequence, 2)
  })

  it('withdraw publishes a serving:null record that supersedes the session', async () => {
    await at(1).directory.withdraw(MN, 3)
    for (const m of members) {
      const found = await m.directory.lookup(MN)
      assert.equal(found?.record.sequence, 3)
      assert.equal(found?.record.serving, null)
      assert.deepEqual(found?.record.anchors, [])
    }
  })

  it('the stock kad-dht get finds the record too (validator and selector on the DHT path)', async () => {
    for (const m of members) await m.directory.flush() // the coalesced walks too (dht-publication.ts)
    const found = await at(7).directory.lookupStock(MN)
    assert.equal(found?.source, 'dht')
    assert.equal(found?.record.sequence, 3)
    assert.ok((found?.asked ?? 0) > 0)
  })

  it('a domain MAAR that PUTs forged records is refused, with a log line naming it and the reason', async () => {
    const mn = 'dave@dmm.example'
    const key = sessionKey(mn)
    await at(2).directory.publish(sessionAt(mn, 5, at(2).maar), [])
    const hostileMaar = await makeMaar(d.operator, 0x66)
    const hostile = await join(hostileMaar, d.trust, [at(0).node])
    try {
      const target = at(3)
      // Dial by address: otherwise libp2p first looks the target up in the DHT (1-6 s here).
      await hostile.node.dial(target.node.getMultiaddrs())
      const put = async (bytes: Uint8Array): Promise<{ ok: boolean, error?: string }> =>
        (await requestRecord(hostile.node, target.node.peerId, requestFrames({ op: 'put', key: new TextDecoder().decode(key) }, hostileMaar.certificate, bytes), AbortSignal.timeout(10_000), d.trust)).header
      // 1. Claims to be signed for MAAR3 but signed by itself, sequence bumped to hijack the MN.
      const hijack = await sealSessionRecord(sessionAt(mn, 99, at(2).maar), hostileMaar.key, [hostileMaar.certificate, at(2).maar.certificate])
      const r1 = await put(hijack)
      assert.equal(r1.ok, false)
      assert.match(r1.error ?? '', /signer-not-serving/)
      // 2. A genuine record with its payload altered.
      const genuine = RecordEnvelope.createFromProtobuf(await sealSessionRecord(sessionAt(mn, 6, hostile.maar), hostileMaar.key, [hostileMaar.certificate]))
      const altered = new TextEncoder().encode(new TextDecoder().decode(genuine.payload).replace('"sequence":6', '"sequence":100'))
      const r2 = await put(new RecordEnvelope({ ...genuine, payload: altered }).marshal())
      assert.equal(r2.ok, false)
      assert.match(r2.error ?? '', /bad-signature/)
      // 3. An anchor inside another MAAR's pool.
      const stolen = { ...sessionAt(mn, 101, hostile.maar), anchors: [{ ...hostile.maar.ref, prefix: '2001:db8:3:1::/64', lifetime: 60 }] }
      const r3 = await put(await sealSessionRecord(stolen, hostileMaar.key, [hostileMaar.certificate]))
      assert.match(r3.error ?? '', /anchor-outside-pools/)
      const dropped = target.lines.filter(l => l.startsWith(`dropped record from ${hostileMaar.peerId}`))
      assert.equal(dropped.length, 3, target.lines.join('\n'))
      assert.ok(dropped.some(l => l.includes('signer-not-serving')))
      for (const m of members) assert.equal((await m.directory.lookup(mn))?.record.sequence, 5, 'nobody believed the hostile PUTs')
    } finally {
      await hostile.directory.stop()
      await hostile.node.stop()
    }
  })

  it('a GET answer carrying a forged record is dropped, and the honest peers still answer', async () => {
    const hostileMaar = await makeMaar(d.operator, 0x67)
    const hostile = await join(hostileMaar, d.trust, members.map(m => m.node))
    try {
      // A MN whose key the hostile MAAR is among the three closest peers to, as MAAR 5 sees it:
      // among every peer MAAR 5 may know (its peer store holds its routing table too, including
      // nodes earlier tests stopped), so no stale peer can push the hostile one out of the three.
      const looker = at(5)
      const ids = new KadIds()
      const known = new Map((await looker.node.peerStore.all()).map(p => [p.id.toString(), p.id]))
      for (const m of [...members.map(x => x.node), hostile.node]) known.set(m.peerId.toString(), m.peerId)
      known.delete(looker.node.peerId.toString())
      let mn = ''
      for (let i = 0; ; i++) {
        mn = `erin${i}@dmm.example`
        if (ids.closest([...known.values()], sessionKey(mn), 3).some(p => p.equals(hostile.node.peerId))) break
      }
      await at(2).directory.publish(sessionAt(mn, 4, at(2).maar), [])
      const forged = await sealSessionRecord(sessionAt(mn, 50, hostile.maar), hostileMaar.key, []) // no certificate at all
      await hostile.node.handle(RECORD_PROTOCOL, async (stream) => {
        const { lpStream } = await import('@libp2p/utils')
        const lp = lpStream(stream)
        await lp.read()
        await lp.read()
        await lp.writeV([new TextEncoder().encode(JSON.stringify({ ok: true, found: true })), hostileMaar.certificate, forged])
        await stream.close()
      }, { force: true })
      // Record streams kept from before are served by the honest handler: the hostile one ends them.
      for (const s of hostile.node.getConnections().flatMap(c => c.streams)) if (s.protocol === RECORD_PROTOCOL) s.abort(new Error('hostile now'))
      // A lookup asks only peers proven members (member-peers.ts): on a loaded machine the hostile
      // MAAR's proof to MAAR 5 may still be under way.
      await eventually('MAAR 5 to know the hostile MAAR as a member', () => meshServices(looker.node).membership.isMember(hostile.node.peerId))
      const found = await looker.directory.lookup(mn)
      assert.equal(found?.record.sequence, 4)
      assert.equal(found?.source, 'direct')
      // The lookup may settle on the honest answers before the hostile one is in and dropped.
      await eventually('the forged answer to be dropped', () => looker.lines.some(l => l.startsWith(`dropped record from ${hostileMaar.peerId}`) && l.includes('signer-not-in-domain')))
    } finally {
      await hostile.directory.stop()
      await hostile.node.stop()
    }
  })

  it('a member that joins after a lookup is asked by the next one (the member list follows connections)', async () => {
    const looker = at(1)
    assert.equal(await looker.directory.lookup('nobody-before-join@dmm.example'), undefined)
    const lateMaar = await makeMaar(d.operator, 0x68)
    const late = await join(lateMaar, d.trust, members.map(m => m.node))
    try {
      await eventually('MAAR 1 to know the new MAAR as a member', () => meshServices(looker.node).membership.isMember(late.node.peerId))
      // An MN whose key the new MAAR is closest to, and a record only the new MAAR holds.
      const ids = new KadIds()
      const others = [...members.map(m => m.node.peerId), late.node.peerId].filter(p => !p.equals(looker.node.peerId))
      let mn = ''
      for (let i = 0; ; i++) {
        mn = `frank${i}@dmm.example`
        if (ids.closest(others, sessionKey(mn), 1)[0]?.equals(late.node.peerId) === true) break
      }
      const bytes = await sealSessionRecord(sessionAt(mn, 2, late.maar), lateMaar.key, [lateMaar.certificate])
      await meshServices(late.node).sessions.offer(sessionKey(mn), bytes)
      const found = await looker.directory.lookup(mn)
      assert.equal(found?.record.sequence, 2)
      assert.equal(found?.source, 'direct')
      // Asked among the members MAAR 1 knows, not found by a walk toward the key.
      assert.equal(found?.walked, false)
    } finally {
      await late.directory.stop()
      await late.node.stop()
    }
  })

  it('in a domain a walk showed complete a publication walks no more, and the kad-dht get still finds the newest record', async () => {
    const publisher = at(3).directory
    // The MAARs earlier tests stopped stay in MAAR 3's routing table for a while; a direct PUT to
    // one of them fails, and a failed PUT rightly calls for the walk. So the MN is one whose three
    // closest peers, among every peer MAAR 3 ever saw, are live members.
    const ids = new KadIds()
    const live = new Set(members.map(m => m.node.peerId.toString()))
    const seen = (await at(3).node.peerStore.all()).map(p => p.id).filter(p => !p.equals(at(3).node.peerId))
    let mn = ''
    for (let i = 0; ; i++) {
      mn = `gina${i}@dmm.example`
      if (ids.closest(seen, sessionKey(mn), 3).every(p => live.has(p.toString()))) break
    }
    // The proof comes from a walk that ends on fewer than k members, all already known
    // (known-domain.ts); a member whose proof was still under way when the walk began spoils one.
    let sequence = 0
    await eventually('a publication walk to show MAAR 3 the whole domain', async () => {
      await publisher.publish(sessionAt(mn, ++sequence, at(3).maar, [], 1_700_000_000_000 + sequence), [])
      await publisher.flush()
      return publisher.knowsWholeDomain()
    })
    const walks = publisher.dhtPuts.walks
    const skipped = publisher.walksSkipped
    await publisher.publish(sessionAt(mn, ++sequence, at(3).maar, [], 1_700_000_000_000 + sequence), [])
    await publisher.settled()
    assert.equal(publisher.walksSkipped, skipped + 1, `${COUNT} MAARs, fewer than k = 20, every one known: no walk`)
    assert.equal(publisher.dhtPuts.walks, walks)
    // The direct PUTs land where kad-dht's GET_VALUE reads (dht-records.ts keepForDht).
    const stock = await at(7).directory.lookupStock(mn)
    assert.equal(stock?.record.sequence, sequence)
    assert.equal(stock?.source, 'dht')
  })

  it('peers that are not MAARs of the domain are refused, with a log line', async () => {
    const rogueOperator = await generateKey()
    const rogueKey = await generateKey()
    const rogueId = (await import('@libp2p/peer-id')).peerIdFromPrivateKey(rogueKey).toString()
    const rogueCert = await issueCertificate(rogueOperator, { domain: 'dmm.example', peerId: rogueId, pools: ['2001:db8:66::/48'], addresses: ['2001:db8:ffff::66'], notAfter: Date.now() + 86400_000 })
    // The rogue trusts the domain's operator too, so that it keeps its side of the connection open.
    const rogueTrust = TrustStore.fromOperatorKeys([{ domain: 'dmm.example', publicKey: rogueOperator.publicKey }, { domain: 'dmm.example', publicKey: d.operator.publicKey }])
    const rogue = await createMeshNode({ privateKey: rogueKey, listen: ['/ip4/127.0.0.1/tcp/0'], trust: rogueTrust, bootstrap: [at(0).node.getMultiaddrs()[0]?.toString() ?? ''] })
    try {
      const target = at(0)
      const answer = await requestRecord(rogue, target.node.peerId, requestFrames({ op: 'get', key: new TextDecoder().decode(sessionKey(MN)) }, rogueCert), AbortSignal.timeout(10_000), rogueTrust)
      assert.equal(answer.header.ok, false)
      assert.equal(answer.record, undefined, 'nothing leaks to outsiders')
      assert.ok(target.lines.some(l => l.startsWith(`refused record request from ${rogueId}`) && l.includes('unknown-operator')), target.lines.join('\n'))
      // Our own certificate presented by the rogue node is refused too (peer-mismatch).
      const stolen = await requestRecord(rogue, target.node.peerId, requestFrames({ op: 'get', key: new TextDecoder().decode(sessionKey(MN)) }, at(1).maar.certificate), AbortSignal.timeout(10_000), rogueTrust)
      assert.equal(stolen.header.ok, false)
      assert.ok(target.lines.some(l => l.includes(rogueId) && l.includes('peer-mismatch')))
    } finally {
      await rogue.stop()
    }
  })

  it('a directory refuses to start with a certificate that is not its own', async () => {
    const directory = new SessionDirectory(at(0).node, { privateKey: at(0).maar.key, certificate: at(1).maar.certificate, trust: d.trust })
    await assert.rejects(directory.start(), /peer-mismatch/)
    assert.throws(() => new SessionDirectory({ services: {} } as unknown as Libp2p, { privateKey: at(0).maar.key, certificate: at(0).maar.certificate, trust: d.trust }), /createMeshNode/)
  })

  it('when a replica is down the others still answer; remember() caches a validated record', async () => {
    const mn = 'frank@dmm.example'
    const record = sessionAt(mn, 1, at(8).maar)
    await at(8).directory.publish(record, [])
    const ids = new KadIds()
    const looker = at(9)
    const replicas = ids.closest(members.filter(m => m !== looker).map(m => m.node.peerId), sessionKey(mn), 3)
    const down = members.find(m => m.node.peerId.equals(replicas[0] as never))
    assert.ok(down !== undefined)
    await looker.node.hangUp(down.node.peerId)
    await down.node.stop()
    try {
      const found = await looker.directory.lookup(mn)
      assert.equal(found?.record.sequence, 1)
    } finally {
      await down.node.start()
    }
    const bytes = await sealSessionRecord({ ...record, sequence: 2 }, at(8).maar.key, [at(8).maar.certificate])
    await looker.directory.remember(bytes)
    assert.equal((await looker.directory.lookup(mn))?.source, 'cache', 'the local copy is newer than every peer answer')
    await assert.rejects(looker.directory.remember(bytes.subarray(0, 40)), RecordError)
    assert.ok(peerIdFromString(at(8).maar.peerId).equals(at(8).node.peerId))
  })
})
