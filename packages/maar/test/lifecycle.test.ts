/**
 * Lifetimes, restart recovery and peers outside the domain, on a small real mesh.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { SessionDirectory, TrustStore, createMeshNode, generateKey, issueCertificate } from '@dmm-mesh/discovery'
import { PMIP_PROTOCOL, PmipTransport, PeerTable, RejectedPeerError, buildPbu, createLogger, createLocalMesh, silentSink } from '../src/index.js'
import type { LocalMesh, LocalMaar } from '../src/index.js'

const LL = '02:00:00:00:00:02'

describe('MAAR lifecycle', function () {
  this.timeout(120_000)
  let dir: string
  let mesh: LocalMesh
  let now = Date.now()
  const lines: string[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-lifecycle-test-'))
    mesh = await createLocalMesh({
      count: 3, dataDir: dir, lifetime: 8, lifetimeCheckIntervalMs: 0, clock: () => now, log: (_l, line) => { lines.push(line) }
    })
  })
  after(async () => {
    await mesh?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const m = (i: number): LocalMaar => {
    const found = mesh.maars[i - 1]
    assert.ok(found, `maar${i} is running`)
    return found
  }

  async function move (mnId: string, i: number): Promise<string> {
    mesh.network.attachMn(mnId, m(i).address)
    const r = await m(i).maar.attach({ mnId, accessLink: 'access0', linkLayerId: LL })
    await m(i).maar.settled()
    return r.localPrefix
  }

  it('the serving MAAR refreshes while the MN is present and de-registers it once it left and its lifetime ran out', async () => {
    const mn = 'kim@dmm.example'
    await move(mn, 1)
    await move(mn, 2)
    now += 6_000 // past half the 8 s lifetime: refreshed, since the MN is still there
    await m(2).maar.checkLifetimes()
    const refreshed = (await m(2).maar.bindings()).find(e => e.mnId === mn)
    assert.equal(refreshed?.expiresAt, now + 8_000)
    await m(2).maar.detach(mn)
    now += 4_000
    await m(2).maar.checkLifetimes()
    assert.ok((await m(2).maar.bindings()).some(e => e.mnId === mn), 'not yet expired')
    now += 5_000
    await m(2).maar.checkLifetimes()
    assert.equal((await m(2).maar.bindings()).find(e => e.mnId === mn), undefined, 'serving MAAR de-registered')
    assert.equal((await m(1).maar.bindings()).find(e => e.mnId === mn), undefined, 'anchor freed the prefix on the lifetime-0 PBU')
    assert.ok(lines.some(l => l.includes('de-registered') && l.includes('lifetime expired')))
  })

  it('an anchor never expires a binding by itself', async () => {
    const mn = 'lee@dmm.example'
    await move(mn, 1)
    await move(mn, 3)
    now += 60_000
    await m(1).maar.checkLifetimes()
    assert.ok((await m(1).maar.bindings()).some(e => e.mnId === mn && !e.attached))
    await m(3).maar.deregister(mn)
  })

  it('a MAAR restarted on its LevelDB directory keeps its bindings, data plane and pool state', async () => {
    const mn = 'mia@dmm.example'
    const p1 = await move(mn, 1)
    const p2 = await move(mn, 2)
    const before = (await m(1).maar.bindings()).map(e => e.mnId).sort()
    await mesh.restartMaar(0)
    const after = (await m(1).maar.bindings()).map(e => e.mnId).sort()
    assert.deepEqual(after, before)
    // The data plane is rebuilt from the binding cache: the old prefix still reaches the MN via maar1.
    const address = mesh.network.mnAddresses(mn).find(a => a.startsWith(p1.split('::')[0] ?? 'x'))
    assert.ok(address, `MN holds an address in ${p1}`)
    const down = mesh.network.traceFromCn(address)
    assert.ok(down.delivered, down.hops.join(' > ') + (down.reason ?? ''))
    assert.equal(down.hops[1], 'maar1')
    // The restarted MAAR never hands out the same prefix twice.
    const p3 = await move('ned@dmm.example', 1)
    assert.notEqual(p3, p1)
    assert.notEqual(p3, p2)
    // And it still answers PBUs: mia moves on to maar3, maar1's prefix follows.
    await move(mn, 3)
    const bce = (await m(1).maar.bindings()).find(e => e.mnId === mn)
    assert.equal(bce?.servingMaar?.address, m(3).address, lines.slice(-15).join('\n'))
  })

  it('drops a malformed mobility message from a domain MAAR with a log line saying what was wrong', async () => {
    const mn = 'pat@dmm.example'
    await move(mn, 2)
    const stream = await m(3).node.dialProtocol(peerIdFromString(m(2).maar.peerId), PMIP_PROTOCOL)
    const lp = lpStream(stream)
    await lp.writeV([m(3).certificate, new TextEncoder().encode(JSON.stringify({ address: m(3).address, multiaddrs: [] }))])
    await lp.read() // maar2's certificate
    await lp.read() // maar2's hello
    // A Mobility Header whose header length claims more bytes than were sent.
    await lp.write(Uint8Array.from([59, 9, 5, 0, 0, 0, 0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0]))
    await assert.rejects(lp.read(), 'maar2 closes the stream instead of answering')
    assert.ok(lines.some(l => l.includes('dropped malformed mobility message') && l.includes(m(3).maar.peerId) && /TRUNCATED|BAD_LENGTH/.test(l)), lines.slice(-5).join('\n'))
    assert.equal((await m(2).maar.bindings()).find(e => e.mnId === mn)?.attached, true, 'binding untouched')
  })

  it('resets at once a PMIP stream whose frame announces 100 MB after the hello, and keeps serving', async () => {
    const stream = await m(3).node.dialProtocol(peerIdFromString(m(2).maar.peerId), PMIP_PROTOCOL)
    const lp = lpStream(stream)
    await lp.writeV([m(3).certificate, new TextEncoder().encode(JSON.stringify({ address: m(3).address, multiaddrs: [] }))])
    await lp.read() // maar2's certificate
    await lp.read() // maar2's hello
    // A varint length prefix of 100,000,000 and a few bytes: no frame that size is ever read.
    const varint: number[] = []
    for (let n = 100_000_000; n >= 0x80; n = Math.floor(n / 128)) varint.push((n % 128) | 0x80)
    varint.push(Math.floor(100_000_000 / 128 ** varint.length))
    stream.send(Uint8Array.from([...varint, 1, 2, 3]))
    await assert.rejects(lp.read(), 'maar2 resets the stream instead of waiting for 100 MB')
    assert.ok(lines.some(l => l.includes('reset PMIP stream') && l.includes(m(3).maar.peerId)), lines.slice(-5).join('\n'))
    // maar2 still answers PBUs on a fresh stream.
    const mn = 'quinn@dmm.example'
    await move(mn, 2)
    await move(mn, 3)
    assert.equal((await m(2).maar.bindings()).find(e => e.mnId === mn)?.servingMaar?.address, m(3).address)
  })

  it('refuses a domain MAAR whose hello gives a tunnel address its certificate does not name', async () => {
    const stream = await m(3).node.dialProtocol(peerIdFromString(m(1).maar.peerId), PMIP_PROTOCOL)
    const lp = lpStream(stream)
    // maar3 pretends to be reachable at maar2's tunnel address, to pull maar1's tunnels to it.
    await lp.writeV([m(3).certificate, new TextEncoder().encode(JSON.stringify({ address: m(2).address, multiaddrs: [] }))])
    await assert.rejects(async () => { await lp.read(); await lp.read(); await lp.read() }, 'maar1 closes the stream')
    assert.ok(lines.some(l => l.includes('rejected PMIP peer') && l.includes(m(3).maar.peerId) && l.includes('not certified')), lines.slice(-3).join('\n'))
  })

  it('refuses PMIP streams from a peer without a certificate of the domain, with a log line', async () => {
    // A node with a certificate from another operator: a valid libp2p peer, not a MAAR of ours.
    const rogueOperator = await generateKey()
    const rogueKey = await generateKey()
    const rogueDomain = 'dmm.example'
    const rogueCert = await issueCertificate(rogueOperator, { domain: rogueDomain, peerId: peerIdFromPrivateKey(rogueKey).toString(), pools: ['2001:db8:66::/48'], addresses: ['2001:db8:66::1'], notAfter: Date.now() + 86400_000 })
    const rogueTrust = new TrustStore([{ domain: rogueDomain, operatorPublicKey: Buffer.from(publicKeyToProtobuf(rogueOperator.publicKey)).toString('base64') }])
    const node = await createMeshNode({ privateKey: rogueKey, listen: ['/ip4/127.0.0.1/tcp/0'], trust: rogueTrust })
    const directory = new SessionDirectory(node, { privateKey: rogueKey, certificate: rogueCert, trust: rogueTrust })
    try {
      const transport = new PmipTransport(node, { address: '2001:db8:66::1', multiaddrs: () => [], certificate: rogueCert }, rogueTrust, new PeerTable(), createLogger('rogue', silentSink))
      const mn = 'olga@dmm.example'
      await move(mn, 2)
      await assert.rejects(transport.exchange({ peerId: m(2).maar.peerId, multiaddrs: m(2).maar.multiaddrs() }, buildPbu({
        mnId: mn, sequence: 1, lifetime: 3600, timestampMs: now + 100_000, anchoredPrefixes: [], servingAddress: '2001:db8:66::1'
      })), (err: Error) => err instanceof RejectedPeerError || /reset|closed|abort|end/i.test(err.message))
      assert.ok(lines.some(l => l.includes('rejected PMIP peer') && l.includes(node.peerId.toString())), 'maar2 logs the refusal naming the peer')
      assert.equal((await m(2).maar.bindings()).find(e => e.mnId === mn)?.attached, true, 'binding untouched')
    } finally {
      await directory.stop().catch(() => {})
      await node.stop()
    }
  })
})
