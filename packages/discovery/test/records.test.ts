import assert from 'node:assert/strict'
import { RecordEnvelope } from '@libp2p/peer-record'
import { Libp2pRecord } from '@libp2p/record'
import { MemoryDatastore } from 'datastore-core'
import fc from 'fast-check'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { MAX_SESSION_SEQUENCE, RecordError, SessionStore, checkMnId, issueCertificate, mnIdOctets, generateKey, openSessionRecord, sealSessionRecord, sessionKey } from '../src/index.js'
import type { SessionRecord } from '../src/index.js'
import { dhtRecordKey, dmmSelector, dmmValidator } from '../src/dht-records.js'
import { fastSigner, signatureVerifies } from '../src/util.js'
import { anchorAt, makeDomain, makeMaar, sessionAt } from './fixtures.js'
import type { TestDomain } from './fixtures.js'

const MN = 'alice@dmm.example'

/** Signs any payload as a session record would be, to feed open() what seal() refuses to make. */
async function sealRaw (payload: unknown, key: PrivateKey): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload))
  return (await RecordEnvelope.seal({ domain: 'dmm-mesh/session-record', codec: new TextEncoder().encode('/dmm/session/1'), marshal: () => bytes, equals: () => false }, key)).marshal()
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64')

async function rejectsWith (p: Promise<unknown>, reason: string, message?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RecordError, `expected RecordError, got ${String(err)}`)
    assert.equal(err.reason, reason, `${message ?? ''} ${err.message}`)
    return true
  })
}

