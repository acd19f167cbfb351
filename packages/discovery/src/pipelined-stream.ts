/**
 * Pipelining on one kept, length-prefixed libp2p stream (doc/ARCHITECTURE.md "One stream per peer, pipelined"):
 * answers come back in the order of the requests, as each request is answered by one message on
 * an ordered stream, so several requests may be on the stream at once instead of one round trip
 * each; messages ready in the same tick go out in one write (one yamux frame, one noise
 * encryption, one TCP write) instead of one each. A message is one or more frames. Used by the
 * PMIP stream (PBU/PBA, maar/src/pmip-transport.ts) and the record protocol (record-protocol.ts).
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

/** One message: one frame, or several written together. */
export type Message = Uint8Array | Uint8Array[]
const framesOf = (m: Message): Uint8Array[] => m instanceof Uint8Array ? [m] : m

interface Outgoing { frames: Uint8Array[], written: () => void, failed: (err: unknown) => void }

/** Writes messages in order, those queued in the same tick together. */
export class BatchedWriter {
  private readonly outbox: Outgoing[] = []
  private flushing = false

  constructor (private readonly lp: LengthPrefixedStream, private readonly onError: (err: unknown) => void) {}

  async write (message: Message): Promise<void> {
    const done = new Promise<void>((resolve, reject) => { this.outbox.push({ frames: framesOf(message), written: resolve, failed: reject }) })
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
        await this.lp.writeV(batch.flatMap(m => m.frames))
        for (const m of batch) m.written()
      } catch (err) {
        for (const m of [...batch, ...this.outbox.splice(0)]) m.failed(err)
        this.onError(err)
      }
    }
    this.flushing = false
  }
}

/** Reads one answer off the stream: one frame by default; a protocol whose answers have several frames says how many. */
export type AnswerReader<T> = (lp: LengthPrefixedStream) => Promise<T>
const oneFrame: AnswerReader<Uint8Array> = async lp => (await lp.read()).subarray()

/**
 * The client end of a kept stream: requests written as they come, answers taken in order.
 * Once the stream fails every waiting request fails with it (the owner opens a new one).
 */
export class PipelinedClient<T = Uint8Array> {
  private readonly waiting: Array<{ resolve: (answer: T) => void, reject: (err: unknown) => void }> = []
  private readonly writer: BatchedWriter
  private reading = false
  private failure: unknown

  constructor (private readonly stream: Stream, private readonly lp: LengthPrefixedStream, private readonly readAnswer: AnswerReader<T> = oneFrame as AnswerReader<unknown> as AnswerReader<T>) {
    this.writer = new BatchedWriter(lp, err => { this.fail(err) })
  }

  /** False once the stream failed or was closed. */
  get usable (): boolean { return this.failure === undefined }

  /** Requests written and not answered yet. */
  get unanswered (): number { return this.waiting.length }

  /** Writes `message` and resolves with the answer to it (the next one not taken by an earlier request). */
  async request (message: Message, signal: AbortSignal): Promise<T> {
    if (this.failure !== undefined) throw this.failure
    const answer = new Promise<T>((resolve, reject) => { this.waiting.push({ resolve, reject }) })
    // The slot stays in line even when this caller gives up, so that later answers keep their places.
    answer.catch(() => {})
    this.writer.write(message).catch(() => {})
    this.readAnswers()
    return await raceSignal(answer, signal)
  }

  /** Writes a message that gets no answer, in order with requests. */
  async send (message: Message, signal: AbortSignal): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    await raceSignal(this.writer.write(message), signal)
  }

  close (): void {
    this.fail(new Error(`${this.stream.protocol ?? 'kept'} stream closed`))
    this.stream.close().catch(() => { this.stream.abort(new Error('close failed')) })
  }

  private readAnswers (): void {
    if (this.reading) return
    this.reading = true
    void (async () => {
      try {
        while (this.waiting.length > 0 && this.failure === undefined) {
          const answer = await this.readAnswer(this.lp)
          this.waiting.shift()?.resolve(answer)
        }
      } catch (err) {
        this.fail(err)
      } finally {
        this.reading = false
      }
      if (this.waiting.length > 0 && this.failure === undefined) this.readAnswers()
    })()
  }

  /** Fails every waiting request and resets the stream (an answer that cannot be trusted, say). */
  reset (err: Error): void {
    this.fail(err)
    this.stream.abort(err)
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
  private readonly line: Array<Promise<Message | undefined>> = []
  private readonly writer: BatchedWriter
  private pumping = false
  private lastWrite: Promise<void> = Promise.resolve()
  private room: (() => void) | undefined
  private failure: unknown

  /** `onFailure`: a handler or a write failed; nothing more is written (the caller resets the stream). */
  constructor (lp: LengthPrefixedStream, private readonly depth: number, private readonly onFailure: (err: unknown) => void) {
    this.writer = new BatchedWriter(lp, err => { this.failed(err) })
  }

  /** Queues the answer to the next request (undefined: none is sent); waits while `depth` are unanswered. */
  async push (answer: Promise<Message | undefined>): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    answer.catch(() => {}) // taken in order by pump()
    this.line.push(answer)
    this.pump()
    if (this.line.length >= this.depth) await new Promise<void>(resolve => { this.room = resolve })
  }

  /** Until every queued answer was written (or the stream failed). */
  async drained (): Promise<void> {
    while (this.line.length > 0 && this.failure === undefined) await new Promise<void>(resolve => { this.room = resolve })
    await this.lastWrite
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
        if (value !== undefined) this.lastWrite = this.writer.write(value).catch(() => {})
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
