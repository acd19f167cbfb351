/**
 * The part of a signalling strategy that leaves retransmission (RFC 5213 §6.9.4) to the direct
 * path: PBUs to P-MAARs that did not answer are sent again by the DirectSignaller's
 * Retransmitter whatever mode registered them (CMD, hybrid, legacy).
 */
import type { DirectSignaller } from './direct-signaller.js'
import type { PMaar } from './pmaar-list.js'
import type { AnchorSignaller, Registration } from './signaller.js'

export abstract class RetransmitsDirectly implements Pick<AnchorSignaller, 'retransmit' | 'cancel' | 'stop'> {
  constructor (protected readonly direct: DirectSignaller) {}

  retransmit (r: Registration, until: (p: PMaar) => number, firstDelayMs?: number): void {
    this.direct.retransmit(r, until, firstDelayMs)
  }

  cancel (mnId: string): void {
    this.direct.cancel(mnId)
  }

  stop (): void {
    this.direct.stop()
  }
}
