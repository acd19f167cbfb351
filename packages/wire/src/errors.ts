/**
 * The one error type of the codec. Every way bytes (or a message to encode) can be wrong has a
 * code, and `offset` says where: a byte offset from the start of the Mobility Header (for encode
 * errors, the offset the encoder had reached; -1 when no byte position applies).
 */
export type WireErrorCode =
  /** The bytes end before a field the layout requires. */
  | 'TRUNCATED'
  /** A length field (header length, option length) disagrees with the layout or the bytes. */
  | 'BAD_LENGTH'
  /** An option breaks its alignment rule (only with `strictAlignment`). */
  | 'BAD_ALIGNMENT'
  /** MH type this codec does not handle (RFC 6275 §9.2: answer with a Binding Error). */
  | 'UNKNOWN_TYPE'
  /** An option (or its type/length header) runs past the end of the message. */
  | 'OPTION_OVERRUN'
  /** Checksum does not match the pseudo-header given (RFC 6275 §6.1.1). */
  | 'BAD_CHECKSUM'
  /** A field holds a value outside its range (prefix length > 128, bad UTF-8, ...). */
  | 'BAD_VALUE'
  /** Payload Proto is not 59 (RFC 6275 §6.1.1: no next header). */
  | 'BAD_PROTO'

export class WireError extends Error {
  constructor (readonly code: WireErrorCode, readonly offset: number, what: string) {
    super(offset >= 0 ? `${code} at offset ${offset}: ${what}` : `${code}: ${what}`)
    this.name = 'WireError'
  }
}
