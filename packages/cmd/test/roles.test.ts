/**
 * Roles (draft-bernardos-dmm-pmip §3): a MAAR certificate cannot act as a CMD, nor a CMD
 * certificate as a MAAR; a CMD relays only with the serving MAAR's locator, checked against that
 * MAAR's own certificate; the CMD applies RFC 5213's processing rules.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TrustStore, generateKey, issueCertificate, openSessionRecord, sealSessionRecord, RecordError } from '@dmm-mesh/discovery'
import { MemoryNetwork } from '@dmm-mesh/dataplane'
import {
  CmdSignaller, MaarStartError, PbuSender, RFC5213_TIMING, Retransmitter, buildPbu, createLogger, silentSink, startMaar
} from '@dmm-mesh/maar'
import { CmdStartError, startCmd } from '../src/index.js'
import { CMD_ADDRESS, createCmdDomain } from './cmd-fixture.js'
import type { CmdDomain } from './cmd-fixture.js'

const log = createLogger('test', silentSink)

describe('CMD and MAAR roles', function () {
  this.timeout(120_000)
  let d: CmdDomain
  before(async () => { d = await createCmdDomain({ mode: 'relay', count: 2, log: line => { if (process.env.CMD_TEST_LOG !== undefined) console.log(line) } }) })
  after(async () => { await d?.stop() })

  it('a MAAR certificate cannot start a CMD', async () => {
    const m = d.m(1)
    await assert.rejects(startCmd({
      init: { name: 'fake-cmd', address: m.address, mode: 'relay' }, privateKey: m.key, certificate: m.certificate, trust: d.mesh.trust,
      listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], dataDir: join(d.dir, 'fake-cmd'), log
    }), (err: unknown) => err instanceof CmdStartError && err.resource === 'certificate' && /role maar, not for a CMD/.test(err.message))
  })

  it('a CMD certificate cannot start a MAAR', async () => {
    const key = await generateKey()
    const certificate = await issueCertificate(d.mesh.operatorKey, { role: 'cmd', domain: 'dmm.example', peerId: peerIdFromPrivateKey(key).toString(), pools: [], addresses: ['2001:db8:fffe::2'], notAfter: Date.now() + 86400_000 })
    const network = new MemoryNetwork()
    await assert.rejects(startMaar({
      init: { name: 'fake-maar', address: '2001:db8:fffe::2', pools: ['2001:db8:99::/48'] }, privateKey: key, certificate, trust: d.mesh.trust,
      listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], cacheDir: join(d.dir, 'fake-maar'), log,
      dataplane: () => network.createDataPlane({ name: 'fake-maar', address: '2001:db8:fffe::2', pools: ['2001:db8:99::/48'] })
    }), (err: unknown) => err instanceof MaarStartError && err.resource === 'certificate' && /role cmd, not for a MAAR/.test(err.message))
  })

  it('a CMD certificate cannot hold pools, and a record signed by a CMD is refused', async () => {
    const key = await generateKey()
    const peerId = peerIdFromPrivateKey(key).toString()
    await assert.rejects(issueCertificate(d.mesh.operatorKey, { role: 'cmd', domain: 'dmm.example', peerId, pools: ['2001:db8:99::/48'], addresses: [CMD_ADDRESS], notAfter: Date.now() + 1000 }), /grants no pools/)
    const cert = await issueCertificate(d.mesh.operatorKey, { role: 'cmd', domain: 'dmm.example', peerId, pools: [], addresses: [CMD_ADDRESS], notAfter: Date.now() + 86400_000 })
    const sealed = await sealSessionRecord({ mnId: 'x@dmm.example', sequence: 9, issuedAt: Date.now(), serving: null, anchors: [] }, key, [cert])
    await assert.rejects(openSessionRecord(sealed, d.mesh.trust), (err: unknown) => err instanceof RecordError && err.reason === 'signer-not-maar')
  })

  it('a MAAR\'s CMD signaller refuses the answer of a peer that is not certified as CMD', async () => {
    const m1 = d.m(1)
    const m2 = d.m(2)
    const sender = new PbuSender(m1.maar.transport, log)
    const retransmitter = new Retransmitter(sender, RFC5213_TIMING, Date.now, { isCurrent: () => false, answered: async () => {} }, log)
    const signaller = new CmdSignaller({ peerId: m2.maar.peerId, multiaddrs: m2.maar.multiaddrs() }, { sender, retransmitter, lateAnswer: async () => {}, log })
    const { PMaarList } = await import('@dmm-mesh/maar')
    await assert.rejects(signaller.register({
      mnId: 'mallory@dmm.example', sequence: 1, timestampMs: Date.now(), lifetime: 3600, servingAddress: m1.address, accessTechnology: 3, previous: new PMaarList(m1.maar.peerId)
    }), /certified as maar/)
    retransmitter.stop()
  })

  it('a P-MAAR refuses a relayed PBU without the serving MAAR\'s locator, or with an address not certified for it', async () => {
    const mn = 'relay-check@dmm.example'
    const r = await d.move(mn, 1)
    const to = { peerId: d.m(1).maar.peerId, multiaddrs: d.m(1).maar.multiaddrs() }
    const base = { mnId: mn, sequence: 40, lifetime: 3600, timestampMs: Date.now(), anchoredPrefixes: [r.localPrefix], servingAddress: d.m(2).address }
    const noLocator = await d.cmd.cmd.transport.exchange(to, buildPbu(base))
    assert.equal(noLocator.ack.status, 129)
    const forged = await d.cmd.cmd.transport.exchange(to, buildPbu({
      ...base, timestampMs: Date.now(), servingAddress: '2001:db8:ffff::99', servingLocator: { peerId: d.m(2).maar.peerId, address: '2001:db8:ffff::99', multiaddrs: d.m(2).maar.multiaddrs() }
    }))
    assert.equal(forged.ack.status, 129)
    assert.equal((await d.m(1).maar.bindings()).find(e => e.mnId === mn)?.attached, true, 'the binding did not change')
  })

  it('the CMD applies RFC 5213: 160 without MN-ID, 156 ahead of its clock, 157 not after the last accepted', async () => {
    const mn = 'rules@dmm.example'
    await d.move(mn, 1)
    const cmd = { peerId: d.cmd.cmd.peerId, multiaddrs: d.cmd.cmd.multiaddrs() }
    const transport = d.m(2).maar.transport
    const pbu = (timestampMs: number): ReturnType<typeof buildPbu> => buildPbu({ mnId: mn, sequence: 7, lifetime: 3600, timestampMs, anchoredPrefixes: [], servingAddress: d.m(2).address })
    const noId = pbu(Date.now())
    const withoutId = { ...noId, options: noId.options.filter(o => o.type !== 'mn-identifier') }
    assert.equal((await transport.exchange(cmd, withoutId)).ack.status, 160)
    // The same rule at a MAAR (anchor-side.ts shares buildPba): a PBA, not a reset stream.
    assert.equal((await transport.exchange({ peerId: d.m(1).maar.peerId, multiaddrs: d.m(1).maar.multiaddrs() }, withoutId)).ack.status, 160)
    assert.equal((await transport.exchange(cmd, pbu(Date.now() + 60_000))).ack.status, 156)
    assert.equal((await transport.exchange(cmd, pbu(1000))).ack.status, 157)
    assert.equal(d.cmd.cmd.session(mn)?.serving.address, d.m(1).address, 'the session did not change')
  })
})
