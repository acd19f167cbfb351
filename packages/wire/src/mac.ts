/** Link-layer address text ("02:00:00:00:00:01") <-> bytes, for the link-layer options. */
import { WireError } from './errors.js'

/** Parses colon- or dash-separated hex octets (EUI-48 or EUI-64). */
export function macToBytes (text: string): Uint8Array {
  const parts = typeof text === 'string' ? text.split(/[:-]/) : []
  if ((parts.length !== 6 && parts.length !== 8) || !parts.every(p => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new WireError('BAD_VALUE', -1, `not a link-layer address (6 or 8 hex octets): ${JSON.stringify(text)}`)
  }
  return Uint8Array.from(parts, p => parseInt(p, 16))
}

/** Lower-case, colon-separated. */
export function macFromBytes (b: Uint8Array): string {
  return Array.from(b, v => v.toString(16).padStart(2, '0')).join(':')
}
