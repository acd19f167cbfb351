/** `dmm attach|detach|deregister|bindings|status --api URL`: talks to a running `dmm maar`. */
import { CliError } from '../errors.js'

export async function callApi (api: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(new URL(path, api), {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {})
    })
  } catch (err) {
    throw new CliError(`cannot reach the management API at ${api}: ${err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : String(err)}`)
  }
  const payload: unknown = await res.json().catch(() => ({ error: `non-JSON answer (HTTP ${res.status})` }))
  if (!res.ok) throw new CliError(`${method} ${path}: ${(payload as { error?: string }).error ?? `HTTP ${res.status}`}`)
  return payload
}
