/**
 * The P-MAARs' own PBAs to one registration made through a CMD in locator mode
 * (draft-bernardos-dmm-pmip §3.3), gathered while the serving MAAR is still in its attach: the
 * CMD answers at once with every P-MAAR pending, and each P-MAAR answers the serving MAAR itself
 * a round trip later (its PBA may even overtake the CMD's). Waiting for them, bounded as the relay
 * CMD bounds its wait (§3.2), ends the handover complete instead of partial, and spares each
 * answer its own commit and record publication on the late-answer path.
 */
import type { MaarRef } from '@dmm-mesh/wire'
import type { ProxyAck } from './messages.js'

export interface DirectAnswer { peer: MaarRef, ack: ProxyAck }

export class DirectAnswers {
  private readonly answers = new Map<string, DirectAnswer>()
  private wake: (() => void) | undefined

  /** `sequence`: the registration's, which the PBAs echo (16 bits, RFC 5213 §8.2). */
  constructor (readonly sequence: number) {}

  add (answer: DirectAnswer): void {
    this.answers.set(answer.peer.peerId, answer)
    this.wake?.()
  }

  /** Every answer gathered, once each of `peerIds` has answered or `ms` have passed. */
  async until (peerIds: string[], ms: number): Promise<DirectAnswer[]> {
    const deadline = performance.now() + ms
    while (!peerIds.every(id => this.answers.has(id))) {
      const left = deadline - performance.now()
      if (left <= 0) break
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.wake = () => { clearTimeout(timer); resolve() }
      })
      this.wake = undefined
    }
    return [...this.answers.values()]
  }
}
