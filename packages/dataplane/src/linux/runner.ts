/**
 * Every command the Linux driver issues goes through a CommandRunner (tailscale
 * osrouter/runner.go), so unit tests can swap in a fake that parses the commands and keeps state.
 */
import { spawn } from 'node:child_process'

export interface CommandResult { stdout: string, stderr: string, code: number }

export interface CommandRunner {
  run (argv: string[], input?: string): Promise<CommandResult>
}

/** A command that exited non-zero: carries the command line and its stderr. */
export class CommandError extends Error {
  constructor (readonly argv: string[], readonly result: CommandResult, readonly line?: string) {
    super(`${argv.join(' ')}${line !== undefined ? ` (batch line: ${line})` : ''} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`)
    this.name = 'CommandError'
  }
}

/**
 * Runs commands with child_process. With `netns`, `ip` gets `-n NS` (no fork of a shell into the
 * namespace) and anything else runs under `ip netns exec NS`.
 */
export class ExecRunner implements CommandRunner {
  readonly netns: string | undefined

  constructor (opts: { netns?: string } = {}) {
    this.netns = opts.netns
  }

  wrap (argv: string[]): string[] {
    if (this.netns === undefined) return argv
    if (argv[0] === 'ip') return ['ip', '-n', this.netns, ...argv.slice(1)]
    return ['ip', 'netns', 'exec', this.netns, ...argv]
  }

  async run (argv: string[], input?: string): Promise<CommandResult> {
    const [cmd, ...args] = this.wrap(argv)
    if (cmd === undefined) throw new Error('empty command')
    return await new Promise((resolve) => {
      const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
      // A missing binary is a result, not a throw: checkLinuxSupport reports it in words.
      child.on('error', (err: NodeJS.ErrnoException) => { resolve({ stdout, stderr: stderr + err.message, code: err.code === 'ENOENT' ? 127 : 126 }) })
      child.on('close', (code) => { resolve({ stdout, stderr, code: code ?? 1 }) })
      child.stdin.on('error', () => {})
      child.stdin.end(input ?? '')
    })
  }
}

/** Runs and throws CommandError on a non-zero exit. */
export async function runChecked (runner: CommandRunner, argv: string[], input?: string): Promise<string> {
  const result = await runner.run(argv, input)
  if (result.code !== 0) {
    // `ip -batch` names the failing line as "Command failed -:N"; point at that command.
    const m = /Command failed -:(\d+)/.exec(result.stderr)
    const line = m !== null && input !== undefined ? input.split('\n')[Number(m[1]) - 1] : undefined
    throw new CommandError(argv, result, line)
  }
  return result.stdout
}
