/**
 * The `dmm` command line (yargs): one module per command under commands/, `--help` for each,
 * `--version`, and every parse error turned into a CliError (one line, exit 2).
 */
import { readFileSync } from 'node:fs'
import yargs from 'yargs'
import { CliError } from './errors.js'
import { registerCommand } from './commands/command.js'
import type { DmmCommand } from './commands/command.js'
import { quickstartCommand } from './commands/quickstart.js'
import { maarCommand } from './commands/maar.js'
import { cmdCommand } from './commands/cmd.js'
import { configCommand } from './commands/config.js'
import { inspectCommand } from './commands/inspect.js'
import { keygenCommand } from './commands/keygen.js'
import { certCommand } from './commands/cert.js'
import { cacheCommand } from './commands/cache.js'
import { federationCommand } from './commands/federation.js'
import { scenarioCommand } from './commands/scenario.js'
import { attachCommand, bindingsCommand, deregisterCommand, detachCommand, sessionCommand, statusCommand } from './commands/api-commands.js'

export const COMMANDS: DmmCommand[] = [
  quickstartCommand, maarCommand, cmdCommand, configCommand, inspectCommand, keygenCommand, certCommand, cacheCommand, federationCommand, scenarioCommand,
  attachCommand, detachCommand, deregisterCommand, bindingsCommand, sessionCommand, statusCommand
]

export const EXIT_CODES = `Exit codes:
  0  done (cache check: consistent; quickstart: every prefix reachable; maar: stopped by SIGINT/SIGTERM)
  1  the command failed: a resource in use (port, dataDir), a MAAR that cannot start, an
     inconsistent cache, a failed reachability check, a scenario contender that could not run
  2  usage or config error: unknown command or option, missing or bad argument, a config that
     does not check (FILE:LINE: field: why), a key or certificate that cannot be read, a
     management API that cannot be reached or refuses the request
Errors are one line on stderr, "dmm: what and why"; DMM_DEBUG=1 adds the stack.`

export function packageVersion (): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
}

const nameOf = (c: DmmCommand): string => c.command.split(' ')[0] ?? ''

/**
 * The command words the arguments begin with (`cache check`), and the first word that names no
 * command where one was expected (yargs would report it as an unknown argument).
 */
function commandPath (argv: string[]): { path: string[], unknown?: string } {
  const path: string[] = []
  let choices = COMMANDS
  for (const word of argv.filter(a => !a.startsWith('-'))) {
    if (choices.length === 0 || (path.length === 0 && word === 'help')) break
    const cmd = choices.find(c => nameOf(c) === word)
    if (cmd === undefined) return { path, unknown: word }
    path.push(word)
    choices = cmd.subcommands ?? []
  }
  return { path }
}

const helpHint = (path: string[]): string => `(see dmm ${path.map(w => `${w} `).join('')}--help)`

/** yargs' wording of a parse error, as dmm's other errors read: what, then where to look. */
function usageError (message: string, argv: string[]): CliError {
  const hint = helpHint(commandPath(argv).path)
  const unknown = /^Unknown arguments?: (.*)$/.exec(message)?.[1]
  if (unknown !== undefined) {
    const names = unknown.split(', ').map(n => argv.some(a => a === `--${n}` || a.startsWith(`--${n}=`) || a === `-${n}`) ? `option --${n}` : `argument ${JSON.stringify(n)}`)
    return new CliError(`unknown ${names.join(', ')} ${hint}`)
  }
  const missing = /^Missing required arguments?: (.*)$/.exec(message)?.[1]
  if (missing !== undefined) return new CliError(`${missing.split(', ').map(n => `--${n}`).join(', ')} required ${hint}`)
  if (message.startsWith('Not enough non-option arguments')) return new CliError(`an argument is missing ${hint}`)
  return new CliError(`${message.replace(/\s*\n\s*/g, ' ')} ${hint}`)
}

/** Parses `argv` and runs the command it names; resolves to the exit code. */
export async function runCli (argv: string[]): Promise<number> {
  const { path, unknown } = commandPath(argv)
  if (unknown !== undefined) throw new CliError(`unknown command ${JSON.stringify([...path, unknown].join(' '))} ${helpHint(path)}`)
  let exitCode = 0
  const parser = yargs(argv)
    .scriptName('dmm')
    .usage('dmm — distributed mobility management for IPv6 (RFC 5213 / RFC 8885) over a private DHT\n\nUsage: dmm <command> [options]')
    .strict()
    .exitProcess(false)
    .demandCommand(1, 'name a command')
    .version(packageVersion())
    .help()
    .alias('h', 'help')
    .epilogue(EXIT_CODES)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((message: string | undefined, err: Error | undefined) => {
      throw err ?? usageError(message ?? 'bad arguments', argv)
    })
  for (const cmd of COMMANDS) registerCommand(parser, cmd, code => { exitCode = code })
  await parser.parseAsync()
  return exitCode
}
