/** `dmm maar --config FILE`: runs one MAAR (cmds/maar.ts) until SIGINT/SIGTERM. */
import { resolve } from 'node:path'
import { readMaarConfig } from '../config.js'
import type { LogLevel, MaarConfig } from '../config.js'
import { CliError, CommandFailure, describeFailure } from '../errors.js'
import type { DmmCommand } from './command.js'

interface Args { config: string, logLevel?: LogLevel, capture?: string }

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** The options given on the command line win over the file's. */
export function withOverrides (config: MaarConfig, a: Pick<Args, 'logLevel' | 'capture'>): MaarConfig {
  return {
    ...config,
    log: { ...config.log, ...(a.logLevel !== undefined ? { level: a.logLevel } : {}) },
    // Relative to the working directory, as any command-line path.
    ...(a.capture !== undefined ? { capture: resolve(a.capture) } : {})
  }
}

export const maarCommand: DmmCommand<Args> = {
  command: 'maar',
  describe: 'Run one MAAR from a YAML config (see README "Running a MAAR"); prints one JSON ready line with its API URL',
  options: {
    config: { type: 'string', demandOption: true, requiresArg: true, describe: 'the YAML config file (dmm config check FILE checks it)' },
    'log-level': { type: 'string', choices: LOG_LEVELS, requiresArg: true, describe: 'overrides log.level of the config' },
    capture: { type: 'string', requiresArg: true, describe: 'write the signalling to this pcap file (overrides capture of the config)' }
  },
  examples: [['dmm maar --config /etc/dmm/maar.yaml --log-level debug', 'run a MAAR, logging every PBU/PBA']],
  handler: async a => {
    const { runMaar } = await import('../cmds/maar.js')
    // Read first so that a start-up failure can be named by the field behind it.
    const config = withOverrides(await readMaarConfig(a.config), a)
    try {
      await runMaar(config, { configPath: a.config })
    } catch (err) {
      if (err instanceof CliError) throw err
      throw new CommandFailure(describeFailure(err, { dataDir: config.dataDir, api: config.api }), err)
    }
    return 0
  }
}
