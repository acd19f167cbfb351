/**
 * Typed Mobility Header messages and mobility options.
 *
 * Addresses and prefixes are carried as canonical RFC 5952 text ("2001:db8::1"), so that
 * decode(encode(m)) deep-equals m. Pad1/PadN never appear here: the encoder inserts them and
 * the decoder drops them (RFC 6275 §6.2.2).
 */

/** Mobility Header types used by dmm-mesh (RFC 6275 §6.1.2). */
export const MH_TYPE = {
  BINDING_UPDATE: 5,
  BINDING_ACK: 6
} as const

/** Mobility option types (RFC 6275 §6.2, RFC 4283, RFC 5213 §8, RFC 8885 §4). */
export const OPTION_TYPE = {
  PAD1: 0,
  PADN: 1,
  MN_IDENTIFIER: 8,
  HOME_NETWORK_PREFIX: 22,
  HANDOFF_INDICATOR: 23,
  ACCESS_TECHNOLOGY_TYPE: 24,
  MN_LINK_LAYER_ID: 25,
  LINK_LOCAL_ADDRESS: 26,
  TIMESTAMP: 27,
  ANCHORED_PREFIX: 65,
  LOCAL_PREFIX: 66,
  PREVIOUS_MAAR: 67,
  SERVING_MAAR: 68,
  DLIF_LINK_LOCAL_ADDRESS: 69,
  DLIF_LINK_LAYER_ADDRESS: 70
} as const

/** RFC 5213 §8.4 Handoff Indicator values. */
export const HANDOFF_INDICATOR = {
  ATTACHMENT_OVER_NEW_INTERFACE: 1,
  HANDOFF_BETWEEN_DIFFERENT_INTERFACES: 2,
  HANDOFF_BETWEEN_MAGS_SAME_INTERFACE: 3,
  UNKNOWN: 4,
  NOT_CHANGED: 5
} as const

/** RFC 5213 §8.5 Access Technology Type values. */
export const ACCESS_TECHNOLOGY_TYPE = {
  VIRTUAL: 1,
  PPP: 2,
  IEEE_802_3: 3,
  IEEE_802_11: 4,
  IEEE_802_16E: 5,
  GERAN: 6,
  UTRAN: 7,
  E_UTRAN: 8
} as const

/** RFC 6275 §6.1.8 and RFC 5213 §8.9 Binding Acknowledgement status codes. */
export const BINDING_ACK_STATUS = {
  ACCEPTED: 0,
  REASON_UNSPECIFIED: 128,
  ADMINISTRATIVELY_PROHIBITED: 129,
  INSUFFICIENT_RESOURCES: 130,
  NOT_HOME_SUBNET: 132,
  SEQUENCE_NUMBER_OUT_OF_WINDOW: 135,
  NOT_LMA_FOR_THIS_MOBILE_NODE: 153,
  MAG_NOT_AUTHORIZED_FOR_PROXY_REG: 154,
  NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX: 155,
  TIMESTAMP_MISMATCH: 156,
  TIMESTAMP_LOWER_THAN_PREV_ACCEPTED: 157,
  MISSING_HOME_NETWORK_PREFIX_OPTION: 158,
  BCE_PBU_PREFIX_SET_DO_NOT_MATCH: 159,
  MISSING_MN_IDENTIFIER_OPTION: 160,
  MISSING_HANDOFF_INDICATOR_OPTION: 161,
  MISSING_ACCESS_TECH_TYPE_OPTION: 162
} as const
export type BindingAckStatus = number

/** RFC 4283 §3: MN-NAI subtype. */
export const MN_ID_SUBTYPE_NAI = 1

export interface MnIdentifierOption { type: 'mn-identifier', subtype: number, identifier: string }
export interface PrefixOption {
  type: 'home-network-prefix' | 'anchored-prefix' | 'local-prefix'
  prefix: string
  prefixLength: number
}
export interface HandoffIndicatorOption { type: 'handoff-indicator', value: number }
export interface AccessTechnologyTypeOption { type: 'access-technology-type', value: number }
export interface MnLinkLayerIdOption { type: 'mn-link-layer-id', linkLayerId: Uint8Array }
export interface AddressOption {
  type: 'link-local-address' | 'serving-maar' | 'dlif-link-local-address'
  address: string
}
/**
 * RFC 8885 §4.5 Previous MAAR option: the P-MAAR's global address AND the home network prefix it
 * anchors (the wire always carries both). The prefix is optional here so that a bare address can
 * still be sent: it then goes on the wire as ::/0 and ::/0 decodes back to "no prefix".
 */
export interface PreviousMaarOption {
  type: 'previous-maar'
  address: string
  prefix?: string
  prefixLength?: number
}
/** RFC 5213 §8.8: 64-bit NTP-like timestamp, 48-bit seconds since 1970 + 16-bit fraction. */
export interface TimestampOption { type: 'timestamp', seconds: number, fraction: number }
export interface DlifLinkLayerAddressOption { type: 'dlif-link-layer-address', linkLayerAddress: Uint8Array }
/** Any option type this codec does not interpret: kept and re-encoded byte for byte. */
export interface UnknownOption { type: 'unknown', optionType: number, data: Uint8Array }

export type MobilityOption =
  | MnIdentifierOption
  | PrefixOption
  | HandoffIndicatorOption
  | AccessTechnologyTypeOption
  | MnLinkLayerIdOption
  | AddressOption
  | PreviousMaarOption
  | TimestampOption
  | DlifLinkLayerAddressOption
  | UnknownOption

/** Binding Update flags (RFC 6275 §6.1.7, RFC 5213 §8.1). */
export interface BindingUpdateFlags {
  A: boolean
  H: boolean
  L: boolean
  K: boolean
  M: boolean
  R: boolean
  P: boolean
  /** RFC 8885 §4.1: the PBU comes from a MAAR (IANA BU flag 0x0010). Present only when set. */
  D?: boolean
}

/** Binding Acknowledgement flags (RFC 6275 §6.1.8, RFC 5213 §8.2). */
export interface BindingAckFlags {
  K: boolean
  R: boolean
  P: boolean
  /** RFC 8885 §4.2: the PBA comes from a MAAR (IANA BA flag 0x02). Present only when set. */
  D?: boolean
}

/** Proxy Binding Update: a Binding Update with the P flag (RFC 5213 §8.1). */
export interface BindingUpdate {
  kind: 'binding-update'
  sequence: number
  flags: BindingUpdateFlags
  /** Seconds; must be a multiple of 4 (the wire carries units of 4 s). 0 = de-registration. */
  lifetime: number
  options: MobilityOption[]
}

/** Proxy Binding Acknowledgement: a Binding Acknowledgement with the P flag (RFC 5213 §8.2). */
export interface BindingAck {
  kind: 'binding-ack'
  status: BindingAckStatus
  sequence: number
  flags: BindingAckFlags
  /** Seconds; a multiple of 4. */
  lifetime: number
  options: MobilityOption[]
}

export type MobilityMessage = BindingUpdate | BindingAck

/** Source and destination of the IPv6 packet, for the Mobility Header checksum (RFC 6275 §6.1.1). */
export interface PseudoHeader { source: string, destination: string }
