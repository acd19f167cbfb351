export * from './types.js'
export * from './ipv6.js'
export { WireError } from './errors.js'
export type { WireErrorCode } from './errors.js'
export { encodeMobilityMessage, decodeMobilityMessage, MH_PAYLOAD_PROTO, MAX_MESSAGE_LENGTH } from './message.js'
export type { DecodeOptions } from './message.js'
export { mobilityChecksum, checksumValid, IPPROTO_MH } from './checksum.js'
export { timestampAfter, timestampFromMillis, timestampToMillis } from './timestamp.js'
export { findOption, findOptions, statusName } from './find.js'
export type { OptionOfType } from './find.js'
export { writePcap, pcapFileHeader, pcapRecord, LINKTYPE_IPV6 } from './pcap.js'
export type { PcapFrame } from './pcap.js'
export { macToBytes, macFromBytes } from './mac.js'
export { cachedByText, cachedPrefix } from './address-cache.js'
export { maarRef } from './maar-ref.js'
export type { MaarRef } from './maar-ref.js'
export {
  VENDOR_SPECIFIC_OPTION_TYPE, DMM_MESH_VENDOR_ID, SUBTYPE_MAAR_LOCATOR, SUBTYPE_ANSWER_SERVING_MAAR, SUBTYPE_SESSION_SEQUENCE, SUBTYPE_PENDING,
  encodeVendorSpecific, decodeVendorSpecific, encodeMaarLocator, decodeMaarLocator,
  encodeAnswerServingMaar, encodeSessionSequence, encodePending, findDmmVendor, decodeSessionSequence,
  SUBTYPE_REASON, encodeReason, decodeReason, SUBTYPE_REFUSED, encodeRefusal, decodeRefusal
} from './vendor-option.js'
export type { VendorSpecific, Refusal } from './vendor-option.js'
