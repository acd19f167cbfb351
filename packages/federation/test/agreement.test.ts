import assert from 'node:assert/strict'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TrustStore, generateKey, issueCertificate } from '@dmm-mesh/discovery'
import {
  AgreementError, FederationAgreements, decodeAgreementFile, decodeRevocationFile, encodeAgreementFile, encodeRevocationFile,
  signAgreement, signRevocation, verifyAgreement
} from '../src/index.js'
import { agreementAB, operators } from './fixtures.js'

async function rejects (p: Promise<unknown>, reason: string, text: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof AgreementError && err.reason === reason && text.test(err.message))
}

describe('federation agreement', () => {
  it('signed by the issuer verifies after a round trip through its file, re-indented too', async () => {
    const o = await operators()
    const signed = await signAgreement(agreementAB(o), o.a)
    const file = encodeAgreementFile(signed)
    const back = decodeAgreementFile(file, 'ab.json')
    assert.equal((await verifyAgreement(back)).id, 'a-accepts-b')
    const reindented = JSON.stringify(JSON.parse(file))
    assert.equal((await verifyAgreement(decodeAgreementFile(reindented))).subject.domain, 'b.example')
  })

  it('refuses a tampered field, a signature by the wrong key, an expired or future agreement, each saying which', async () => {
    const o = await operators()
    const signed = await signAgreement(agreementAB(o), o.a)
    const widened = { ...signed, agreement: { ...signed.agreement, scope: { ...signed.agreement.scope, pools: ['2001:db8::/32'] } } }
    await rejects(verifyAgreement(widened), 'bad-signature', /a-accepts-b.*changed or signed by another key/)
    // B signs "A accepts B" itself: the key named as issuer does not verify it.
    const forged = { agreement: signed.agreement, signature: (await signAgreement({ ...agreementAB(o), issuer: o.refB, subject: o.refA }, o.b)).signature }
    await rejects(verifyAgreement(forged), 'bad-signature', /issuer's key \(a\.example\)/)
    await assert.rejects(signAgreement(agreementAB(o), o.b), /wrong-issuer/)
    const expired = await signAgreement(agreementAB(o, { notBefore: '2020-01-01T00:00:00Z', notAfter: '2021-01-01T00:00:00Z' }), o.a)
    await rejects(verifyAgreement(expired), 'expired', /a-accepts-b expired at 2021-01-01/)
    const future = await signAgreement(agreementAB(o, { notBefore: '2999-01-01T00:00:00Z', notAfter: '2999-02-01T00:00:00Z' }), o.a)
    await rejects(verifyAgreement(future), 'not-yet-valid', /valid from 2999/)
  })

  it('names the line of bad JSON and the field of a bad value', async () => {
    const o = await operators()
    const file = encodeAgreementFile(await signAgreement(agreementAB(o), o.a))
    assert.throws(() => decodeAgreementFile(file.replace('"scope"', '"scope" "x"'), 'ab.json'), /ab\.json:\d+: not JSON/)
    assert.throws(() => decodeAgreementFile(file.replace('"tunnel"', '"sometimes"'), 'ab.json'), /ab\.json: agreement\.policy\.prefixes: must be tunnel, drop or bounded/)
    assert.throws(() => decodeAgreementFile(file.replace('2001:db8:200::/40', '2001:db8:200::1/40'), 'ab.json'), /agreement\.scope\.pools\[0\]/)
    assert.throws(() => decodeAgreementFile(file.replace('"policy"', '"extra": 1, "policy"'), 'ab.json'), /agreement\.extra: unknown field/)
    assert.throws(() => decodeAgreementFile('{"dmmCertificate":1}', 'x.json'), /x\.json\.dmmCertificate: unknown field/)
    assert.throws(() => decodeAgreementFile(JSON.stringify({ dmmFederationAgreement: 1, agreement: { ...agreementAB(o), policy: { prefixes: 'bounded' } }, signature: 'AA==' })), /policy\.seconds: must be an integer/)
  })
})

describe('FederationAgreements (what a MAAR honours)', () => {
  it('authorizes B\'s MAAR within scope and refuses, naming the agreement, out of scope, revoked or unknown', async () => {
    const o = await operators()
    const signed = await signAgreement(agreementAB(o), o.a)
    const set = new FederationAgreements(o.refA)
    await set.load([signed])
    const trust = new TrustStore([o.refA])
    trust.federate(set.foreignOperators())
    const bKey = await generateKey()
    const peerId = peerIdFromPrivateKey(bKey).toString()
    const cert = await trust.verify(await issueCertificate(o.b, { domain: 'b.example', peerId, pools: ['2001:db8:201::/48'], addresses: ['2001:db8:ffff:200::1'], notAfter: Date.now() + 86400_000 }), { federated: true })
    assert.ok('agreement' in set.authorize(cert, ['2001:db8:201:1::/64']))
    const outside = set.authorize(cert, ['2001:db8:1:1::/64'])
    assert.ok('refused' in outside && /agreement a-accepts-b: prefix 2001:db8:1:1::\/64 lies outside the agreed pools/.test(outside.refused))
    // A B certificate claiming one of A's tunnel addresses is out of scope.
    const thief = await trust.verify(await issueCertificate(o.b, { domain: 'b.example', peerId, pools: ['2001:db8:201::/48'], addresses: ['2001:db8:ffff::1'], notAfter: Date.now() + 86400_000 }), { federated: true })
    const stolen = set.authorize(thief)
    assert.ok('refused' in stolen && /tunnel address 2001:db8:ffff::1 lies outside the agreed addresses/.test(stolen.refused))
    await set.revoke(await signRevocation({ agreement: 'a-accepts-b', issuer: o.refA, revokedAt: new Date(Date.now() - 1000).toISOString() }, o.a))
    const revoked = set.authorize(cert, [])
    assert.ok('refused' in revoked && /agreement a-accepts-b: revoked at/.test(revoked.refused))
    const none = set.authorize({ ...cert, domain: 'c.example' })
    assert.ok('refused' in none && /no federation agreement of a\.example accepts domain c\.example/.test(none.refused))
  })

  it('a federated certificate never passes as a member: TrustStore.verify refuses it unless federated is asked', async () => {
    const o = await operators()
    const trust = new TrustStore([o.refA])
    trust.federate([o.refB])
    const peerId = peerIdFromPrivateKey(await generateKey()).toString()
    const bCert = await issueCertificate(o.b, { domain: 'b.example', peerId, pools: ['2001:db8:201::/48'], addresses: ['2001:db8:ffff:200::1'], notAfter: Date.now() + 86400_000 })
    await assert.rejects(trust.verify(bCert), /unknown-domain.*federated, not a member/)
    assert.equal((await trust.verify(bCert, { federated: true })).domain, 'b.example')
    assert.throws(() => { trust.federate([{ ...o.refB, domain: 'a.example' }]) }, /own domain/)
    trust.federate([])
    await assert.rejects(trust.verify(bCert, { federated: true }), /unknown-domain/)
  })

  it('loads only agreements of its own domain with its own key, and revocations by the issuer', async () => {
    const o = await operators()
    const c = await generateKey()
    const set = new FederationAgreements(o.refA)
    // An agreement naming a.example as issuer under another key.
    const impostor = await signAgreement({ ...agreementAB(o), issuer: { domain: 'a.example', operatorPublicKey: (await import('./fixtures.js')).operatorRef('a.example', c).operatorPublicKey } }, c)
    await rejects(set.load([impostor]), 'wrong-issuer', /another key than this domain's operator key/)
    const other = new FederationAgreements((await import('./fixtures.js')).operatorRef('c.example', c))
    await rejects(other.load([await signAgreement(agreementAB(o), o.a)]), 'not-ours', /between a\.example and b\.example, not c\.example/)
    const signed = await signAgreement(agreementAB(o), o.a)
    const byB = await signRevocation({ agreement: 'a-accepts-b', issuer: o.refB, revokedAt: new Date().toISOString() }, o.b)
    await rejects(set.load([signed], [byB]), 'wrong-issuer', /not by the agreement's issuer a\.example/)
    const rev = decodeRevocationFile(encodeRevocationFile(await signRevocation({ agreement: 'a-accepts-b', issuer: o.refA, revokedAt: new Date().toISOString() }, o.a)))
    const tampered = { ...rev, revocation: { ...rev.revocation, agreement: 'something-else' } }
    await rejects(set.load([signed], [tampered]), 'bad-signature', /revocation of something-else/)
    // As subject: B loads "A accepts B" and learns A's key and that A accepts it.
    const asB = new FederationAgreements(o.refB)
    await asB.load([signed])
    assert.deepEqual(asB.foreignOperators(), [o.refA])
    assert.deepEqual(asB.accepting().map(a => a.id), ['a-accepts-b'])
  })
})
