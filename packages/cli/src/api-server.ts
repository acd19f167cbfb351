/**
 * The local management API of a `dmm maar` process: JSON over HTTP on loopback.
 *   POST /attach {mnId, accessLink, linkLayerId, accessTechnology?} -> handover report: 200,
 *                               202 when some anchor has not acknowledged yet (complete: false,
 *                               retransmitted to), 503 when the MN's session cannot be looked up
 *   POST /detach {mnId}         the MN left the link; its registration expires
 *   POST /deregister {mnId}     end the MN's session now
 *   GET  /bindings              the binding cache
 *   GET  /session?mn=ID         the MN's session record as the directory answers it
 *   GET  /status                identity, addresses
 *   GET  /peers                 the peers connected now (tunnel address once met over PBU/PBA)
 *   GET  /, /events, /live      the live view (live-view/routes.ts)
 *   GET  /metrics               the MAAR's metrics, Prometheus text format
 */
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { z } from 'zod'
import { PoolExhaustedError } from '@dmm-mesh/binding-cache'
import { AttachDeferredError, AttachError } from '@dmm-mesh/maar'
import type { AttachRequest, Maar } from '@dmm-mesh/maar'
import { WrittenAnswer } from './live-view/http-answers.js'
import { liveViewRoutes } from './live-view/routes.js'
import { fieldName } from '@dmm-mesh/scenario'
import { metricsReply } from './observability/metrics-route.js'

const MAX_BODY = 16 * 1024

class HttpError extends Error {
  constructor (readonly status: number, message: string) { super(message) }
}

/** A route's answer with a status other than 200. */
class Answer {
  constructor (readonly status: number, readonly body: unknown) {}
}

/** The HTTP status of a failure: the caller's fault (4xx), retry later (503), or ours (500). */
function statusOf (err: unknown): number {
  if (err instanceof HttpError) return err.status
  if (err instanceof AttachError) return 400
  if (err instanceof AttachDeferredError || err instanceof PoolExhaustedError) return 503
  return 500
}

async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new HttpError(413, `body larger than ${MAX_BODY} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object')
    return v as Record<string, unknown>
  } catch (err) {
    throw new HttpError(400, `body must be a JSON object: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** A request body with exactly these fields: a misspelt field must not be silently ignored. */
function body<S extends z.ZodRawShape> (shape: S): z.ZodObject<S, z.core.$strict> {
  const known = Object.keys(shape)
  return z.strictObject(shape, { error: iss => iss.code === 'unrecognized_keys' ? `unknown field ${JSON.stringify(iss.keys[0])} (known: ${known.join(', ')})` : undefined })
}

/** A string taken as sent: `true`, 7 or {} are refused, never turned into text. */
const text = z.string({ error: iss => `must be a non-empty string${iss.input === undefined ? '' : `, got ${JSON.stringify(iss.input)}`}` })
  .min(1, { error: 'must be a non-empty string, got ""' })

/** "7" or 7.5 are refused, not coerced (the range is Maar's to check). */
const integer = z.int({ error: iss => `must be an integer, got ${JSON.stringify(iss.input)}` })

const MnBody = body({ mnId: text })
const AttachBody = body({ mnId: text, accessLink: text, linkLayerId: text, accessTechnology: integer.optional() })

/** The body checked against its schema; the first refusal is a 400 naming the field. */
async function bodyOf<T> (req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(await readJson(req))
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  if (issue === undefined) throw new HttpError(400, 'invalid body')
  throw new HttpError(400, issue.code === 'unrecognized_keys' ? issue.message : `${fieldName(issue.path)} ${issue.message}`)
}

async function mnIdOf (req: IncomingMessage): Promise<string> {
  return (await bodyOf(req, MnBody)).mnId
}

async function attachRequestOf (req: IncomingMessage): Promise<AttachRequest> {
  const { accessTechnology, ...rest } = await bodyOf(req, AttachBody)
  return { ...rest, ...(accessTechnology !== undefined ? { accessTechnology } : {}) }
}

function routesOf (maar: Maar): Record<string, (req: IncomingMessage) => Promise<unknown>> {
  return {
    'GET /session': async req => {
      const mn = new URL(req.url ?? '/', 'http://x').searchParams.get('mn')
      if (mn === null || mn === '') throw new HttpError(400, 'query parameter mn is required')
      return (await maar.lookupSession(mn)) ?? null
    },
    'POST /attach': async req => {
      const report = await maar.attach(await attachRequestOf(req))
      // A partial handover is not a plain success: accepted, still being completed.
      return report.complete ? report : new Answer(202, report)
    },
    'POST /detach': async req => { await maar.detach(await mnIdOf(req)); return { ok: true } },
    'POST /deregister': async req => ({ anchors: await maar.deregister(await mnIdOf(req)) }),
    'GET /bindings': async () => await maar.bindings(),
    'GET /status': async () => ({ name: maar.name, peerId: maar.peerId, address: maar.address, multiaddrs: maar.multiaddrs() }),
    'GET /peers': async () => maar.knownPeers(),
    'GET /metrics': async () => await metricsReply(maar),
    ...liveViewRoutes(maar)
  }
}

export interface ApiServer {
  server: Server
  url: string
  /** Starts answering with this MAAR; until then every request gets 503. */
  serve: (maar: Maar) => void
}

/**
 * Binds the API's port before anything else starts, so that a port in use stops `dmm maar`
 * before it joins the mesh (it must not serve PBUs without its API); `serve` comes after start.
 */
export async function listenApi (host: string, port: number): Promise<ApiServer> {
  let routes: Record<string, (req: IncomingMessage) => Promise<unknown>> | undefined
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = routes?.[`${req.method ?? ''} ${(req.url ?? '').split('?')[0] ?? ''}`]
    let status = 200
    let body: unknown
    try {
      if (routes === undefined) throw new HttpError(503, 'the MAAR is starting')
      if (route === undefined) throw new HttpError(404, `no route ${req.method ?? ''} ${req.url ?? ''} (see dmm --help)`)
      body = await route(req)
      if (body instanceof WrittenAnswer) {
        body.write(req, res)
        return
      }
      if (body instanceof Answer) {
        status = body.status
        body = body.body
      }
    } catch (err) {
      status = statusOf(err)
      body = { error: err instanceof Error ? err.message : String(err) }
    }
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body, null, 2) + '\n')
  }
  const server = createServer((req, res) => { void handle(req, res) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const addr = server.address()
  const actualPort = typeof addr === 'object' && addr !== null ? addr.port : port
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`, serve: maar => { routes = routesOf(maar) } }
}

export async function startApiServer (maar: Maar, host: string, port: number): Promise<{ server: Server, url: string }> {
  const api = await listenApi(host, port)
  api.serve(maar)
  return api
}
