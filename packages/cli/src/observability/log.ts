/**
 * The daemon's logger: the project's Logger interface (packages/maar/src/logger.ts) on pino. One
 * JSON line per event on stderr — `level`, `time`, `scope`, `msg`, and the event's fields (mn,
 * peer, prefix...) as JSON fields — or, in `pretty` format, human-readable lines for a terminal.
 * The level can change while the daemon runs (`dmm maar` re-reads it on SIGHUP); every module's
 * child logger follows, since the level is checked here and not frozen in pino's children.
 */
import pino from 'pino'
import type { Logger as Pino } from 'pino'
import pretty from 'pino-pretty'
import type { LogLevel, Logger } from '@dmm-mesh/maar'
import type { LogFormat } from '../config.js'

/** Levels from the most verbose. */
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

export interface DaemonLog {
  /** The root logger, scope = the MAAR's name. */
  log: Logger
  level: () => LogLevel
  setLevel: (level: LogLevel) => void
}

export interface DaemonLogOptions {
  scope: string
  level: LogLevel
  format: LogFormat
  /** Where lines go; default stderr (stdout carries the ready line scripts wait for). */
  destination?: NodeJS.WritableStream
}

export function createDaemonLog (opts: DaemonLogOptions): DaemonLog {
  const settings = {
    level: 'debug',
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) }
  }
  const stream = opts.format === 'pretty'
    // A stream in this process, not a worker transport: lines stay in order with the process's
    // own writes and are out before it exits.
    ? pretty({ destination: opts.destination ?? 2, sync: true, singleLine: true, colorize: opts.destination === undefined && process.stderr.isTTY, ignore: 'scope', messageFormat: '[{scope}] {msg}', translateTime: 'SYS:standard' })
    : opts.destination ?? pino.destination({ fd: 2, sync: true })
  const root = pino(settings, stream)
  let threshold = LEVELS.indexOf(opts.level)
  const make = (scope: string): Logger => {
    const out: Pino = root.child({ scope })
    const emit = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
      if (LEVELS.indexOf(level) < threshold) return
      if (fields === undefined) out[level](msg)
      else out[level](fields, msg)
    }
    return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), child: sub => make(`${scope}:${sub}`) }
  }
  return {
    log: make(opts.scope),
    level: () => LEVELS[threshold] ?? 'info',
    setLevel: level => { threshold = LEVELS.indexOf(level) }
  }
}
