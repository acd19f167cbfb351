/**
 * A hook around each record request (`/dmm/record/1.0.0` GET or PUT) a MAAR sends, so that a
 * scenario run can make the record protocol cost what it would cost over a backbone (one-way
 * delay per peer pair, doc/ARCHITECTURE.md "Scenarios") and count it. None by default.
 */

/** One record request as the hook sees it: the peer asked, the operation and the record key. */
export interface RecordRequest { peer: string, op: 'get' | 'put', key: string }

/** Runs `send` (the request and its answer) for `request`, e.g. after and before a delay. */
export type RequestShaper = <T>(request: RecordRequest, send: () => Promise<T>) => Promise<T>

/** `send` unshaped when there is no shaper. */
export async function shaped<T> (shaper: RequestShaper | undefined, request: RecordRequest, send: () => Promise<T>): Promise<T> {
  return shaper === undefined ? await send() : await shaper(request, send)
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export async function wait (ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return
  signal?.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { signal?.removeEventListener('abort', abort); resolve() }, ms)
    const abort = (): void => { clearTimeout(timer); reject(signal?.reason) }
    signal?.addEventListener('abort', abort, { once: true })
  })
}

/**
 * A request/answer whose one-way delay is `oneWayMs`: the requester waits that long before its
 * request leaves and again once the answer is in, so the round trip costs twice the delay (the
 * responder's work is real and not delayed).
 */
export async function delayedRoundTrip<T> (oneWayMs: number, send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  await wait(oneWayMs, signal)
  const answer = await send()
  await wait(oneWayMs)
  return answer
}
