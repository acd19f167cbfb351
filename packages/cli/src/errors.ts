/** An error the user caused (bad argument, unreachable API): printed without a stack trace, exit 2. */
export class CliError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CliError'
  }
}

/**
 * A command failed for a reason outside the user's arguments (a port taken, a locked data
 * directory): its message is the one line to print, the original error is kept for DMM_DEBUG=1.
 */
export class CommandFailure extends Error {
  constructor (message: string, cause: unknown) {
    super(message, { cause })
    this.name = 'CommandFailure'
  }
}

/** What the command was about to use, so that a failure can name the config field behind it. */
export interface FailureContext {
  dataDir?: string
  api?: { host: string, port: number }
}

interface SystemError extends Error { code?: string, syscall?: string, path?: string, address?: string, port?: number }

function firstLine (text: string): string {
  return text.split('\n').map(l => l.trim()).find(l => l !== '') ?? text
}

function isInside (path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`)
}

/** `listen EADDRINUSE ... 127.0.0.1:7001` -> the address, naming the api field when it is the API's. */
function addressInUse (err: SystemError, ctx: FailureContext): string {
  const where = err.address !== undefined && err.port !== undefined ? `${err.address}:${err.port}` : firstLine(err.message)
  if (ctx.api !== undefined && err.port === ctx.api.port) return `api.port: ${where} is already in use by another process`
  return `${where} is already in use by another process`
}

/**
 * libp2p reports a listen failure as one error listing `  /multiaddr: Error: reason` per address;
 * keep the address and the reason.
 */
function listenFailure (err: Error): string {
  const failed = [...err.message.matchAll(/^\s*(\/\S+): (?:\w*Error: )?(.*)$/gm)].map(m => {
    const [, addr = '', reason = ''] = m
    return `${addr} ${reason.includes('EADDRINUSE') ? 'is already in use by another process' : `cannot be listened on (${reason})`}`
  })
  return `listen: ${failed.length > 0 ? failed.join('; ') : firstLine(err.message)}`
}

/** A known resource error (port, LevelDB lock, data folder) as one line, else undefined. */
function describeResource (e: SystemError & { dir?: unknown }, ctx: FailureContext): string | undefined {
  // LevelDB's own error, or the binding cache's CacheLockedError (named by its folder).
  if (e.code === 'LEVEL_LOCKED' || (e.name === 'CacheLockedError' && typeof e.dir === 'string')) {
    const lock = typeof e.dir === 'string' ? e.dir : /lock (\S+?):/.exec(e.message)?.[1]
    if (ctx.dataDir !== undefined && (lock === undefined || isInside(lock, ctx.dataDir))) return `dataDir ${ctx.dataDir} is in use by another MAAR (its binding cache is locked)`
    return `${lock ?? 'a LevelDB store'} is locked: in use by another process`
  }
  if (e.code === 'EADDRINUSE') return addressInUse(e, ctx)
  if (e.name === 'UnsupportedListenAddressesError') return listenFailure(e)
  if ((e.code === 'EEXIST' || e.code === 'ENOTDIR') && e.path !== undefined) {
    const field = ctx.dataDir !== undefined && isInside(e.path, ctx.dataDir) ? `dataDir ${ctx.dataDir}` : e.path
    return `${field} is not a directory (${e.code} on ${e.path})`
  }
  if ((e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') && e.path !== undefined) {
    const field = ctx.dataDir !== undefined && isInside(e.path, ctx.dataDir) ? `dataDir ${ctx.dataDir}: ` : ''
    return `${field}${e.path}: permission denied (${e.code})`
  }
  return undefined
}

/**
 * One line for an error that escaped a command: the resource or config field, and why. An
 * operating-system or LevelDB error anywhere in the cause chain (a start-up step wraps the error
 * of the part that failed) is named by its resource; anything else by the first line of its
 * message (the stack is printed only with DMM_DEBUG=1).
 */
export function describeFailure (err: unknown, ctx: FailureContext = {}): string {
  if (!(err instanceof Error)) return String(err)
  if (err instanceof CliError || err instanceof CommandFailure) return err.message
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const line = describeResource(e as SystemError, ctx)
    if (line !== undefined) return line
  }
  return firstLine(err.message)
}
