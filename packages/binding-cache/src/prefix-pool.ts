/**
 * The MAAR's exclusive prefix pools, cut into delegated prefixes (RFC 8885 §3.1: a MAAR delegates
 * a prefix of its own pool to each MN attaching to it). Pure: which prefixes are taken comes from
 * the binding cache's allocations, so the pool holds no state that a restart could lose.
 */
import { formatPrefix, parseIpv6, parsePrefix, prefixContains, subPrefix, subPrefixCount } from '@dmm-mesh/wire'
import type { Ipv6Prefix } from '@dmm-mesh/wire'
import { InvalidPoolError, PoolExhaustedError } from './errors.js'

function toBigInt (address: string): bigint {
  let n = 0n
  for (const b of parseIpv6(address)) n = (n << 8n) | BigInt(b)
  return n
}

function tryParse (text: string): Ipv6Prefix | undefined {
  try {
    return parsePrefix(text)
  } catch {
    return undefined
  }
}

export class PrefixPool {
  readonly pools: readonly Ipv6Prefix[]
  readonly subLength: number

  /** pools: e.g. ["2001:db8:1::/48"], cut into /subLength (default 64). Refuses overlapping pools. */
  constructor (pools: string[], subLength = 64) {
    if (!Array.isArray(pools) || pools.length === 0) throw new InvalidPoolError(String(pools), 'at least one pool is needed')
    if (!Number.isInteger(subLength) || subLength < 1 || subLength > 128) throw new InvalidPoolError(pools.join(', '), `bad delegated prefix length /${subLength}`)
    const parsed: Ipv6Prefix[] = []
    for (const text of pools) {
      let p: Ipv6Prefix
      try {
        p = parsePrefix(text)
      } catch (err) {
        throw new InvalidPoolError(String(text), err instanceof Error ? err.message : String(err))
      }
      if (p.prefixLength > subLength) throw new InvalidPoolError(text, `cannot be cut into /${subLength} prefixes`)
      const clash = parsed.find(q => prefixContains(q, p) || prefixContains(p, q))
      if (clash !== undefined) throw new InvalidPoolError(text, `overlaps pool ${formatPrefix(clash)}`)
      parsed.push(p)
    }
    this.pools = parsed
    this.subLength = subLength
  }

  /** The prefix is one of this pool's sub-prefixes (exactly /subLength inside one pool). */
  contains (prefix: string): boolean {
    const p = tryParse(prefix)
    return p !== undefined && p.prefixLength === this.subLength && this.pools.some(pool => prefixContains(pool, p))
  }

  /**
   * First free prefix given the current allocations (lowest index first, pools in order);
   * throws PoolExhaustedError. Entries of `allocated` outside the pool are ignored.
   */
  nextFree (allocated: ReadonlySet<string>): string {
    const shift = BigInt(128 - this.subLength)
    for (const pool of this.pools) {
      // Indices taken in this pool; the lowest index not taken is free.
      const base = toBigInt(pool.prefix) >> shift
      const taken = new Set<bigint>()
      for (const text of allocated) {
        const p = tryParse(text)
        if (p !== undefined && p.prefixLength === this.subLength && prefixContains(pool, p)) taken.add((toBigInt(p.prefix) >> shift) - base)
      }
      const count = BigInt(subPrefixCount(pool, this.subLength))
      let index = 0n
      while (taken.has(index)) index++
      if (index < count) return formatPrefix(subPrefix(pool, this.subLength, Number(index)))
    }
    throw new PoolExhaustedError(this.pools.map(formatPrefix), this.size())
  }

  /** Number of delegable prefixes, capped at Number.MAX_SAFE_INTEGER. */
  size (): number {
    return Math.min(Number.MAX_SAFE_INTEGER, this.pools.reduce((n, pool) => n + subPrefixCount(pool, this.subLength), 0))
  }
}
