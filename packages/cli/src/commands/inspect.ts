/** `dmm inspect --api URL [--watch]` (cmds/inspect.ts). */
import { apiOption } from './args.js'
import type { DmmCommand } from './command.js'

export const inspectCommand: DmmCommand<{ api: string, watch: boolean }> = {
  command: 'inspect',
  describe: 'Print the mesh as this MAAR sees it: identity, peers connected or named by its bindings, each binding as serving or anchored with its tunnel',
  options: {
    ...apiOption,
    watch: { type: 'boolean', default: false, describe: 'refresh every second until Ctrl-C' }
  },
  examples: [['dmm inspect --api http://127.0.0.1:7001 --watch', 'watch a MAAR while MNs move']],
  handler: async a => {
    const { inspect } = await import('../cmds/inspect.js')
    return await inspect({ api: a.api, watch: a.watch, tty: process.stdout.isTTY, out: text => { process.stdout.write(text) } })
  }
}
