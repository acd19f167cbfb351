/**
 * Longest-prefix match over IPv6 prefixes, as a router's FIB does it: one hash map per prefix
 * length, probed from the longest length down, so a lookup costs O(distinct lengths), not
 * O(routes) — the simulation keeps thousands of MNs per MAAR.
 */
import { parseIpv6 } from '@dmm-mesh/wire'
import type { Ipv6Prefix } from '@dmm-mesh/wire'

export function addressToBigInt (address: string): bigint {
  let n = 0n
  for (const b of parseIpv6(address)) n = (n << 8n) | BigInt(b)
  return n
}

function network (value: bigint, length: number): bigint {
  return length === 0 ? 0n : value >> BigInt(128 - length)
}

export class PrefixTable<T> {
  private readonly byLength = new Map<number, Map<bigint, T>>()
  private lengths: number[] = []

  set (prefix: Ipv6Prefix, value: T): void {
    let table = this.byLength.get(prefix.prefixLength)
    if (table === undefined) {
      table = new Map()
      this.byLength.set(prefix.prefixLength, table)
      this.lengths = [...this.byLength.keys()].sort((a, b) => b - a)
    }
    table.set(network(addressToBigInt(prefix.prefix), prefix.prefixLength), value)
  }

  delete (prefix: Ipv6Prefix): void {
    this.byLength.get(prefix.prefixLength)?.delete(network(addressToBigInt(prefix.prefix), prefix.prefixLength))
  }

  /** The value of the longest prefix containing `address` (canonical or not). */
  lookup (address: string): T | undefined {
    const value = addressToBigInt(address)
    for (const length of this.lengths) {
      const hit = this.byLength.get(length)?.get(network(value, length))
      if (hit !== undefined) return hit
    }
    return undefined
  }
}
