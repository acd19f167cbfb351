/**
 * What the live view shows of a MAAR at one moment: its identity, the peers it is connected to,
 * its binding cache split by role (RFC 8885 §3.1) and its recent handovers.
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { KnownPeer, Maar } from '@dmm-mesh/maar'
import type { HandoverLog, LoggedHandover } from './handover-log.js'

/** An MN attached here: its prefixes routed natively, and an uplink tunnel per remote anchor. */
export interface ServingBinding {
  mnId: string
  prefixes: string[]
  access?: { link: string, linkLayerId: string }
  uplinks: Array<{ prefix: string, anchor: string, peerId: string, pending: boolean }>
  expiresAt?: string
  sessionSequence: number
}

/** An MN that moved on: its prefixes anchored here go down the tunnel to its serving MAAR. */
export interface AnchoredBinding {
  mnId: string
  prefixes: string[]
  downlink: { servingMaar: string, peerId: string }
  sessionSequence: number
}

export interface LiveSnapshot {
  maar: { name: string, peerId: string, address: string, multiaddrs: string[] }
  peers: KnownPeer[]
  serving: ServingBinding[]
  anchored: AnchoredBinding[]
  /** Entries in neither role: a prefix reserved for an attach that has not completed. */
  reserved: Array<{ mnId: string, prefixes: string[] }>
  handovers: LoggedHandover[]
}

function servingOf (e: BindingCacheEntry): ServingBinding {
  return {
    mnId: e.mnId,
    prefixes: e.localPrefixes,
    ...(e.access !== undefined ? { access: { link: e.access.link, linkLayerId: e.access.linkLayerId } } : {}),
    uplinks: e.remoteAnchors.map(a => ({ prefix: a.prefix, anchor: a.address, peerId: a.peerId, pending: a.pendingUntil !== undefined })),
    ...(e.expiresAt !== undefined ? { expiresAt: new Date(e.expiresAt).toISOString() } : {}),
    sessionSequence: e.sessionSequence
  }
}

export async function liveSnapshot (maar: Maar, handovers: HandoverLog): Promise<LiveSnapshot> {
  const snapshot: LiveSnapshot = {
    maar: { name: maar.name, peerId: maar.peerId, address: maar.address, multiaddrs: maar.multiaddrs() },
    peers: maar.knownPeers(),
    serving: [],
    anchored: [],
    reserved: [],
    handovers: handovers.recent()
  }
  for (const e of await maar.bindings()) {
    if (e.attached) snapshot.serving.push(servingOf(e))
    else if (e.servingMaar !== undefined) snapshot.anchored.push({ mnId: e.mnId, prefixes: e.localPrefixes, downlink: { servingMaar: e.servingMaar.address, peerId: e.servingMaar.peerId }, sessionSequence: e.sessionSequence })
    else snapshot.reserved.push({ mnId: e.mnId, prefixes: e.localPrefixes })
  }
  return snapshot
}
