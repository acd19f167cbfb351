/**
 * Parsed IPv6 addresses and prefixes by text, for the codec's hot path: a MAAR encodes and checks
 * the same few addresses (its peers, its prefixes) over and over, and parsing text is most of the
 * cost. Bounded; the returned values are shared and must never be written to.
 */
import { parseIpv6, parsePrefix } from './ipv6.js'
import type { Ipv6Prefix } from './ipv6.js'

const MAX_ENTRIES = 4096

/** `parse` with a bounded cache by text (only texts that parsed are kept); throws what `parse` throws. */
export function cachedByText<T> (parse: (text: string) => T, limit = MAX_ENTRIES): (text: string) => T {
  const cache = new Map<string, T>()
  return text => {
    let value = cache.get(text)
    if (value === undefined) {
      value = parse(text)
      if (cache.size >= limit) cache.clear()
      cache.set(text, value)
    }
    return value
  }
}

/** parseIpv6 with a bounded cache. */
export const cachedIpv6: (text: string) => Uint8Array = cachedByText(parseIpv6)

/** parsePrefix with a bounded cache. */
export const cachedPrefix: (text: string) => Readonly<Ipv6Prefix> = cachedByText(parsePrefix)
