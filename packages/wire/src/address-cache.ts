/**
 * Parsed IPv6 addresses by text, for the codec's hot path: a MAAR encodes and checks the same
 * few addresses (its peers, its prefixes) over and over, and parsing text is most of the cost.
 * Bounded; the returned bytes are shared and must never be written to.
 */
import { parseIpv6 } from './ipv6.js'

const MAX_ENTRIES = 4096
const cache = new Map<string, Uint8Array>()

/** parseIpv6 with a bounded cache; throws what parseIpv6 throws. */
export function cachedIpv6 (text: string): Uint8Array {
  let bytes = cache.get(text)
  if (bytes === undefined) {
    bytes = parseIpv6(text)
    if (cache.size >= MAX_ENTRIES) cache.clear()
    cache.set(text, bytes)
  }
  return bytes
}
