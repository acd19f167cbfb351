/** fast-check arbitraries for every message and option kind (canonical IPv6 text throughout). */
import fc from 'fast-check'
import { OPTION_TYPE, formatIpv6 } from '../src/index.js'
import type { BindingAck, BindingUpdate, MobilityMessage, MobilityOption } from '../src/index.js'

/** Addresses with long zero runs too, so "::" compression is exercised. */
export const ipv6 = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
    .map(groups => Uint8Array.from(groups.flatMap(g => [g >> 8, g & 0xff])))
).map(formatIpv6)

const byte = fc.integer({ min: 0, max: 255 })
const prefixLength = fc.integer({ min: 0, max: 128 })
const linkLayer = fc.uint8Array({ maxLength: 40 })
const INTERPRETED = new Set<number>([0, 1, ...Object.values(OPTION_TYPE)])

export const option: fc.Arbitrary<MobilityOption> = fc.oneof(
  fc.record({
    type: fc.constant('mn-identifier' as const),
    subtype: byte,
    identifier: fc.string({ unit: 'grapheme', maxLength: 40 }).filter(s => new TextEncoder().encode(s).length <= 254)
  }),
  fc.record({ type: fc.constantFrom('home-network-prefix' as const, 'anchored-prefix' as const, 'local-prefix' as const), prefix: ipv6, prefixLength }),
  fc.record({ type: fc.constantFrom('handoff-indicator' as const, 'access-technology-type' as const), value: byte }),
  fc.record({ type: fc.constant('mn-link-layer-id' as const), linkLayerId: linkLayer }),
  fc.record({ type: fc.constantFrom('link-local-address' as const, 'serving-maar' as const, 'dlif-link-local-address' as const), address: ipv6 }),
  fc.record({ type: fc.constant('timestamp' as const), seconds: fc.integer({ min: 0, max: 2 ** 48 - 1 }), fraction: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ type: fc.constant('dlif-link-layer-address' as const), linkLayerAddress: linkLayer }),
  fc.record({ type: fc.constant('previous-maar' as const), address: ipv6 }),
  // ::/0 is how "no prefix" travels, so a given prefix is never ::/0.
  fc.record({ type: fc.constant('previous-maar' as const), address: ipv6, prefix: ipv6, prefixLength })
    .filter(o => !(o.prefix === '::' && o.prefixLength === 0)),
  fc.record({
    type: fc.constant('unknown' as const),
    optionType: byte.filter(t => !INTERPRETED.has(t)),
    data: fc.uint8Array({ maxLength: 60 })
  })
)

const options = fc.array(option, { maxLength: 12 })
const lifetime = fc.integer({ min: 0, max: 0xffff }).map(u => u * 4)
const sequence = fc.integer({ min: 0, max: 0xffff })
/** D is present only when set (see BindingUpdateFlags). */
const dFlag = fc.boolean().map(d => (d ? { D: true } : {}))

const bindingUpdate: fc.Arbitrary<BindingUpdate> = fc.record({
  kind: fc.constant('binding-update' as const),
  sequence,
  flags: fc.tuple(fc.record({ A: fc.boolean(), H: fc.boolean(), L: fc.boolean(), K: fc.boolean(), M: fc.boolean(), R: fc.boolean(), P: fc.boolean() }), dFlag)
    .map(([f, d]) => ({ ...f, ...d })),
  lifetime,
  options
})

const bindingAck: fc.Arbitrary<BindingAck> = fc.record({
  kind: fc.constant('binding-ack' as const),
  status: byte,
  sequence,
  flags: fc.tuple(fc.record({ K: fc.boolean(), R: fc.boolean(), P: fc.boolean() }), dFlag).map(([f, d]) => ({ ...f, ...d })),
  lifetime,
  options
})

// fc.record builds null-prototype objects; the decoder builds plain ones.
export const message: fc.Arbitrary<MobilityMessage> = fc.oneof(bindingUpdate, bindingAck).map(m => structuredClone(m))
