/**
 * IPv6 address and prefix text <-> bytes, canonical text per RFC 5952 §4
 * (lower case, longest run of zero groups compressed, first one on a tie, no lone-group "::").
 */

export class Ipv6FormatError extends Error {
  constructor (readonly input: string, reason: string) {
    super(`invalid IPv6 ${JSON.stringify(input)}: ${reason}`)
    this.name = 'Ipv6FormatError'
  }
}

/** Parses IPv6 text (RFC 4291 §2.2 forms, including an embedded IPv4 tail) into 16 bytes. */
export function parseIpv6 (text: string): Uint8Array {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) throw new Ipv6FormatError(String(text), 'wrong length')
  const halves = text.split('::')
  if (halves.length > 2) throw new Ipv6FormatError(text, 'more than one "::"')
  const parseGroups = (part: string): number[] => {
    if (part === '') return []
    const groups: number[] = []
    const pieces = part.split(':')
    pieces.forEach((piece, i) => {
      if (i === pieces.length - 1 && piece.includes('.')) {
        const octets = piece.split('.')
        if (octets.length !== 4 || octets.some(o => !/^\d{1,3}$/.test(o) || Number(o) > 255)) throw new Ipv6FormatError(text, `bad IPv4 tail ${piece}`)
        const n = octets.map(Number) as [number, number, number, number]
        groups.push((n[0] << 8) | n[1], (n[2] << 8) | n[3])
        return
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) throw new Ipv6FormatError(text, `bad group ${JSON.stringify(piece)}`)
      groups.push(parseInt(piece, 16))
    })
    return groups
  }
  const head = parseGroups(halves[0] ?? '')
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : []
  let groups: number[]
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length
    if (fill < 1) throw new Ipv6FormatError(text, '"::" stands for no group')
    groups = [...head, ...new Array<number>(fill).fill(0), ...tail]
  } else {
    groups = head
  }
  if (groups.length !== 8) throw new Ipv6FormatError(text, `${groups.length} groups, need 8`)
  const bytes = new Uint8Array(16)
  groups.forEach((g, i) => { bytes[2 * i] = g >> 8; bytes[2 * i + 1] = g & 0xff })
  return bytes
}

/** Formats 16 bytes as canonical RFC 5952 text. */
export function formatIpv6 (bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`IPv6 address needs 16 bytes, got ${bytes.length}`)
  const groups: number[] = []
  for (let i = 0; i < 8; i++) groups.push(((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0))
  // RFC 5952 §4.2.2/4.2.3: compress the longest run of two or more zero groups, the first on a tie.
  let bestStart = -1; let bestLen = 0
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) { bestStart = i; bestLen = j - i }
    i = j
  }
  const hex = groups.map(g => g.toString(16))
  if (bestLen < 2) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`
}

/** Canonical text of any valid IPv6 text. */
export function canonicalIpv6 (text: string): string {
  return formatIpv6(parseIpv6(text))
}

export interface Ipv6Prefix { prefix: string, prefixLength: number }

/** Parses "2001:db8:1::/64"; host bits must be zero. */
export function parsePrefix (text: string): Ipv6Prefix {
  const slash = typeof text === 'string' ? text.indexOf('/') : -1
  if (slash < 0) throw new Ipv6FormatError(String(text), 'prefix needs "/length"')
  const lenText = text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > 128) throw new Ipv6FormatError(text, `bad prefix length ${JSON.stringify(lenText)}`)
  const prefixLength = Number(lenText)
  const bytes = parseIpv6(text.slice(0, slash))
  if (!equalBytes(maskBytes(bytes, prefixLength), bytes)) throw new Ipv6FormatError(text, 'host bits set beyond the prefix length')
  return { prefix: formatIpv6(bytes), prefixLength }
}

export function formatPrefix (p: Ipv6Prefix): string {
  return `${p.prefix}/${p.prefixLength}`
}

/** Keeps the first `length` bits. */
export function maskBytes (bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(16)
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, length - 8 * i))
    out[i] = (bytes[i] ?? 0) & ((0xff << (8 - bits)) & 0xff)
  }
  return out
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

/** True when `inner` (a prefix or an address as /128) lies inside `outer`. */
export function prefixContains (outer: Ipv6Prefix, inner: Ipv6Prefix | string): boolean {
  const inn = typeof inner === 'string' ? { prefix: inner, prefixLength: 128 } : inner
  if (inn.prefixLength < outer.prefixLength) return false
  return equalBytes(maskBytes(parseIpv6(inn.prefix), outer.prefixLength), maskBytes(parseIpv6(outer.prefix), outer.prefixLength))
}

/**
 * The `index`-th sub-prefix of length `subLength` inside `pool` (e.g. the 5th /64 of a /48).
 * Throws RangeError when the index falls outside the pool.
 */
export function subPrefix (pool: Ipv6Prefix, subLength: number, index: number): Ipv6Prefix {
  const bitsAvailable = subLength - pool.prefixLength
  if (bitsAvailable < 0 || subLength > 128) throw new RangeError(`cannot cut /${subLength} out of /${pool.prefixLength}`)
  if (!Number.isInteger(index) || index < 0 || (bitsAvailable < 53 && index >= 2 ** bitsAvailable)) throw new RangeError(`sub-prefix ${index} outside ${formatPrefix(pool)}`)
  const bytes = parseIpv6(pool.prefix)
  // Add index << (128 - subLength) into the address, byte by byte from the right.
  let carry = BigInt(index) << BigInt(128 - subLength)
  for (let i = 15; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(bytes[i] ?? 0) + (carry & 0xffn)
    bytes[i] = Number(sum & 0xffn)
    carry = (carry >> 8n) + (sum >> 8n)
  }
  return { prefix: formatIpv6(bytes), prefixLength: subLength }
}

/** Number of `subLength` prefixes in `pool`, capped at Number.MAX_SAFE_INTEGER. */
export function subPrefixCount (pool: Ipv6Prefix, subLength: number): number {
  const bits = subLength - pool.prefixLength
  if (bits < 0) return 0
  return bits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** bits
}

/** An address inside `prefix` with the given interface id (low 64 bits), e.g. ::1 for the router. */
export function addressInPrefix (prefix: Ipv6Prefix, interfaceId: bigint): string {
  const bytes = parseIpv6(prefix.prefix)
  for (let i = 15; i >= 8; i--) { bytes[i] = Number(interfaceId & 0xffn); interfaceId >>= 8n }
  return formatIpv6(bytes)
}
