/**
 * One `dmm` command as a module declares it (lodestar's CliCommand pattern): its name and
 * positionals, options, help text, examples, sub-commands, and a handler returning the exit code.
 * registerCommand turns it into a yargs command.
 */
import type { Argv, Options, PositionalOptions } from 'yargs'

export interface DmmCommand<A = any> {
  /** As yargs takes it: `check <file>`. */
  command: string
  describe: string
  positionals?: Record<string, PositionalOptions>
  options?: Record<string, Options>
  examples?: Array<[command: string, description: string]>
  subcommands?: Array<DmmCommand<any>>
  /** Runs the command; resolves to the process exit code (0 done, 1 failed). */
  handler?: (args: A) => Promise<number>
}

export function registerCommand (yargs: Argv, cmd: DmmCommand, setExitCode: (code: number) => void): Argv {
  return yargs.command({
    command: cmd.command,
    describe: cmd.describe,
    builder: y => {
      for (const [name, p] of Object.entries(cmd.positionals ?? {})) y.positional(name, p)
      y.options(cmd.options ?? {})
      for (const [example, what] of cmd.examples ?? []) y.example(example, what)
      for (const sub of cmd.subcommands ?? []) registerCommand(y, sub, setExitCode)
      if ((cmd.subcommands ?? []).length > 0) y.demandCommand(1, `name one of: ${(cmd.subcommands ?? []).map(s => s.command.split(' ')[0]).join(', ')}`)
      return y
    },
    handler: async args => {
      if (cmd.handler !== undefined) setExitCode(await cmd.handler(args))
    }
  })
}

/** A command's JSON answer on stdout. */
export function printJson (value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

export function printLine (line: string): void {
  process.stdout.write(`${line}\n`)
}
