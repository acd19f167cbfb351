/**
 * Route answers that are not JSON: the management API's route table answers JSON by default;
 * a route that returns a `WrittenAnswer` writes its own response instead (the live view's HTML
 * page, its event stream).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

export abstract class WrittenAnswer {
  abstract write (req: IncomingMessage, res: ServerResponse): void
}

/** A whole body of some content type, e.g. the live view's page. */
export class RawAnswer extends WrittenAnswer {
  constructor (readonly contentType: string, readonly body: string) { super() }

  write (_req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': this.contentType, 'cache-control': 'no-store' })
    res.end(this.body)
  }
}

/** Sends one event of a Server-Sent Events stream (HTML Living Standard §9.2). */
export type SendEvent = (data: unknown) => void

/**
 * A Server-Sent Events stream: `open` is called with the stream's sender and returns what to do
 * when the client goes away.
 */
export class EventStreamAnswer extends WrittenAnswer {
  constructor (readonly open: (send: SendEvent) => () => void) { super() }

  write (req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
    // One `data:` line per event: JSON.stringify without indentation has no line breaks.
    const close = this.open(data => { res.write(`data: ${JSON.stringify(data)}\n\n`) })
    req.once('close', close)
  }
}
