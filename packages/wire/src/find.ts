/** Reading options out of a message, and status codes as names. */
import { BINDING_ACK_STATUS } from './types.js'
import type { MobilityMessage, MobilityOption } from './types.js'

/** The option variant(s) whose `type` can be T (PrefixOption serves three types). */
export type OptionOfType<T extends MobilityOption['type'], O = MobilityOption> =
  O extends { type: infer U } ? (T extends U ? O : never) : never

/** The first option of the given type, if any. */
export function findOption<T extends MobilityOption['type']> (msg: MobilityMessage, type: T): OptionOfType<T> | undefined {
  return msg.options.find(o => o.type === type) as OptionOfType<T> | undefined
}

/** Every option of the given type, in message order. */
export function findOptions<T extends MobilityOption['type']> (msg: MobilityMessage, type: T): Array<OptionOfType<T>> {
  return msg.options.filter(o => o.type === type) as Array<OptionOfType<T>>
}

const STATUS_NAMES = new Map<number, string>(Object.entries(BINDING_ACK_STATUS).map(([name, code]) => [code, name]))

/** 'ACCEPTED', 'NOT_LMA_FOR_THIS_MOBILE_NODE', ...; 'STATUS_<n>' for codes not in the table. */
export function statusName (status: number): string {
  return STATUS_NAMES.get(status) ?? `STATUS_${status}`
}
