/**
 * The live view's feed: pushes the MAAR's snapshot to every open event stream when it changes.
 * A handover pushes at once; other changes (PBUs from peers making this MAAR an anchor, lifetimes
 * running out) are seen by a check every `everyMs` while some page is open.
 */
import type { SendEvent } from './http-answers.js'
import type { LiveSnapshot } from './snapshot.js'

export class LiveFeed {
  private readonly subscribers = new Set<SendEvent>()
  private timer: NodeJS.Timeout | undefined
  private lastSent = ''
  /** Snapshots are taken and sent one at a time, so that no stream sees an older state last. */
  private queue: Promise<void> = Promise.resolve()

  constructor (private readonly snapshot: () => Promise<LiveSnapshot>, private readonly everyMs = 1000) {}

  /** Sends the current state to `send` now and every change after; returns the unsubscribe. */
  subscribe (send: SendEvent): () => void {
    this.subscribers.add(send)
    this.enqueue(async () => { send(await this.snapshot()) })
    if (this.timer === undefined) {
      this.timer = setInterval(() => { this.refresh() }, this.everyMs)
      this.timer.unref()
    }
    return () => {
      this.subscribers.delete(send)
      if (this.subscribers.size === 0) {
        clearInterval(this.timer)
        this.timer = undefined
      }
    }
  }

  /** Pushes the state to every subscriber if it changed since the last push. */
  refresh (): void {
    this.enqueue(async () => {
      if (this.subscribers.size === 0) return
      const snapshot = await this.snapshot()
      const text = JSON.stringify(snapshot)
      if (text === this.lastSent) return
      this.lastSent = text
      for (const send of this.subscribers) send(snapshot)
    })
  }

  private enqueue (step: () => Promise<void>): void {
    // A snapshot that cannot be taken (the MAAR is stopping) is skipped; the next check retries.
    this.queue = this.queue.then(step).catch(() => {})
  }
}
