/**
 * The address an MN forms from an advertised prefix (RFC 4862 §5.5.3 SLAAC): the prefix plus a
 * 64-bit interface identifier, Modified EUI-64 from its MAC (RFC 4291 Appendix A) when the
 * link-layer id is one, else a stable hash of the MN-ID (in the spirit of RFC 7217).
 */
import { createHash } from 'node:crypto'
import { addressInPrefix } from '@dmm-mesh/wire'
import type { Ipv6Prefix } from '@dmm-mesh/wire'

const MAC = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i

export function interfaceId (linkLayerId: string, mnId: string): bigint {
  const mac = MAC.exec(linkLayerId)
  if (mac !== null) {
    const b = mac.slice(1).map(h => parseInt(h, 16)) as [number, number, number, number, number, number]
    // Insert ff:fe in the middle and flip the universal/local bit.
    return [b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]].reduce((n, x) => (n << 8n) | BigInt(x), 0n)
  }
  const digest = createHash('sha256').update(mnId).digest()
  return digest.subarray(0, 8).reduce((n, x) => (n << 8n) | BigInt(x), 0n) & ~(0x02n << 56n)
}

/** SLAAC needs room for a 64-bit interface id: prefixes longer than /64 give no address. */
export function slaacAddress (prefix: Ipv6Prefix, iid: bigint): string | undefined {
  return prefix.prefixLength > 64 ? undefined : addressInPrefix(prefix, iid)
}