describe('session records', () => {
  let d: TestDomain
  before(async () => { d = await makeDomain(3) })
  const m = (i: number): NonNullable<TestDomain['maars'][number]> => d.maars[i - 1] as NonNullable<TestDomain['maars'][number]>

  it('key is /dmm/session/<hex sha256 of the MN-ID>', () => {
    const key = new TextDecoder().decode(sessionKey(MN))
    assert.match(key, /^\/dmm\/session\/[0-9a-f]{64}$/)
    assert.notEqual(key, new TextDecoder().decode(sessionKey('bob@dmm.example')))
  })

  it('a sealed record opens to the same record and names its signer', async () => {
    const record = sessionAt(MN, 7, m(2), [m(1), m(3)])
    const bytes = await sealSessionRecord(record, m(2).key, [m(2).certificate, m(1).certificate, m(3).certificate])
    const opened = await openSessionRecord(bytes, d.trust, { key: sessionKey(MN) })
    assert.deepEqual(opened.record, record)
    assert.equal(opened.signer, m(2).peerId)
  })

  it('a withdrawn record may be signed by any MAAR of the domain', async () => {
    const record: SessionRecord = { mnId: MN, sequence: 9, issuedAt: 1, serving: null, anchors: [] }
    const opened = await openSessionRecord(await sealSessionRecord(record, m(3).key, [m(3).certificate]), d.trust)
    assert.equal(opened.record.serving, null)
    assert.equal(opened.signer, m(3).peerId)
  })

  it('rejects unsigned bytes and forged signatures', async () => {
    const record = sessionAt(MN, 1, m(1))
    await rejectsWith(openSessionRecord(new TextEncoder().encode(JSON.stringify({ record, certificates: [] })), d.trust), 'malformed')
    const env = RecordEnvelope.createFromProtobuf(await sealSessionRecord(record, m(1).key, [m(1).certificate]))
    const sig = Uint8Array.from(env.signature)
    sig[10] = (sig[10] ?? 0) ^ 0xff
    await rejectsWith(openSessionRecord(new RecordEnvelope({ ...env, signature: sig }).marshal(), d.trust), 'bad-signature')
    // The payload altered to point the MN elsewhere, old signature kept.
    const altered = new TextEncoder().encode(new TextDecoder().decode(env.payload).replace('"sequence":1', '"sequence":99'))
    await rejectsWith(openSessionRecord(new RecordEnvelope({ ...env, payload: altered }).marshal(), d.trust), 'bad-signature')
  })

  it('the signature check agrees with libp2p\'s RecordEnvelope.validate: Ed25519 (node:crypto, key object kept) and secp256k1 (through libp2p), right domain only', async () => {
    const secp = await generateKeyPair('secp256k1')
    for (const key of [m(1).key, secp]) {
      const env = RecordEnvelope.createFromProtobuf(await sealRaw({ any: 'payload' }, key))
      for (const domain of ['dmm-mesh/session-record', 'dmm-mesh/maar-certificate', '']) {
        const flipped = Uint8Array.from(env.signature)
        flipped[3] = (flipped[3] ?? 0) ^ 0x01
        const forged = new RecordEnvelope({ ...env, signature: flipped })
        // Twice: the second check of the same key uses the key object kept from the first.
        for (let i = 0; i < 2; i++) {
          assert.equal(await signatureVerifies(env, domain), await env.validate(domain), `${key.type}, domain ${JSON.stringify(domain)}`)
          assert.equal(await signatureVerifies(forged, domain), false, `${key.type} forged, domain ${JSON.stringify(domain)}`)
        }
      }
      assert.equal(await signatureVerifies(env, 'dmm-mesh/session-record'), true)
    }
  })

  it('a record signed with the kept Ed25519 key object is the one libp2p signs, byte for byte (RFC 8032 signatures are deterministic), and other key types sign through libp2p', async () => {
    const secp = await generateKeyPair('secp256k1')
    for (const key of [m(1).key, secp]) {
      const payload = new TextEncoder().encode('{"any":"payload"}')
      const record = { domain: 'dmm-mesh/session-record', codec: new Uint8Array([0x03, 0x01]), marshal: () => payload, equals: () => false }
      const fast = await RecordEnvelope.seal(record, fastSigner(key))
      assert.equal(await fast.validate('dmm-mesh/session-record'), true, key.type)
      if (key.type === 'Ed25519') {
        assert.deepEqual(fast.marshal(), (await RecordEnvelope.seal(record, key)).marshal())
        assert.equal(fastSigner(key).publicKey.equals(key.publicKey), true)
      } else assert.equal(fastSigner(key), key)
    }
  })

  it('the memoized address and prefix checks still refuse non-canonical text after its canonical form passed, and the reverse', async () => {
    const good = sessionAt(MN, 1, m(1))
    const serving = good.serving as NonNullable<SessionRecord['serving']>
    const anchor = good.anchors[0] as NonNullable<SessionRecord['anchors'][number]>
    const certs = [m(1).certificate]
    const open = async (record: SessionRecord): Promise<unknown> => await openSessionRecord(await sealRaw({ record, certificates: certs.map(b64) }, m(1).key), d.trust)
    assert.equal(serving.address, '2001:db8:ffff::1')
    assert.equal(anchor.prefix, '2001:db8:1:1::/64')
    const longAddress = '2001:db8:ffff:0:0:0:0:1'
    const longPrefix = '2001:db8:1:1:0:0:0:0/64'
    for (let round = 0; round < 2; round++) {
      await open(good)
      await rejectsWith(open({ ...good, serving: { ...serving, address: longAddress } }) as Promise<unknown>, 'malformed', `round ${round}: ${longAddress}`)
      await rejectsWith(open({ ...good, anchors: [{ ...anchor, prefix: longPrefix }] }) as Promise<unknown>, 'malformed', `round ${round}: ${longPrefix}`)
      await rejectsWith(open({ ...good, anchors: [{ ...anchor, prefix: m(2).pool.replace('/48', '/64') }] }) as Promise<unknown>, 'anchor-outside-pools', `round ${round}`)
    }
  })

  it('a record opened before (its signature checked once) is still refused when tampered, or once its signer\'s certificate expired', async () => {
    const record = sessionAt(MN, 3, m(1), [m(2)])
    const bytes = await sealSessionRecord(record, m(1).key, [m(1).certificate, m(2).certificate])
    assert.equal((await openSessionRecord(bytes, d.trust)).signer, m(1).peerId)
    assert.equal((await openSessionRecord(bytes, d.trust)).signer, m(1).peerId, 'the same bytes open again')
    const env = RecordEnvelope.createFromProtobuf(bytes)
    const altered = new TextEncoder().encode(new TextDecoder().decode(env.payload).replace('"sequence":3', '"sequence":98'))
    await rejectsWith(openSessionRecord(new RecordEnvelope({ ...env, payload: altered }).marshal(), d.trust), 'bad-signature', 'a cached record altered')
    const sig = Uint8Array.from(env.signature)
    sig[5] = (sig[5] ?? 0) ^ 0x01
    await rejectsWith(openSessionRecord(new RecordEnvelope({ ...env, signature: sig }).marshal(), d.trust), 'bad-signature', 'a cached record with its signature flipped')
    // Two days on, the certificates (valid one day) have expired: the cached signature proves nothing.
    await rejectsWith(openSessionRecord(bytes, d.trust, { now: Date.now() + 2 * 86400_000 }), 'signer-not-in-domain', 'expired after caching')
  })

  it('rejects a signer without a certificate, or with one of another domain', async () => {
    const record = sessionAt(MN, 1, m(1))
    await rejectsWith(openSessionRecord(await sealSessionRecord(record, m(1).key, []), d.trust), 'signer-not-in-domain')
    const rogueOperator = await generateKey()
    const rogueCert = await issueCertificate(rogueOperator, { domain: 'dmm.example', peerId: m(1).peerId, pools: [m(1).pool], addresses: [m(1).address], notAfter: Date.now() + 86400_000 })
    await rejectsWith(openSessionRecord(await sealSessionRecord(record, m(1).key, [rogueCert]), d.trust), 'signer-not-in-domain', 'right domain name, wrong operator')
    const other = await makeDomain(1, 'other.example')
    const foreign = other.maars[0]
    assert.ok(foreign !== undefined)
    await rejectsWith(openSessionRecord(await sealSessionRecord(sessionAt(MN, 1, foreign), foreign.key, [foreign.certificate]), d.trust), 'signer-not-in-domain')
    // An expired certificate proves nothing either.
    const expired = await issueCertificate(d.operator, { domain: 'dmm.example', peerId: m(1).peerId, pools: [m(1).pool], addresses: [m(1).address], notBefore: 0, notAfter: 1000 })
    await rejectsWith(openSessionRecord(await sealSessionRecord(record, m(1).key, [expired]), d.trust), 'signer-not-in-domain')
  })

  it('rejects a record signed by a MAAR that is not its serving MAAR', async () => {
    const record = sessionAt(MN, 1, m(1))
    await rejectsWith(openSessionRecord(await sealSessionRecord(record, m(2).key, [m(1).certificate, m(2).certificate]), d.trust), 'signer-not-serving')
  })

  it('rejects an anchor prefix outside its MAAR certificate pools, or without a certificate', async () => {
    const record = sessionAt(MN, 1, m(1), [m(2)])
    await rejectsWith(openSessionRecord(await sealSessionRecord(record, m(1).key, [m(1).certificate]), d.trust), 'anchor-without-certificate')
    // MAAR2 claims a prefix of MAAR1's pool.
    const stolen = { ...record, anchors: [anchorAt(m(1), 1), { ...anchorAt(m(1), 2), ...m(2).ref }] }
    await rejectsWith(openSessionRecord(await sealSessionRecord(stolen, m(1).key, [m(1).certificate, m(2).certificate]), d.trust), 'anchor-outside-pools')
  })

  it('rejects a record that points an anchor or the serving MAAR at an uncertified tunnel address', async () => {
    const record = sessionAt(MN, 1, m(1), [m(2)])
    const certs = [m(1).certificate, m(2).certificate]
    // Right prefix and peer, but MAAR2's tunnels would be pulled to MAAR3's address.
    const hijacked = { ...record, anchors: record.anchors.map(a => a.peerId === m(2).peerId ? { ...a, address: m(3).address } : a) }
    await rejectsWith(openSessionRecord(await sealSessionRecord(hijacked, m(1).key, certs), d.trust), 'address-not-certified')
    const serving = { ...record, serving: { ...m(1).ref, address: m(3).address } }
    await rejectsWith(openSessionRecord(await sealSessionRecord(serving, m(1).key, certs), d.trust), 'address-not-certified')
  })

  it('rejects a record stored under another MN key', async () => {
    const bytes = await sealSessionRecord(sessionAt(MN, 1, m(1)), m(1).key, [m(1).certificate])
    await rejectsWith(openSessionRecord(bytes, d.trust, { key: sessionKey('mallory@dmm.example') }), 'wrong-key')
  })

  it('rejects malformed JSON and fields (strict schema)', async () => {
    const good = sessionAt(MN, 1, m(1))
    const certs = [b64(m(1).certificate)]
    const serving = good.serving as NonNullable<SessionRecord['serving']>
    const anchor = good.anchors[0] as NonNullable<SessionRecord['anchors'][number]>
    const cases: Array<[string, unknown]> = [
      ['not JSON', '{"record":'],
      ['not an object', '[1,2,3]'],
      ['extra top-level field', { record: good, certificates: certs, x: 1 }],
      ['certificates not a list', { record: good, certificates: 'x' }],
      ['certificate not base64', { record: good, certificates: ['***'] }],
      ['extra record field', { record: { ...good, admin: true }, certificates: certs }],
      ['empty mnId', { record: { ...good, mnId: '' }, certificates: certs }],
      ['mnId over 254 octets', { record: { ...good, mnId: 'é'.repeat(127) + 'a' }, certificates: certs }],
      ['negative sequence', { record: { ...good, sequence: -1 }, certificates: certs }],
      ['fractional sequence', { record: { ...good, sequence: 1.5 }, certificates: certs }],
      ['sequence as text', { record: { ...good, sequence: '1' }, certificates: certs }],
      ['issuedAt missing', { record: { ...good, issuedAt: undefined }, certificates: certs }],
      ['serving not canonical', { record: { ...good, serving: { ...serving, address: '2001:DB8:FFFF::1' } }, certificates: certs }],
      ['serving peer id bogus', { record: { ...good, serving: { ...serving, peerId: 'QmNope' } }, certificates: certs }],
      ['multiaddr bogus', { record: { ...good, serving: { ...serving, multiaddrs: ['/nonsense/1'] } }, certificates: certs }],
      ['too many multiaddrs', { record: { ...good, serving: { ...serving, multiaddrs: new Array(9).fill('/ip4/127.0.0.1/tcp/1') } }, certificates: certs }],
      ['anchors not a list', { record: { ...good, anchors: {} }, certificates: certs }],
      ['prefix with host bits', { record: { ...good, anchors: [{ ...anchor, prefix: '2001:db8:1:1::1/64' }] }, certificates: certs }],
      ['prefix not canonical', { record: { ...good, anchors: [{ ...anchor, prefix: '2001:0db8:1:1::/64' }] }, certificates: certs }],
      ['lifetime too long', { record: { ...good, anchors: [{ ...anchor, lifetime: 0xffff * 4 + 1 }] }, certificates: certs }],
      ['same prefix twice', { record: { ...good, anchors: [anchor, anchor] }, certificates: certs }],
      ['too many anchors', { record: { ...good, anchors: Array.from({ length: 17 }, (_, i) => anchorAt(m(1), i + 1)) }, certificates: certs }],
      ['withdrawn with anchors', { record: { ...good, serving: null }, certificates: certs }],
      ['too many certificates', { record: good, certificates: new Array(18).fill(certs[0]) }]
    ]
    for (const [name, payload] of cases) {
      await rejectsWith(openSessionRecord(await sealRaw(payload, m(1).key), d.trust), 'malformed', name)
    }
    // seal() refuses the same mistakes instead of signing them.
    await assert.rejects(sealSessionRecord({ ...good, sequence: -1 }, m(1).key, certs.map(() => m(1).certificate)), RecordError)
  })

  it('bounds the session sequence at MAX_SESSION_SEQUENCE, naming the field', async () => {
    const top = sessionAt(MN, MAX_SESSION_SEQUENCE, m(1))
    assert.equal((await openSessionRecord(await sealSessionRecord(top, m(1).key, [m(1).certificate]), d.trust)).record.sequence, MAX_SESSION_SEQUENCE)
    assert.ok(Number.isSafeInteger(MAX_SESSION_SEQUENCE + 1), 'the next sequence is still exact arithmetic')
    for (const sequence of [MAX_SESSION_SEQUENCE + 1, 2 ** 53 - 1, 2 ** 53]) {
      const record = { ...top, sequence }
      await assert.rejects(sealSessionRecord(record, m(1).key, [m(1).certificate]), (err: Error) => err instanceof RecordError && err.reason === 'malformed' && /sequence/.test(err.message))
      // A record a hostile signer sealed anyway is refused by every validator.
      await assert.rejects(openSessionRecord(await sealRaw({ record, certificates: [b64(m(1).certificate)] }, m(1).key), d.trust),
        (err: Error) => err instanceof RecordError && err.reason === 'malformed' && err.message.includes(`sequence must be an integer 0..${MAX_SESSION_SEQUENCE}`))
    }
  })

  it('counts MN-IDs in UTF-8 octets (RFC 4283 §3: at most 254), not characters', async () => {
    const heavy = '€'.repeat(200)
    assert.equal(heavy.length, 200)
    assert.equal(mnIdOctets(heavy), 600)
    assert.throws(() => { checkMnId(heavy) }, (err: Error) => err instanceof RecordError && /mnId is 600 UTF-8 octets, at most 254/.test(err.message))
    await assert.rejects(sealSessionRecord(sessionAt(heavy, 1, m(1)), m(1).key, [m(1).certificate]), /mnId is 600 UTF-8 octets/)
    await rejectsWith(openSessionRecord(await sealRaw({ record: sessionAt(heavy, 1, m(1)), certificates: [b64(m(1).certificate)] }, m(1).key), d.trust), 'malformed')
    // 85 "€" is 255 octets: one more than the MN Identifier option can carry.
    assert.throws(() => { checkMnId('€'.repeat(85)) }, /255 UTF-8 octets, at most 254/)
    const longest = '€'.repeat(84) + 'ab'
    assert.equal(mnIdOctets(longest), 254)
    checkMnId(longest)
    const record = sessionAt(longest, 1, m(1))
    const opened = await openSessionRecord(await sealSessionRecord(record, m(1).key, [m(1).certificate]), d.trust, { key: sessionKey(longest) })
    assert.deepEqual(opened.record, record)
    // Lone surrogates have no UTF-8 form (both would hash as U+FFFD to one key).
    assert.throws(() => { checkMnId('mn\uD800') }, /lone surrogate/)
    assert.throws(() => { checkMnId('') }, /non-empty/)
    assert.throws(() => { checkMnId(42) }, /non-empty text/)
  })

  it('rejects oversize records before parsing them', async () => {
    await rejectsWith(openSessionRecord(new Uint8Array(40 * 1024), d.trust), 'oversize')
    await rejectsWith(openSessionRecord(await sealRaw({ record: sessionAt(MN, 1, m(1)), certificates: [], pad: 'x'.repeat(33 * 1024) }, m(1).key), d.trust), 'oversize')
  })

  it('every single-byte corruption of a sealed record is rejected with a RecordError', async () => {
    const bytes = await sealSessionRecord(sessionAt(MN, 3, m(2), [m(1)]), m(2).key, [m(2).certificate, m(1).certificate])
    await fc.assert(fc.asyncProperty(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), async (at, flip) => {
      const copy = Uint8Array.from(bytes)
      copy[at] = (copy[at] ?? 0) ^ flip
      await assert.rejects(openSessionRecord(copy, d.trust), RecordError)
    }), { numRuns: 150 })
  })

  describe('ordering: validator and selector', () => {
    const key = sessionKey(MN)
    const seal = async (sequence: number, issuedAt: number, at = 1): Promise<Uint8Array> =>
      await sealSessionRecord(sessionAt(MN, sequence, m(at), [], issuedAt), m(at).key, [m(at).certificate])

    it('the selector keeps the highest sequence, then the newest issuedAt', async () => {
      const records = [await seal(2, 100), await seal(5, 50), await seal(5, 80, 2), await seal(3, 999)]
      assert.equal(await dmmSelector(key, records), 2)
      assert.equal(await dmmSelector(key, [await seal(1, 1), new Uint8Array([1, 2]), await seal(4, 1)]), 2, 'skips what it cannot read')
    })

    it('the DHT validator refuses to overwrite a newer stored copy (js-libp2p #3377) and accepts newer or equal', async () => {
      const datastore = new MemoryDatastore()
      const store = new SessionStore(d.trust)
      const validate = dmmValidator(datastore, '/dht', store)
      const newer = await seal(5, 100)
      await validate(key, newer)
      await datastore.put(dhtRecordKey('/dht', key), new Libp2pRecord(key, newer, new Date()).serialize())
      await rejectsWith(Promise.resolve(validate(key, await seal(4, 999))), 'stale')
      await rejectsWith(Promise.resolve(validate(key, await seal(5, 99))), 'stale')
      await validate(key, newer) // the stored copy itself stays valid
      await validate(key, await seal(6, 1, 2))
      assert.equal(store.get(key)?.record.sequence, 6, 'what the validator passes reaches the session store')
      await rejectsWith(Promise.resolve(validate(new TextEncoder().encode('/dmm/other/x'), newer)), 'malformed')
      await rejectsWith(Promise.resolve(validate(sessionKey('bob'), newer)), 'wrong-key')
    })

    it('the session store never lets an older record replace a newer one', async () => {
      const store = new SessionStore(d.trust)
      assert.equal((await store.offer(key, await seal(5, 100))).stored, true)
      const older = await store.offer(key, await seal(4, 200))
      assert.equal(older.stored, false)
      assert.equal(older.stored ? '' : older.reason, 'stale')
      assert.equal((await store.offer(key, await seal(5, 100))).stored, false)
      assert.equal((await store.offer(key, await seal(5, 101))).stored, true)
      assert.equal(store.get(key)?.record.issuedAt, 101)
      await rejectsWith(store.offer(key, new Uint8Array([0])), 'malformed')
    })

    it('the session store is bounded', async () => {
      const store = new SessionStore(d.trust, 2)
      const extra = await makeMaar(d.operator, 9)
      for (const mn of ['a', 'b', 'c']) {
        await store.offer(sessionKey(mn), await sealSessionRecord(sessionAt(mn, 1, extra), extra.key, [extra.certificate]))
      }
      assert.equal(store.size, 2)
      assert.equal(store.get(sessionKey('a')), undefined, 'the oldest went first')
    })
  })
})
