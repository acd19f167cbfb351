import assert from 'node:assert/strict'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { plaintext } from '@libp2p/plaintext'
import { TrustStore, createMeshNode, issueCertificate, meshServices } from '@dmm-mesh/discovery'
import type { ComponentLogger } from '@libp2p/interface'
import type { Libp2p } from '@libp2p/interface'
import { silentLogger } from '../src/index.js'
import { scaleLogger } from '../src/silent-logger.js'

describe('silentLogger: the scale engine\'s libp2p logger', function () {
  this.timeout(120_000)
  const nodes: Libp2p[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  it('is the logger libp2p, its transport, identify and kad-dht of a mesh node log to, and two such nodes still connect, prove membership and answer pings', async () => {
    const asked = new Set<string>()
    // silentLogger, noting which components asked it for a logger.
    const noting: ComponentLogger = { forComponent: name => { asked.add(name); return silentLogger.forComponent(name) } }
    const operator = await generateKeyPair('Ed25519')
    const trust = new TrustStore([{ domain: 'scale.example', operatorPublicKey: Buffer.from(publicKeyToProtobuf(operator.publicKey)).toString('base64') }])
    for (const i of [1, 2]) {
      const key = await generateKeyPair('Ed25519')
      const certificate = await issueCertificate(operator, { domain: 'scale.example', peerId: peerIdFromPrivateKey(key).toString(), pools: [`2001:db8:${i}::/48`], addresses: [`2001:db8:ffff::${i}`], notAfter: Date.now() + 86400_000 })
      nodes.push(await createMeshNode({ privateKey: key, certificate, trust, listen: [`/memory/silent-${i}-${process.pid}`], transport: 'memory', connectionEncrypter: plaintext(), logger: noting }))
    }
    const [a, b] = nodes as [Libp2p, Libp2p]
    await a.dial(b.getMultiaddrs()[0] ?? assert.fail('no address'))
    assert.ok(await meshServices(a).membership.whenMember(b.peerId), 'b proved its membership to a')
    assert.ok((await (a.services.ping as { ping: (p: typeof b.peerId) => Promise<number> }).ping(b.peerId)) >= 0)
    for (const component of ['libp2p:connection-manager', 'libp2p:memory', 'libp2p:identify', 'libp2p:kad-dht']) assert.ok([...asked].some(n => n.startsWith(component)), `${component} in ${[...asked].join(', ')}`)
  })

  it('logs nothing and hands out one logger for every component and scope', () => {
    const log = silentLogger.forComponent('libp2p:connection')
    assert.equal(log.enabled, false)
    assert.equal(log.newScope('outbound'), log)
    assert.equal(silentLogger.forComponent('libp2p:yamux'), log)
    log('message %s', 'x')
    log.error('error')
    log.trace('trace')
  })

  it('is what scaleLogger picks unless libp2pLogs asks for libp2p\'s own or DEBUG is set (a scenario run with DEBUG=libp2p:*)', () => {
    assert.deepEqual(scaleLogger(undefined, {}), { logger: silentLogger })
    assert.deepEqual(scaleLogger(false, { DEBUG: '' }), { logger: silentLogger }, 'an empty DEBUG names nothing')
    assert.deepEqual(scaleLogger(false, { DEBUG: ' ' }), { logger: silentLogger })
    assert.deepEqual(scaleLogger(undefined, { DEBUG: 'libp2p:*' }), {}, 'DEBUG set: libp2p\'s own logger')
    assert.deepEqual(scaleLogger(false, { DEBUG: 'libp2p:kad-dht*,-libp2p:kad-dht:network' }), {})
    assert.deepEqual(scaleLogger(true, {}), {})
  })
})
