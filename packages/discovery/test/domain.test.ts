import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RecordEnvelope } from '@libp2p/peer-record'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import {
  CertificateError, KeyFileError, TrustStore, decodeCertificateFile, encodeCertificateFile, generateKey, issueCertificate,
  readCertificateFile, readKeyFile, writeCertificateFile, writeKeyFile
} from '../src/index.js'

const DAY = 86400_000

describe('domain: keys, certificates and the trust store', () => {
  let operator: PrivateKey
  let maar: PrivateKey
  let peerId: string
  let trust: TrustStore
  let dir: string

  before(async () => {
    operator = await generateKey()
    maar = await generateKey()
    peerId = peerIdFromPrivateKey(maar).toString()
    trust = TrustStore.fromOperatorKeys([{ domain: 'dmm.example', publicKey: operator.publicKey }])
    dir = await mkdtemp(join(tmpdir(), 'dmm-domain-'))
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  const issue = async (over: Partial<{ domain: string, peerId: string, pools: string[], addresses: string[], notBefore: number, notAfter: number }> = {}, key = operator): Promise<Uint8Array> =>
    await issueCertificate(key, { domain: 'dmm.example', peerId, pools: ['2001:db8:1::/48'], addresses: ['2001:db8:ffff::1'], notAfter: Date.now() + DAY, ...over })

  const rejects = async (p: Promise<unknown>, reason: string): Promise<void> => {
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof CertificateError, `expected CertificateError, got ${String(err)}`)
      assert.equal(err.reason, reason, err.message)
      return true
    })
  }

  it('issues a certificate that verifies and says who holds which pools until when', async () => {
    const notAfter = Date.now() + DAY
    const cert = await trust.verify(await issue({ notAfter, pools: ['2001:db8:1::/48', '2001:db8:a::/48'] }), { peerId })
    assert.equal(cert.domain, 'dmm.example')
    assert.equal(cert.peerId, peerId)
    assert.deepEqual(cert.pools, ['2001:db8:1::/48', '2001:db8:a::/48'])
    assert.equal(cert.notAfter, notAfter)
    assert.ok(cert.operator.length > 0)
  })

  it('covers() accepts prefixes inside the pools only', async () => {
    const cert = await trust.verify(await issue())
    assert.equal(trust.covers(cert, ['2001:db8:1:5::/64', '2001:db8:1::/48']), true)
    assert.equal(trust.covers(cert, ['2001:db8:2::/64']), false)
    assert.equal(trust.covers(cert, ['2001:db8::/32']), false, 'a larger prefix is not inside')
    assert.equal(trust.covers(cert, ['not a prefix']), false)
  })

  it('rejects a certificate signed by a key that is not the operator', async () => {
    await rejects(trust.verify(await issue({}, await generateKey())), 'unknown-operator')
  })

  it('rejects a certificate of a domain it does not trust', async () => {
    await rejects(trust.verify(await issue({ domain: 'other.example' })), 'unknown-domain')
  })

  it('a certificate verified once (cached by its bytes) is refused once it expired, and for another peer', async () => {
    const now = Date.now()
    const cert = await issue({ notBefore: now - DAY, notAfter: now + DAY })
    assert.equal((await trust.verify(cert, { peerId })).peerId, peerId)
    assert.equal((await trust.verify(cert, { peerId })).peerId, peerId, 'the cached certificate again')
    await rejects(trust.verify(cert, { now: now + 2 * DAY }), 'expired')
    await rejects(trust.verify(cert, { peerId: peerIdFromPrivateKey(await generateKey()).toString() }), 'peer-mismatch')
  })

  it('rejects expired and not-yet-valid certificates', async () => {
    const now = Date.now()
    await rejects(trust.verify(await issue({ notBefore: now - 2 * DAY, notAfter: now - DAY })), 'expired')
    await rejects(trust.verify(await issue({ notBefore: now + DAY, notAfter: now + 2 * DAY })), 'not-yet-valid')
    // The clock is injectable: the same certificate is fine at a time inside its window.
    const later = await issue({ notBefore: now + DAY, notAfter: now + 2 * DAY })
    assert.equal((await trust.verify(later, { now: now + 1.5 * DAY })).peerId, peerId)
  })

  it('rejects a certificate presented by another peer', async () => {
    const other = peerIdFromPrivateKey(await generateKey()).toString()
    await rejects(trust.verify(await issue(), { peerId: other }), 'peer-mismatch')
  })

  it('rejects a tampered signature or payload', async () => {
    const bytes = await issue()
    const env = RecordEnvelope.createFromProtobuf(bytes)
    const sig = Uint8Array.from(env.signature)
    sig[0] = (sig[0] ?? 0) ^ 1
    const forged = new RecordEnvelope({ publicKey: env.publicKey, payloadType: env.payloadType, payload: env.payload, signature: sig }).marshal()
    await rejects(trust.verify(forged), 'bad-signature')
    const text = new TextDecoder().decode(env.payload).replace('2001:db8:1::/48', '2001:db8::/32')
    const widened = new RecordEnvelope({ publicKey: env.publicKey, payloadType: env.payloadType, payload: new TextEncoder().encode(text), signature: env.signature }).marshal()
    await rejects(trust.verify(widened), 'bad-signature')
  })

  it('rejects malformed certificates', async () => {
    await rejects(trust.verify(new Uint8Array([1, 2, 3])), 'malformed')
    await rejects(trust.verify(new Uint8Array(0)), 'malformed')
    await rejects(trust.verify(new Uint8Array(5000)), 'malformed')
    // A signed envelope of another kind (a different payload type) is no certificate.
    const other = await RecordEnvelope.seal({ domain: 'dmm-mesh/maar-certificate', codec: new Uint8Array([9]), marshal: () => new Uint8Array([1]), equals: () => false }, operator)
    await rejects(trust.verify(other.marshal()), 'malformed')
    // Properly signed but with a bad body.
    const sealBody = async (body: unknown): Promise<Uint8Array> => (await RecordEnvelope.seal({
      domain: 'dmm-mesh/maar-certificate', codec: new TextEncoder().encode('/dmm/cert/1'), marshal: () => new TextEncoder().encode(JSON.stringify(body)), equals: () => false
    }, operator)).marshal()
    const good = { domain: 'dmm.example', peerId, pools: ['2001:db8:1::/48'], notBefore: 0, notAfter: Date.now() + DAY }
    await rejects(trust.verify(await sealBody({ ...good, extra: 1 })), 'malformed')
    await rejects(trust.verify(await sealBody({ ...good, pools: ['2001:db8:1::1/48'] })), 'malformed')
    await rejects(trust.verify(await sealBody({ ...good, pools: [] })), 'malformed')
    await rejects(trust.verify(await sealBody({ ...good, peerId: 'nope' })), 'malformed')
    await rejects(trust.verify(await sealBody({ ...good, notAfter: -1 })), 'malformed')
    await rejects(trust.verify(await sealBody([1, 2])), 'malformed')
  })

  it('binds the MAAR\'s tunnel addresses: certifiesAddress() accepts only those', async () => {
    const cert = await trust.verify(await issue({ addresses: ['2001:db8:ffff::1', '2001:db8:fffe::1'] }))
    assert.deepEqual(cert.addresses, ['2001:db8:ffff::1', '2001:db8:fffe::1'])
    assert.equal(trust.certifiesAddress(cert, '2001:db8:ffff::1'), true)
    assert.equal(trust.certifiesAddress(cert, '2001:DB8:FFFF:0::1'), true, 'any text form of the address')
    assert.equal(trust.certifiesAddress(cert, '2001:db8:ffff::2'), false)
    assert.equal(trust.certifiesAddress(cert, 'not an address'), false)
  })

  it('refuses to issue what it would not verify', async () => {
    await rejects(issue({ addresses: [] }), 'malformed')
    await rejects(issue({ addresses: ['2001:DB8::1'] }), 'malformed')
    await rejects(issue({ pools: ['2001:DB8:1::/48'] }), 'malformed')
    await rejects(issue({ notAfter: Date.now() - DAY, notBefore: Date.now() }), 'malformed')
  })

  it('trusts several operator keys of a domain (key rotation)', async () => {
    const second = await generateKey()
    const both = TrustStore.fromOperatorKeys([{ domain: 'dmm.example', publicKey: operator.publicKey }, { domain: 'dmm.example', publicKey: second.publicKey }])
    assert.equal((await both.verify(await issue({}, second))).peerId, peerId)
    assert.throws(() => new TrustStore([{ domain: 'x', operatorPublicKey: 'not base64!' }]), TypeError)
  })

  it('round-trips certificate files and rejects broken ones', async () => {
    const bytes = await issue()
    assert.deepEqual(decodeCertificateFile(encodeCertificateFile(bytes)), bytes)
    const path = join(dir, 'maar.cert')
    await writeCertificateFile(path, bytes)
    assert.deepEqual(await readCertificateFile(path), bytes)
    for (const text of ['', 'null', '{"dmmCertificate":2,"envelope":"AAAA"}', '{"dmmCertificate":1,"envelope":"@@@@"}', '{"dmmCertificate":1,"envelope":"AAAA","x":1}']) {
      assert.throws(() => decodeCertificateFile(text), CertificateError, text)
    }
  })

  it('round-trips a key file with mode 0600', async () => {
    const path = join(dir, 'maar.key')
    await writeKeyFile(path, maar)
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    const back = await readKeyFile(path)
    assert.ok(back.equals(maar))
    const body = JSON.parse(await readFile(path, 'utf8')) as { type: string }
    assert.equal(body.type, 'Ed25519')
  })

  it('says what is wrong with a broken key file', async () => {
    const cases: Array<[string, RegExp]> = [
      ['', /not a key file/],
      ['{"type":"Ed25519"}', /privateKey/],
      ['{"type":"Ed25519","privateKey":"%%%"}', /base64/],
      ['{"type":"Ed25519","privateKey":"AAAA"}', /protobuf/],
      ['{"type":"Ed25519","privateKey":"AAAA","more":1}', /unknown field/],
      [JSON.stringify({ type: 'RSA', privateKey: Buffer.from(privateKeyToProtobuf(maar)).toString('base64') }), /says RSA/]
    ]
    for (const [text, pattern] of cases) {
      const path = join(dir, 'broken.key')
      await writeFile(path, text)
      await assert.rejects(readKeyFile(path), (err: unknown) => err instanceof KeyFileError && pattern.test(err.message), text)
    }
    await assert.rejects(readKeyFile(join(dir, 'missing.key')), (err: unknown) => err instanceof KeyFileError && /ENOENT/.test(err.message))
    const secp = await generateKeyPair('secp256k1')
    await writeFile(join(dir, 'secp.key'), JSON.stringify({ type: 'secp256k1', privateKey: Buffer.from(privateKeyToProtobuf(secp)).toString('base64') }))
    await assert.rejects(readKeyFile(join(dir, 'secp.key')), /only Ed25519/)
  })
})
