/** `dmm config check FILE` (cmds/config-check.ts). */
import { printLine } from './command.js'
import type { DmmCommand } from './command.js'

const check: DmmCommand<{ file: string }> = {
  command: 'check <file>',
  describe: 'Parse and check a dmm maar config: exit 0 and a one-line summary, or exit 2 and one line FILE:LINE: field: why per problem',
  positionals: { file: { type: 'string', describe: 'the YAML config' } },
  examples: [['dmm config check /etc/dmm/maar.yaml', 'check before (re)starting the MAAR']],
  handler: async a => {
    const { checkConfig } = await import('../cmds/config-check.js')
    return await checkConfig(a.file, printLine, line => { process.stderr.write(`${line}\n`) })
  }
}

export const configCommand: DmmCommand = {
  command: 'config',
  describe: 'Check a dmm maar config file without starting the MAAR',
  subcommands: [check]
}
