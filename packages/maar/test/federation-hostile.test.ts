/**
 * Hostile peers across the border (doc/ARCHITECTURE.md "Federation"), with real libp2p nodes:
 * a MAAR of B cannot write into A's DHT, cannot claim A's pools or tunnel addresses even with a
 * certificate B's operator signed, is refused when out of the agreement's scope or after it
 * expired, and a MAAR certified by a key that is not B's operator is cut off at the hello.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { MemoryNetwork } from '@dmm-mesh/dataplane'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKey, issueCertificate, meshServices, requestFrames, requestRecord, requestSignal, routingTable, sealSessionRecord, sessionKey } from '@dmm-mesh/discovery'
import { BINDING_ACK_STATUS } from '@dmm-mesh/wire'
import { buildPbu, createLogger, dialAddress, readPba, silentSink, startMaar } from '../src/index.js'
import type { RunningMaar } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'
import { startFederation } from './federation-fixture.js'
import type { FederationFixture } from './federation-fixture.js'

/** A MAAR of domain `label` certified by `operator` (default its real operator) for `pool` and `address`. */
async function rogue (f: FederationFixture, label: string, pool: string, address: string, operator?: PrivateKey): Promise<RunningMaar> {
  const d = f.fed.domain(label)
  const key = await generateKey()
  const certificate = await issueCertificate(operator ?? d.operatorKey, { domain: d.domain, peerId: peerIdFromPrivateKey(key).toString(), pools: [pool], addresses: [address], notAfter: Date.now() + 86400_000 })
  const first = d.mesh.maars[0]
  assert.ok(first)
  const gateways = f.fed.domains.filter(x => x !== d).map(x => x.mesh.maars[0]).filter(m => m !== undefined).map(dialAddress)
  return await startMaar({
    init: { name: `rogue-${label}`, address, pools: [pool] },
    privateKey: key,
    certificate,
    trust: d.mesh.trust,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [dialAddress(first)],
    cacheDir: join(first.dataDir, '..', `rogue-${address}`),
    // Its own simulated router: the shared network would refuse a pool that overlaps A's.
    dataplane: () => new MemoryNetwork().createDataPlane({ name: `rogue-${label}`, address, pools: [pool] }),
    log: createLogger('rogue', silentSink),
    federation: { agreements: d.agreements, gateways: () => gateways }
  })
}

/** `from` sends `to` a PBU as the serving MAAR of `mnId` with `localPrefix`, bypassing its own checks. */
async function registerAt (from: RunningMaar, to: RunningMaar, mnId: string, localPrefix: string): Promise<ReturnType<typeof readPba>> {
  const { ack } = await from.maar.transport.exchange({ peerId: to.maar.peerId, multiaddrs: to.maar.multiaddrs() }, buildPbu({
    mnId, sequence: 7, lifetime: 400, timestampMs: Date.now(), anchoredPrefixes: [], localPrefix, servingAddress: from.maar.address, accessTechnology: 3
  }))
  return readPba(ack)
}

async function attachAt (f: FederationFixture, m: RunningMaar, mnId: string): ReturnType<RunningMaar['maar']['attach']> {
  return await m.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:0e' })
}

