/**
 * The legacy PMIPv6 mode (draft-bernardos-dmm-pmip Appendix A.5) as one MAAR's strategy: the LMA
 * delegates and anchors every prefix, a MAG anchors nothing and registers with the LMA. The
 * serving and anchor sides get their parts from here and keep no branch for it.
 */
import type { CmdPeer } from './cmd-signaller.js'
import { legacyAnchoring, noLocalPrefix } from './legacy-lma.js'
import { LegacySignaller } from './legacy-signaller.js'
import type { MaarComponents, ModeStrategy, SignallingParts } from './maar.js'

/** `lma`: the LMA to register with; undefined when this MAAR is the LMA. */
export function legacyMode (lma: CmdPeer | undefined, p: SignallingParts): ModeStrategy {
  const signaller = new LegacySignaller(lma, p)
  return lma === undefined
    ? { signaller, anchorPolicy: legacyAnchoring(p.pool) }
    : { signaller, anchorPolicy: legacyAnchoring(), delegation: noLocalPrefix }
}

/**
 * For a domain built in one process (local-mesh.ts, the quickstart, tests), where the LMA's
 * address is known only once it runs: the first MAAR built is the LMA (again when it restarts),
 * every later one a MAG of it.
 */
export function legacyLocalDomain (): NonNullable<MaarComponents['signalling']> {
  let lma: CmdPeer | undefined
  return p => {
    const self = p.self()
    if (lma === undefined || lma.peerId === self.peerId) {
      lma = { peerId: self.peerId, multiaddrs: self.multiaddrs }
      return legacyMode(undefined, p)
    }
    const current = lma
    return legacyMode({ peerId: current.peerId, multiaddrs: current.multiaddrs }, p)
  }
}
