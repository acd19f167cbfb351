/** `dmm keygen` and `dmm cert`: identity keys and domain certificates (domain membership proofs). */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { generateKey, issueCertificate, readKeyFile, writeCertificateFile, writeKeyFile } from '@dmm-mesh/discovery'
import { canonicalIpv6, parsePrefix } from '@dmm-mesh/wire'
import { CliError } from '../errors.js'

/** Writes a new Ed25519 key; prints the peer id and the public key to put in configs. */
export async function keygen (out: string): Promise<{ peerId: string, publicKey: string }> {
  const key = await generateKey()
  await writeKeyFile(out, key)
  return { peerId: peerIdFromPrivateKey(key).toString(), publicKey: Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64') }
}

export interface CertOptions { operatorKey: string, maarKey?: string, peerId?: string, role?: 'maar' | 'cmd', domain: string, pools: string[], addresses: string[], days: number, out: string }

export async function cert (o: CertOptions): Promise<{ peerId: string, notAfter: string }> {
  const operator = await readKeyFile(o.operatorKey).catch(err => { throw new CliError(`--operator-key ${o.operatorKey}: ${err instanceof Error ? err.message : String(err)}`) })
  let peerId = o.peerId
  if (o.maarKey !== undefined) {
    const maar = await readKeyFile(o.maarKey).catch(err => { throw new CliError(`--maar-key ${o.maarKey}: ${err instanceof Error ? err.message : String(err)}`) })
    peerId = peerIdFromPrivateKey(maar).toString()
  }
  if (peerId === undefined) throw new CliError('name the MAAR with --maar-key FILE or --peer-id ID')
  // A CMD keeps sessions and anchors nothing (draft-bernardos-dmm-pmip §3).
  if (o.role === 'cmd' && o.pools.length > 0) throw new CliError('--pools: a CMD certificate grants no pools (leave --pools out with --role cmd)')
  if (o.role !== 'cmd' && o.pools.length === 0) throw new CliError('--pools needs at least one prefix, e.g. 2001:db8:1::/48')
  const pools = o.pools.map(p => {
    try {
      const parsed = parsePrefix(p)
      return `${parsed.prefix}/${parsed.prefixLength}`
    } catch (err) {
      throw new CliError(`--pools: ${err instanceof Error ? err.message : String(err)}`)
    }
  })
  if (o.addresses.length === 0) throw new CliError('--address needs the MAAR\'s tunnel address, e.g. 2001:db8:ffff::1')
  const addresses = o.addresses.map(a => {
    try {
      return canonicalIpv6(a)
    } catch (err) {
      throw new CliError(`--address: ${err instanceof Error ? err.message : String(err)}`)
    }
  })
  if (!Number.isFinite(o.days) || o.days <= 0) throw new CliError(`--days must be a positive number, got ${o.days}`)
  const notAfter = Date.now() + o.days * 86400_000
  const bytes = await issueCertificate(operator, { ...(o.role === 'cmd' ? { role: 'cmd' as const } : {}), domain: o.domain, peerId, pools, addresses, notAfter })
  await writeCertificateFile(o.out, bytes)
  return { peerId, notAfter: new Date(notAfter).toISOString() }
}
