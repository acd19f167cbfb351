/**
 * Every PBU and PBA every peer of a domain sent or received, as the capture decorator
 * (packages/maar/src/capture.ts) hands them over: the scenario runner and the cmd-modes benchmark
 * count messages, octets (the encoded Mobility Header) and load per node from it.
 */
import { performance } from 'node:perf_hooks'
import type { MessageCapture } from '@dmm-mesh/maar'
import { encodeMobilityMessage, findOption } from '@dmm-mesh/wire'

/** One PBU or PBA as one peer's capture saw it (`at`, `from`, `to`: tunnel addresses). */
export interface Frame { at: string, from: string, to: string, kind: 'PBU' | 'PBA', octets: number, t: number, mnId?: string, lifetime: number }

/** A window of frames: each message once at its sender, and every frame a node sent or received. */
export interface FrameWindow { sent: Frame[], at: (node: string) => Frame[] }

export class FrameCounter {
  readonly frames: Frame[] = []

  constructor (private readonly now: () => number = () => performance.now()) {}

  /** The capture of the peer at tunnel address `at`. */
  capture (at: string): MessageCapture {
    return {
      record: (message, from, to) => {
        const mnId = findOption(message, 'mn-identifier')?.identifier
        this.frames.push({ at, from, to, kind: message.kind === 'binding-update' ? 'PBU' : 'PBA', octets: encodeMobilityMessage(message).length, t: this.now(), lifetime: message.lifetime, ...(mnId !== undefined ? { mnId } : {}) })
      },
      close: () => {}
    }
  }

  mark (): number { return this.frames.length }

  since (mark: number): FrameWindow {
    const window = this.frames.slice(mark)
    return { sent: window.filter(f => f.at === f.from), at: node => window.filter(f => f.at === node) }
  }
}
