/**
 * The live view's routes on the management API:
 *   GET /        the page (live-view/page.ts), self-contained: no CDN, the browser may be offline
 *   GET /events  Server-Sent Events, one `data:` line per snapshot (live-view/snapshot.ts)
 *   GET /live    the same snapshot once, as JSON
 */
import type { IncomingMessage } from 'node:http'
import type { Maar } from '@dmm-mesh/maar'
import { LiveFeed } from './feed.js'
import { HandoverLog } from './handover-log.js'
import { EventStreamAnswer, RawAnswer } from './http-answers.js'
import { LIVE_VIEW_PAGE } from './page.js'
import { liveSnapshot } from './snapshot.js'

export function liveViewRoutes (maar: Maar): Record<string, (req: IncomingMessage) => Promise<unknown>> {
  const handovers = new HandoverLog()
  const snapshot = async (): Promise<Awaited<ReturnType<typeof liveSnapshot>>> => await liveSnapshot(maar, handovers)
  const feed = new LiveFeed(snapshot)
  maar.onHandover(report => {
    handovers.add(report)
    feed.refresh()
  })
  return {
    'GET /': async () => new RawAnswer('text/html; charset=utf-8', LIVE_VIEW_PAGE),
    'GET /events': async () => new EventStreamAnswer(send => feed.subscribe(send)),
    'GET /live': snapshot
  }
}
