/** The attach trigger (RFC 5213 §6.9.1.1): an MN came up on one of this MAAR's access links. */
import { checkMnId } from '@dmm-mesh/discovery'

export interface AttachRequest {
  mnId: string
  accessLink: string
  /** The MN's link-layer id, MAC text. */
  linkLayerId: string
  /** RFC 5213 §8.5 value (default 3, IEEE 802.3). */
  accessTechnology?: number
}

/** The attach request itself is wrong (the management API answers 400). */
export class AttachError extends Error {}

/**
 * The attach cannot be decided now and must not be guessed (the API answers 503): the MN's
 * session could not be looked up, so a first attach could give it a second serving MAAR.
 */
export class AttachDeferredError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AttachDeferredError'
  }
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i

export function validateAttach (req: AttachRequest): void {
  try {
    // The same bound as records and the MN Identifier option: at most 254 UTF-8 octets (RFC 4283 §3).
    checkMnId(req.mnId)
  } catch (err) {
    throw new AttachError(err instanceof Error ? err.message.replace(/^session record malformed: /, '') : String(err))
  }
  if (typeof req.accessLink !== 'string' || req.accessLink.length === 0) throw new AttachError('accessLink must name the access link')
  if (typeof req.linkLayerId !== 'string' || !MAC.test(req.linkLayerId)) throw new AttachError(`linkLayerId ${JSON.stringify(req.linkLayerId)} is not a MAC address like 02:00:00:00:00:01`)
  if (req.accessTechnology !== undefined && (!Number.isInteger(req.accessTechnology) || req.accessTechnology < 0 || req.accessTechnology > 255)) throw new AttachError('accessTechnology must be an integer 0-255 (RFC 5213 §8.5)')
}
