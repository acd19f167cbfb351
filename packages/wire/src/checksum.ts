/**
 * Mobility Header checksum (RFC 6275 §6.1.1): the 16-bit one's complement of the one's
 * complement sum of the IPv6 pseudo-header (RFC 2460 §8.1, next header 135) and the whole MH.
 */
import { WireError } from './errors.js'
import { cachedIpv6 } from './address-cache.js'
import type { PseudoHeader } from './types.js'

export const IPPROTO_MH = 135

/** 16 + 16 address bytes of the pseudo-header, or a BAD_VALUE WireError. */
export function pseudoAddresses (pseudo: PseudoHeader): { source: Uint8Array, destination: Uint8Array } {
  try {
    return { source: cachedIpv6(pseudo.source), destination: cachedIpv6(pseudo.destination) }
  } catch (err) {
    throw new WireError('BAD_VALUE', -1, `pseudo-header address: ${(err as Error).message}`)
  }
}

function sumWords (bytes: Uint8Array, sum: number): number {
  const n = bytes.length
  for (let i = 0; i + 1 < n; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!
  if (n % 2 === 1) sum += bytes[n - 1]! << 8
  return sum
}

/** One's complement sum (folded, not complemented) of pseudo-header and message. */
function onesSum (pseudo: PseudoHeader, mh: Uint8Array): number {
  const { source, destination } = pseudoAddresses(pseudo)
  let sum = sumWords(source, 0)
  sum = sumWords(destination, sum)
  // Upper-layer packet length (32 bits), three zero octets, next header.
  sum += Math.floor(mh.length / 0x10000) + (mh.length & 0xffff) + IPPROTO_MH
  sum = sumWords(mh, sum)
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000)
  return sum
}

/** The checksum to write, computed with the checksum field (bytes 4–5) taken as zero. */
export function mobilityChecksum (pseudo: PseudoHeader, mh: Uint8Array): number {
  const field = ((mh[4] ?? 0) << 8) | (mh[5] ?? 0)
  let sum = onesSum(pseudo, mh) + (~field & 0xffff) // remove the field's contribution
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

/** True when the checksum in the message verifies (the sum over everything is all ones). */
export function checksumValid (pseudo: PseudoHeader, mh: Uint8Array): boolean {
  return onesSum(pseudo, mh) === 0xffff
}
