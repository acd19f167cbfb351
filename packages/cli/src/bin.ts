#!/usr/bin/env node
/** The `dmm` command (cli.ts). */
import { runCli } from './cli.js'
import { CliError, describeFailure } from './errors.js'

/**
 * Whatever escapes a command is printed as one line `dmm: <what and why>` (with DMM_DEBUG=1 the
 * stack too), and the process exits at once: a half-started MAAR must not stay alive on the
 * libp2p node or server it already opened. Exit 2 for the user's errors, 1 for the others.
 */
function fail (err: unknown): never {
  process.stderr.write(`dmm: ${describeFailure(err)}\n`)
  if (process.env.DMM_DEBUG === '1') {
    for (let e: unknown = err; e instanceof Error; e = e.cause) process.stderr.write(`${e.stack ?? e.message}\n`)
  }
  process.exit(err instanceof CliError ? 2 : 1)
}

/** libp2p 3 needs Node 22 (Promise.withResolvers); the repository pins Node 24 (npx node). */
const NODE_MAJOR = Number(process.versions.node.split('.')[0])
if (NODE_MAJOR < 22) {
  fail(new CliError(`Node.js 22 or newer is needed, this is ${process.versions.node}: run dmm with the repository's Node 24, e.g. npx node packages/cli/dist/src/bin.js ${process.argv.slice(2).join(' ')}`.trimEnd()))
}

runCli(process.argv.slice(2)).then(code => process.exit(code), fail)
