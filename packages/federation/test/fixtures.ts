/** Two operators and an agreement between them, for the federation tests. */
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { generateKey } from '@dmm-mesh/discovery'
import type { PrivateKey } from '@libp2p/interface'
import type { FederationAgreement, OperatorRef } from '../src/index.js'

export function operatorRef (domain: string, key: PrivateKey): OperatorRef {
  return { domain, operatorPublicKey: Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64') }
}

export interface Operators { a: PrivateKey, b: PrivateKey, refA: OperatorRef, refB: OperatorRef }

export async function operators (): Promise<Operators> {
  const a = await generateKey()
  const b = await generateKey()
  return { a, b, refA: operatorRef('a.example', a), refB: operatorRef('b.example', b) }
}

const DAY = 86400_000

/** A accepts B: any MAAR of B, B's pools 2001:db8:200::/40 and tunnel addresses 2001:db8:ffff:200::/56. */
export function agreementAB (o: Operators, more: Partial<FederationAgreement> = {}): FederationAgreement {
  return {
    id: 'a-accepts-b',
    issuer: o.refA,
    subject: o.refB,
    scope: { maars: 'any', pools: ['2001:db8:200::/40'], addresses: ['2001:db8:ffff:200::/56'] },
    policy: { prefixes: 'tunnel' },
    notBefore: new Date(Date.now() - DAY).toISOString(),
    notAfter: new Date(Date.now() + DAY).toISOString(),
    ...more
  }
}
