/**
 * Pipelining on one PMIP stream (pmip-transport.ts): PBAs come back in the order of the PBUs, as
 * each is answered by one message on an ordered stream, so several PBUs may be on the stream at
 * once instead of one round trip each; messages ready in the same tick go out in one write (one
 * yamux frame, one noise encryption, one TCP write) instead of one each.
 */
import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

/** The answer, or the abort reason once `signal` fires first. */
async function raceSignal<T> (p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([p, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

interface Outgoing { bytes: Uint8Array, written: () => void, failed: (err: unknown) => void }

/** Writes messages in order, those queued in the same tick together. */
export class BatchedWriter {
  private readonly outbox: Outgoing[] = []
  private flushing = false

  constructor (private readonly lp: LengthPrefixedStream, private readonly onError: (err: unknown) => void) {}

  async write (bytes: Uint8Array): Promise<void> {
    const done = new Promise<void>((resolve, reject) => { this.outbox.push({ bytes, written: resolve, failed: reject }) })
    if (!this.flushing) {
      this.flushing = true
      void this.flush()
    }
    await done
  }

  private async flush (): Promise<void> {
    // One turn of the event loop: whatever else is ready by then joins this write.
    await new Promise(resolve => setImmediate(resolve))
    while (this.outbox.length > 0) {
      const batch = this.outbox.splice(0)
      try {
        await this.lp.writeV(batch.map(m => m.bytes))
        for (const m of batch) m.written()
      } catch (err) {
        for (const m of [...batch, ...this.outbox.splice(0)]) m.failed(err)
        this.onError(err)
      }
    }
    this.flushing = false
  }
}

/**
 * The client end of a PMIP stream: requests written as they come, answers taken in order.
 * Once the stream fails every waiting request fails with it (the transport opens a new one).
 */
export class PipelinedClient {
  private readonly waiting: Array<{ resolve: (bytes: Uint8Array) => void, reject: (err: unknown) => void }> = []
  private readonly writer: BatchedWriter
  private reading = false
  private failure: unknown

  constructor (private readonly stream: Stream, private readonly lp: LengthPrefixedStream) {
    this.writer = new BatchedWriter(lp, err => { this.fail(err) })
  }

  /** Writes `bytes` and resolves with the answer to it (the next frame not taken by an earlier request). */
  async request (bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    if (this.failure !== undefined) throw this.failure
    const answer = new Promise<Uint8Array>((resolve, reject) => { this.waiting.push({ resolve, reject }) })
    // The slot stays in line even when this caller gives up, so that later answers keep their places.
    answer.catch(() => {})
    this.writer.write(bytes).catch(() => {})
    this.readAnswers()
    return await raceSignal(answer, signal)
  }

  /** Writes a message that gets no answer, in order with requests. */
  async send (bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    await raceSignal(this.writer.write(bytes), signal)
  }

  close (): void {
    this.fail(new Error('PMIP stream closed'))
    this.stream.close().catch(() => { this.stream.abort(new Error('close failed')) })
  }

  private readAnswers (): void {
    if (this.reading) return
    this.reading = true
    void (async () => {
      try {
        while (this.waiting.length > 0 && this.failure === undefined) {
          const frame = (await this.lp.read()).subarray()
          this.waiting.shift()?.resolve(frame)
        }
      } catch (err) {
        this.fail(err)
      } finally {
        this.reading = false
      }
      if (this.waiting.length > 0 && this.failure === undefined) this.readAnswers()
    })()
  }

  private fail (err: unknown): void {
    this.failure ??= err
    for (const w of this.waiting.splice(0)) w.reject(this.failure)
  }
}

/**
 * The server end: answers written in the order of the requests, each as soon as it and those
 * before it are ready (several in one write), at most `depth` unanswered at a time.
 */
export class OrderedAnswers {
  private readonly line: Array<Promise<Uint8Array | undefined>> = []
  private readonly writer: BatchedWriter
  private pumping = false
  private room: (() => void) | undefined
  private failure: unknown

  /** `onFailure`: a handler or a write failed; nothing more is written (the caller resets the stream). */
  constructor (lp: LengthPrefixedStream, private readonly depth: number, private readonly onFailure: (err: unknown) => void) {
    this.writer = new BatchedWriter(lp, err => { this.failed(err) })
  }

  /** Queues the answer to the next request (undefined: none is sent); waits while `depth` are unanswered. */
  async push (answer: Promise<Uint8Array | undefined>): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    answer.catch(() => {}) // taken in order by pump()
    this.line.push(answer)
    this.pump()
    if (this.line.length >= this.depth) await new Promise<void>(resolve => { this.room = resolve })
  }

  /** Until every queued answer was written (or the stream failed). */
  async drained (): Promise<void> {
    while (this.line.length > 0 && this.failure === undefined) await new Promise<void>(resolve => { this.room = resolve })
    if (this.failure !== undefined) throw this.failure
  }

  private pump (): void {
    if (this.pumping) return
    this.pumping = true
    void (async () => {
      while (this.line.length > 0 && this.failure === undefined) {
        const head = this.line[0]
        if (head === undefined) break
        const value = await head.catch((err: unknown) => { this.failed(err); return undefined })
        this.line.shift()
        this.wake()
        if (value !== undefined) this.writer.write(value).catch(() => {})
      }
      this.pumping = false
      this.wake()
    })()
  }

  private failed (err: unknown): void {
    if (this.failure !== undefined) return
    this.failure = err
    this.onFailure(err)
    this.wake()
  }

  private wake (): void {
    const room = this.room
    this.room = undefined
    room?.()
  }
}
