/**
 * `dmm config check FILE`: reads and checks a `dmm maar` config as `dmm maar` would, without
 * starting anything; one line saying what the MAAR would be, or every problem of a wrong config
 * as `FILE:LINE: field: why` (exit 2).
 */
import { ConfigError, formatProblem, parseMaarConfig, readConfigText } from '../config.js'
import type { MaarConfig } from '../config.js'

export function summarize (path: string, c: MaarConfig): string {
  return `${path}: ok: ${c.name} in ${c.domain.name}, address ${c.address}, pools ${c.pools.join(' ')} (/${c.prefixLength} per MN), ` +
    `dataplane ${c.dataplane.driver}, api ${c.api.host}:${c.api.port}, log ${c.log.level}/${c.log.format}${c.capture !== undefined ? `, capture ${c.capture}` : ''}`
}

/** Exit 0 and the summary on `out`, or exit 2 and every problem, one per line, on `err`. */
export async function checkConfig (path: string, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const text = await readConfigText(path)
  try {
    out(summarize(path, parseMaarConfig(text, path)))
    return 0
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    for (const p of e.problems) err(formatProblem(path, p))
    return 2
  }
}
