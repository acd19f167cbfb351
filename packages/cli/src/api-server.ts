/**
 * The local management API of a `dmm maar` process: JSON over HTTP on loopback.
 *   POST /attach {mnId, accessLink, linkLayerId, accessTechnology?} -> handover report
 *   POST /detach {mnId}         the MN left the link; its registration expires
 *   POST /deregister {mnId}     end the MN's session now
 *   GET  /bindings              the binding cache
 *   GET  /session?mn=ID         the MN's session record as the directory answers it
 *   GET  /status                identity, addresses
 */
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { PoolExhaustedError } from '@dmm-mesh/binding-cache'
import { AttachError } from '@dmm-mesh/maar'
import type { Maar } from '@dmm-mesh/maar'

const MAX_BODY = 16 * 1024

class HttpError extends Error {
  constructor (readonly status: number, message: string) { super(message) }
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

function mnIdOf (body: Record<string, unknown>): string {
  if (typeof body.mnId !== 'string' || body.mnId.length === 0) throw new HttpError(400, 'mnId (string) is required')
  return body.mnId
}

export async function startApiServer (maar: Maar, host: string, port: number): Promise<{ server: Server, url: string }> {
  const routes: Record<string, (req: IncomingMessage) => Promise<unknown>> = {
    'GET /session': async req => {
      const mn = new URL(req.url ?? '/', 'http://x').searchParams.get('mn')
      if (mn === null || mn === '') throw new HttpError(400, 'query parameter mn is required')
      return (await maar.lookupSession(mn)) ?? null
    },
    'POST /attach': async req => {
      const b = await readJson(req)
      return await maar.attach({
        mnId: mnIdOf(b),
        accessLink: String(b.accessLink ?? ''),
        linkLayerId: String(b.linkLayerId ?? ''),
        ...(b.accessTechnology !== undefined ? { accessTechnology: Number(b.accessTechnology) } : {})
      })
    },
    'POST /detach': async req => { await maar.detach(mnIdOf(await readJson(req))); return { ok: true } },
    'POST /deregister': async req => ({ anchors: await maar.deregister(mnIdOf(await readJson(req))) }),
    'GET /bindings': async () => await maar.bindings(),
    'GET /status': async () => ({ name: maar.name, peerId: maar.peerId, address: maar.address, multiaddrs: maar.multiaddrs() })
  }
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = routes[`${req.method ?? ''} ${(req.url ?? '').split('?')[0] ?? ''}`]
    let status = 200
    let body: unknown
    try {
      if (route === undefined) throw new HttpError(404, `no route ${req.method ?? ''} ${req.url ?? ''} (see dmm --help)`)
      body = await route(req)
    } catch (err) {
      status = err instanceof HttpError ? err.status : err instanceof AttachError ? 400 : err instanceof PoolExhaustedError ? 503 : 500
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
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}` }
}
