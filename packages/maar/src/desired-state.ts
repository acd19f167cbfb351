/**
 * The data plane a MAAR should have, derived from its binding cache alone, so that a handover,
 * a restart and a reconciliation are one `apply(desiredState(entries))`.
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { DataPlaneState } from '@dmm-mesh/dataplane'

export function desiredState (entries: BindingCacheEntry[], self: { address: string }): DataPlaneState {
  const state: DataPlaneState = { local: [], downlinks: [], uplinks: [], advertisements: [] }
  for (const e of entries) {
    if (e.attached && e.access !== undefined) {
      const { link, linkLayerId } = e.access
      // The MN is here: its own prefixes are routed natively (RFC 8885 §3.1, S-MAAR) ...
      for (const prefix of e.localPrefixes) state.local.push({ mnId: e.mnId, prefix, accessLink: link, linkLayerId })
      // ... and each prefix anchored elsewhere goes up the tunnel to its anchor (MAG role, RFC 5213 §6.10.3).
      for (const a of e.remoteAnchors) state.uplinks.push({ mnId: e.mnId, prefix: a.prefix, remote: a.address, accessLink: link })
      // draft-ietf-dmm-distributed-mobility-anchoring §4.1: the local prefix preferred, the others
      // deprecated. With no prefix of its own (a MAG of legacy PMIPv6, RFC 5213 §6.7) the home
      // network prefix from the LMA is the MN's only one, and preferred.
      const ownPrefix = e.localPrefixes.length > 0
      state.advertisements.push({
        mnId: e.mnId,
        accessLink: link,
        linkLayerId,
        prefixes: [
          ...e.localPrefixes.map(prefix => ({ prefix, preferred: true, anchor: self.address })),
          ...e.remoteAnchors.map(a => ({ prefix: a.prefix, preferred: !ownPrefix, anchor: a.address }))
        ]
      })
    } else if (!e.attached && e.servingMaar !== undefined) {
      // Anchor role (P-MAAR): the MN's prefixes go down the tunnel to its serving MAAR.
      for (const prefix of e.localPrefixes) state.downlinks.push({ mnId: e.mnId, prefix, remote: e.servingMaar.address })
    }
  }
  return state
}
