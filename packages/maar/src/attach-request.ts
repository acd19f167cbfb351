/** The attach trigger (RFC 5213 §6.9.1.1): an MN came up on one of this MAAR's access links. */
export interface AttachRequest {
  mnId: string
  accessLink: string
  /** The MN's link-layer id, MAC text. */
  linkLayerId: string
  /** RFC 5213 §8.5 value (default 3, IEEE 802.3). */
  accessTechnology?: number
}

export class AttachError extends Error {}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i

export function validateAttach (req: AttachRequest): void {
  if (typeof req.mnId !== 'string' || req.mnId.length === 0 || req.mnId.length > 253) throw new AttachError('mnId must be a non-empty NAI of at most 253 characters (RFC 4282)')
  if (typeof req.accessLink !== 'string' || req.accessLink.length === 0) throw new AttachError('accessLink must name the access link')
  if (typeof req.linkLayerId !== 'string' || !MAC.test(req.linkLayerId)) throw new AttachError(`linkLayerId ${JSON.stringify(req.linkLayerId)} is not a MAC address like 02:00:00:00:00:01`)
  if (req.accessTechnology !== undefined && (!Number.isInteger(req.accessTechnology) || req.accessTechnology < 0 || req.accessTechnology > 255)) throw new AttachError('accessTechnology must be an integer 0-255 (RFC 5213 §8.5)')
}
