/**
 * The MAAR's exclusive prefix pools, cut into delegated prefixes (RFC 8885 §3.1: a MAAR delegates
 * a prefix of its own pool to each MN attaching to it). Pure: which prefixes are taken comes from
 * the binding cache's allocations, so the pool holds no state that a restart could lose.
 */
import { formatPrefix, parseIpv6, parsePrefix, prefixContains, subPrefix, subPrefixCount } from '@dmm-mesh/wire'
import type { Ipv6Prefix } from '@dmm-mesh/wire'
import { InvalidPoolError } from './errors.js'
import { FreePrefixes } from './free-prefixes.js'

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

/** Bound on the memo of parsed allocation texts (garbage input cannot grow it without limit). */
const MEMO_LIMIT = 1_000_000

export class PrefixPool {
  readonly pools: readonly Ipv6Prefix[]
  readonly subLength: number
  private readonly located = new Map<string, { pool: number, index: number } | undefined>()

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
   * throws PoolExhaustedError. Entries of `allocated` outside the pool are ignored. O(allocated):
   * a MAAR keeps a FreePrefixes instead (BindingCache.freePrefixes), which answers the same.
   */
  nextFree (allocated: ReadonlySet<string>): string {
    return new FreePrefixes(this, allocated).lowest()
  }

  /** How many sub-prefixes pool `pool` (its place in `pools`) holds. */
  countOf (pool: number): number {
    const p = this.pools[pool]
    return p === undefined ? 0 : subPrefixCount(p, this.subLength)
  }

  /** Sub-prefix `index` of pool `pool`, as text. */
  prefixAt (pool: number, index: number): string {
    const p = this.pools[pool]
    if (p === undefined) throw new RangeError(`no pool ${pool}`)
    return formatPrefix(subPrefix(p, this.subLength, index))
  }

  /**
   * Pool number and index of a sub-prefix text, or undefined when it is not one. Memoised: the
   * same texts come back on every commit, and parsing them again each time cost ~60 ms at
   * 10,000 allocations (bench/storage.ts).
   */
  position (text: string): { pool: number, index: number } | undefined {
    if (this.located.has(text)) return this.located.get(text)
    const p = tryParse(text)
    const shift = BigInt(128 - this.subLength)
    let hit: { pool: number, index: number } | undefined
    if (p !== undefined && p.prefixLength === this.subLength) {
      const value = toBigInt(p.prefix)
      const pool = this.pools.findIndex(q => prefixContains(q, p))
      if (pool >= 0) hit = { pool, index: Number((value >> shift) - (toBigInt(this.pools[pool]?.prefix ?? '::') >> shift)) }
    }
    if (this.located.size >= MEMO_LIMIT) this.located.clear()
    this.located.set(text, hit)
    return hit
  }

  /** Number of delegable prefixes, capped at Number.MAX_SAFE_INTEGER. */
  size (): number {
    return Math.min(Number.MAX_SAFE_INTEGER, this.pools.reduce((n, pool) => n + subPrefixCount(pool, this.subLength), 0))
  }
}
