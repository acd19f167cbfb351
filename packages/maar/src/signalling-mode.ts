/**
 * The MAAR's discovery/signalling mode as configured (issue 10), turned into its strategy — the
 * one place a mode is named; the serving side only sees an AnchorSignaller.
 * - dht (default): session lookup in the DHT, a PBU to each P-MAAR (RFC 8885 §3.1).
 * - cmd: one PBU to the CMD (draft-bernardos-dmm-pmip §3.2–3.4, in the CMD's mode).
 * - hybrid: the CMD within `timeoutMs`, else the DHT path.
 * - legacy: classic PMIPv6 (draft-bernardos-dmm-pmip Appendix A.5): `lma` is the LMA's multiaddr
 *   with /p2p/, or 'self' on the LMA; every other MAAR is a MAG of it (legacy-lma.ts).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { CmdSignaller } from './cmd-signaller.js'
import type { CmdPeer, DeregistrationVariant } from './cmd-signaller.js'
import { DirectSignaller } from './direct-signaller.js'
import { HybridSignaller } from './hybrid-signaller.js'
import { legacyMode } from './legacy-mode.js'
import type { MaarComponents } from './maar.js'

export type SignallingMode =
  | { mode: 'dht' }
  | { mode: 'cmd', cmd: string, deregistration?: DeregistrationVariant }
  | { mode: 'hybrid', cmd: string, timeoutMs?: number }
  | { mode: 'legacy', lma: string }

/** Default bound on the CMD's answer in hybrid mode. */
export const HYBRID_TIMEOUT_MS = 500

/** The CMD's (or LMA's) peer id and dial address from a multiaddr ending in /p2p/<peer id>. */
export function cmdPeer (address: string, role = 'CMD'): CmdPeer {
  const peerId = multiaddr(address).getComponents().findLast(c => c.name === 'p2p')?.value
  if (peerId === undefined) throw new TypeError(`${role} address ${address} must end with /p2p/<peer id>`)
  return { peerId, multiaddrs: [address] }
}

export function signallingFor (m: SignallingMode): NonNullable<MaarComponents['signalling']> {
  switch (m.mode) {
    case 'dht':
      return p => new DirectSignaller(p.sender, p.retransmitter, p.log)
    case 'cmd': {
      const cmd = cmdPeer(m.cmd)
      return p => new CmdSignaller(cmd, p, m.deregistration)
    }
    case 'hybrid': {
      const cmd = cmdPeer(m.cmd)
      return p => new HybridSignaller(new CmdSignaller(cmd, p), new DirectSignaller(p.sender, p.retransmitter, p.log), p.discovery, m.timeoutMs ?? HYBRID_TIMEOUT_MS, p.log)
    }
    case 'legacy': {
      const lma = m.lma === 'self' ? undefined : cmdPeer(m.lma, 'LMA')
      return p => legacyMode(lma, p)
    }
  }
}
