/**
 * A child logger per module (scope `maar1:serving`, `maar1:anchor`...): one line per event, the
 * MN, peer and prefix as fields. createLogger writes `[scope] msg key=value` lines to a sink (the
 * in-process mesh, the quickstart, tests); `dmm maar` implements the same interface on pino, one
 * JSON object a line (packages/cli/src/observability/log.ts).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogSink = (level: LogLevel, line: string) => void

export interface Logger {
  debug (msg: string, fields?: Record<string, unknown>): void
  info (msg: string, fields?: Record<string, unknown>): void
  warn (msg: string, fields?: Record<string, unknown>): void
  error (msg: string, fields?: Record<string, unknown>): void
  child (scope: string): Logger
}

function formatFields (fields?: Record<string, unknown>): string {
  if (fields === undefined) return ''
  return Object.entries(fields)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join('')
}

export function createLogger (scope: string, sink: LogSink): Logger {
  // Nothing formatted for the silent sink (a benchmark's mesh): a line per PBU cost the anchor CPU.
  const emit = (level: LogLevel) => sink === silentSink ? () => {} : (msg: string, fields?: Record<string, unknown>) => { sink(level, `[${scope}] ${msg}${formatFields(fields)}`) }
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (sub: string) => createLogger(`${scope}:${sub}`, sink)
  }
}

/** Writes info and above to stderr with a timestamp; debug only when DMM_DEBUG is set. */
export const stderrSink: LogSink = (level, line) => {
  if (level === 'debug' && process.env.DMM_DEBUG === undefined) return
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${line}\n`)
}

export const silentSink: LogSink = () => {}
