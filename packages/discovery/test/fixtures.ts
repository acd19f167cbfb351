/** A test domain: one operator key, MAAR i owning 2001:db8:i::/48 with address 2001:db8:ffff::i. */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { TrustStore, generateKey, issueCertificate } from '../src/index.js'
import type { MaarRef } from '@dmm-mesh/wire'
import type { AnchorRecord, SessionRecord } from '../src/index.js'

export interface TestMaar { key: PrivateKey, peerId: string, pool: string, address: string, certificate: Uint8Array, ref: MaarRef }
export interface TestDomain { operator: PrivateKey, trust: TrustStore, maars: TestMaar[] }

export async function makeDomain (count: number, domain = 'dmm.example'): Promise<TestDomain> {
  const operator = await generateKey()
  const trust = TrustStore.fromOperatorKeys([{ domain, publicKey: operator.publicKey }])
  const maars: TestMaar[] = []
  for (let i = 1; i <= count; i++) maars.push(await makeMaar(operator, i, domain))
  return { operator, trust, maars }
}

export async function makeMaar (operator: PrivateKey, i: number, domain = 'dmm.example'): Promise<TestMaar> {
  const key = await generateKey()
  const peerId = peerIdFromPrivateKey(key).toString()
  const pool = `2001:db8:${i.toString(16)}::/48`
  const address = `2001:db8:ffff::${i.toString(16)}`
  const certificate = await issueCertificate(operator, { domain, peerId, pools: [pool], addresses: [address], notAfter: Date.now() + 86400_000 })
  return { key, peerId, pool, address, certificate, ref: { peerId, address, multiaddrs: [] } }
}

export function anchorAt (m: TestMaar, subnet: number, lifetime = 3600): AnchorRecord {
  const hex = m.pool.split('::')[0] ?? ''
  return { ...m.ref, prefix: `${hex}:${subnet.toString(16)}::/64`, lifetime }
}

/** The MN was delegated a /64 at `serving` and, before that, one at each of `previous`. */
export function sessionAt (mnId: string, sequence: number, serving: TestMaar, previous: TestMaar[] = [], issuedAt = 1_700_000_000_000): SessionRecord {
  return { mnId, sequence, issuedAt, serving: serving.ref, anchors: [anchorAt(serving, 1), ...previous.map(p => anchorAt(p, 1))] }
}

/** Polls until `check` holds; the limit only stops a hung test, it asserts nothing about speed. */
export async function eventually (what: string, check: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
