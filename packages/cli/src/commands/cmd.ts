/** `dmm cmd --config FILE`: runs a Central Mobility Database (cmds/cmd.ts) until SIGINT/SIGTERM. */
import { readCmdConfig } from '../config.js'
import { CliError, CommandFailure, describeFailure } from '../errors.js'
import type { DmmCommand } from './command.js'

interface Args { config: string }

export const cmdCommand: DmmCommand<Args> = {
  command: 'cmd',
  describe: 'Run a CMD (draft-bernardos-dmm-pmip §3: relay, locator or proxy mode) from a YAML config (README "Running a CMD"); prints one JSON ready line',
  options: {
    config: { type: 'string', demandOption: true, requiresArg: true, describe: 'the YAML config file' }
  },
  examples: [['dmm cmd --config /etc/dmm/cmd.yaml', 'run the domain\'s CMD']],
  handler: async a => {
    const { runCmd } = await import('../cmds/cmd.js')
    const config = await readCmdConfig(a.config)
    try {
      await runCmd(config, { configPath: a.config })
    } catch (err) {
      if (err instanceof CliError) throw err
      throw new CommandFailure(describeFailure(err, { dataDir: config.dataDir, ...(config.api !== undefined ? { api: config.api } : {}) }), err)
    }
    return 0
  }
}
