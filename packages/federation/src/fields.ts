/** Strict field checks shared by the agreement and revocation codecs: each failure names its field. */
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { formatPrefix, parsePrefix } from '@dmm-mesh/wire'

export function fieldError (field: string, why: string): string {
  return `${field}: ${why}`
}

/** The object's fields when it is an object with no field outside `allowed`; else `error(detail)` is thrown. */
export function strictFields (value: unknown, allowed: string[], what: string, error: (detail: string) => Error): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw error(fieldError(what, 'must be an object'))
  const extra = Object.keys(value).find(k => !allowed.includes(k))
  if (extra !== undefined) throw error(fieldError(`${what}.${extra.slice(0, 40)}`, `unknown field (allowed: ${allowed.join(', ')})`))
  return value as Record<string, unknown>
}

/** The key in the one base64 protobuf form TrustStore uses; undefined when it is not a public key. */
export function canonicalKey (text: unknown): string | undefined {
  if (typeof text !== 'string' || text.length > 256 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined
  try {
    return Buffer.from(publicKeyToProtobuf(publicKeyFromProtobuf(Buffer.from(text, 'base64')))).toString('base64')
  } catch {
    return undefined
  }
}

/** Why `value` is not a domain name (as certificates hold them), or undefined. */
export function checkDomain (value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253) return 'must be a domain name of 1..253 characters'
  return undefined
}

/** Why `value` is not a list of 1..max canonical IPv6 prefixes, and at which index. */
export function checkPrefixList (value: unknown, max: number): { index?: number, reason: string } | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > max) return { reason: `must list 1..${max} IPv6 prefixes` }
  for (let i = 0; i < value.length; i++) {
    const p: unknown = value[i]
    try {
      if (typeof p !== 'string' || formatPrefix(parsePrefix(p)) !== p) return { index: i, reason: `${JSON.stringify(p).slice(0, 60)} is not a canonical IPv6 prefix (RFC 5952, host bits clear)` }
    } catch (err) {
      return { index: i, reason: `${JSON.stringify(p).slice(0, 60)}: ${err instanceof Error ? err.message : String(err)}` }
    }
  }
  return undefined
}

/** Why `value` is not an ISO 8601 UTC time as Date.toISOString writes it, or undefined. */
export function checkIsoTime (value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/.test(value) || Number.isNaN(Date.parse(value))) return 'must be an ISO 8601 UTC time such as 2026-01-31T00:00:00Z'
  return undefined
}

/** JSON.parse with the line of a syntax error in the message (`source:line: why`). */
export function jsonLine (text: string, source: string, error: (detail: string) => Error): unknown {
  if (text.length > 64 * 1024) throw error(`${source}: too large (${text.length} characters) for a federation file`)
  try {
    return JSON.parse(text)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    // V8 gives a position for most syntax errors, not for every one.
    const position = /position (\d+)/.exec(message)?.[1]
    const at = position === undefined ? source : `${source}:${text.slice(0, Number(position)).split('\n').length}`
    throw error(`${at}: not JSON: ${message}`)
  }
}