describe('federation: hostile peers (real libp2p nodes)', function () {
  let f: FederationFixture | undefined
  const rogues: RunningMaar[] = []
  afterEach(async () => {
    for (const r of rogues.splice(0)) await r.stop()
    await f?.stop()
    f = undefined
  })
  const twoDomains = async (more: Partial<Parameters<typeof startFederation>[0]> = {}): Promise<FederationFixture> => await startFederation({
    domains: [{ label: 'a', count: 2 }, { label: 'b', count: 1 }],
    agreements: [{ issuer: 'a', subject: 'b', policy: { prefixes: 'tunnel' } }, { issuer: 'b', subject: 'a', policy: { prefixes: 'tunnel' } }],
    ...more
  })

  it('a MAAR of B cannot PUT a record into A\'s DHT, nor enter its routing table, though it is connected for PBU/PBA', async () => {
    f = await twoDomains()
    await f.move('judy', 'a1')
    await f.move('judy', 'b1')
    const a1 = f.maar('a1')
    const b1 = f.maar('b1')
    assert.ok(a1.node.getConnections(b1.node.peerId).length > 0, 'b1 is connected to a1 (border lookup, PBU/PBA)')
    assert.equal(meshServices(a1.node).membership.isMember(b1.node.peerId), false)
    assert.equal(meshServices(a1.node).membership.isGuest(b1.node.peerId), true)
    const kadId = createHash('sha256').update(sessionKey('judy')).digest()
    assert.equal(routingTable(meshServices(a1.node).dht).closestPeers(kadId, { count: 20 }).some(p => p.equals(b1.node.peerId)), false)
    // b1 forges a session naming itself as judy's only anchor, sequence far ahead, and PUTs it at a1.
    const forged = await sealSessionRecord({ mnId: 'judy', sequence: 99, issuedAt: Date.now(), serving: { peerId: b1.maar.peerId, address: b1.address, multiaddrs: [] }, anchors: [] }, b1.key, [b1.certificate])
    const key = sessionKey('judy')
    const answer = await requestRecord(b1.node, a1.node.peerId, requestFrames({ op: 'put', key: new TextDecoder().decode(key) }, b1.certificate, forged), requestSignal(5000), f.fed.domain('b').mesh.trust).catch(err => ({ header: { ok: false, error: String(err) } }))
    assert.equal(answer.header.ok, false)
    assert.match(answer.header.error ?? '', /not a MAAR of the domain/)
    assert.notEqual(meshServices(a1.node).sessions.get(key)?.record.sequence, 99)
    assert.ok(((await f.maar('a2').maar.lookupSession('judy'))?.sequence ?? 0) < 99, 'A\'s DHT does not hold the forged record')
  })

  it('a MAAR of B certified by B\'s operator for A\'s pool, or for one of A\'s tunnel addresses, is refused by A\'s anchor naming the agreement', async () => {
    f = await twoDomains()
    await f.move('ken', 'a1')
    const stealsPool = await rogue(f, 'b', '2001:db8:102::/48', '2001:db8:ffff:200::9')
    rogues.push(stealsPool)
    const report = await attachAt(f, stealsPool, 'ken')
    assert.equal(report.peers[0]?.status, 'ADMINISTRATIVELY_PROHIBITED')
    assert.match(report.peers[0]?.error ?? '', /agreement a-accepts-b: prefix 2001:db8:102:[0-9a-f:]*\/64 lies outside the agreed pools 2001:db8:200::\/40/)
    assert.equal((await f.maar('a1').maar.bindings()).find(e => e.mnId === 'ken')?.attached, true, 'a1 still serves ken: nothing was tunnelled')

    await f.move('liam', 'a1')
    const stealsAddress = await rogue(f, 'b', '2001:db8:2ff::/48', '2001:db8:ffff:100::2')
    rogues.push(stealsAddress)
    // A's gateway does not even answer its lookup...
    const second = await attachAt(f, stealsAddress, 'liam')
    assert.equal(second.kind, 'first-attach')
    // ...and a PBU it sends a1 anyway, as if it served liam, is refused at a1.
    const a1 = f.maar('a1')
    const pba = await registerAt(stealsAddress, a1, 'liam', '2001:db8:2ff::/64')
    assert.equal(pba.status, BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED)
    assert.match(pba.reason ?? '', /b.example refused: agreement a-accepts-b: tunnel address 2001:db8:ffff:100::2 lies outside the agreed addresses 2001:db8:ffff:200::\/56/)
    assert.equal((await a1.maar.bindings()).find(e => e.mnId === 'liam')?.attached, true, 'a1 still serves liam')
  })

  it('a MAAR certified by a key that is not B\'s operator is cut off at the hello; its attach cannot reach A', async () => {
    f = await twoDomains()
    await f.move('mia', 'a1')
    const impostor = await rogue(f, 'b', '2001:db8:2fe::/48', '2001:db8:ffff:200::8', await generateKey()).catch(err => err as Error)
    // Its own domain refuses it first: the certificate is not B's operator's.
    assert.ok(impostor instanceof Error && /certificate: not valid for this MAAR: certificate unknown-operator/.test(impostor.message), String(impostor))
  })

  it('out of scope: an agreement naming other MAARs of B: A refuses b1\'s lookup and its PBU, naming the agreement', async () => {
    const other = peerIdFromPrivateKey(await generateKey()).toString()
    f = await startFederation({
      domains: [{ label: 'a', count: 1 }, { label: 'b', count: 1 }],
      agreements: [{ issuer: 'a', subject: 'b', policy: { prefixes: 'tunnel' }, maars: [other] }, { issuer: 'b', subject: 'a', policy: { prefixes: 'tunnel' } }]
    })
    await f.move('noah', 'a1')
    // A's gateway refuses the lookup itself: b1 learns nothing of noah's session in A.
    const cross = await f.move('noah', 'b1')
    assert.equal(cross.kind, 'first-attach')
    assert.equal(cross.peers.length, 0)
    // A PBU b1 sends a1 anyway is refused naming the agreement's scope.
    const pba = await registerAt(f.maar('b1'), f.maar('a1'), 'noah', cross.localPrefix)
    assert.equal(pba.status, BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED)
    assert.match(pba.reason ?? '', /b\.example refused: agreement a-accepts-b: MAAR 12D3\w+ is not in its scope/)
  })

  it('expired mid-run: A\'s anchor refuses the next cross-border registration saying when it expired', async () => {
    let skew = 0
    f = await twoDomains({ clock: () => Date.now() + skew, lifetimeCheckIntervalMs: 0, agreements: [{ issuer: 'a', subject: 'b', policy: { prefixes: 'tunnel' }, notAfter: Date.now() + 30_000 }, { issuer: 'b', subject: 'a', policy: { prefixes: 'tunnel' } }] })
    await f.move('olga', 'a1')
    skew = 60_000
    const cross = await f.move('olga', 'b1')
    assert.equal(cross.peers[0]?.status, 'ADMINISTRATIVELY_PROHIBITED')
    assert.match(cross.peers[0]?.error ?? '', /agreement a-accepts-b: expired: a-accepts-b expired at/)
  })
})
