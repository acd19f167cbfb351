/** `dmm cache check|repair --data-dir DIR`: the binding cache of a stopped MAAR (cmds/cache.ts). */
import { printLine } from './command.js'
import type { DmmCommand } from './command.js'

interface Args { dataDir: string, releaseQuarantined?: boolean }

const dataDir = { 'data-dir': { type: 'string', demandOption: true, requiresArg: true, describe: 'the MAAR\'s dataDir' } } as const

function action (name: 'check' | 'repair', describe: string, extra: DmmCommand['options'] = {}): DmmCommand<Args> {
  return {
    command: name,
    describe,
    options: { ...dataDir, ...extra },
    examples: [[`dmm cache ${name} --data-dir /var/lib/dmm/maar1`, `${name} a stopped MAAR's cache`]],
    handler: async a => {
      const { cacheCommand } = await import('../cmds/cache.js')
      return await cacheCommand(name, { dataDir: a.dataDir, releaseQuarantined: a.releaseQuarantined === true, out: printLine })
    }
  }
}

export const cacheCommand: DmmCommand = {
  command: 'cache',
  describe: 'Audit or repair the binding cache of a stopped MAAR: one problem per line, by key; exit 0 when consistent, 1 when not',
  subcommands: [
    action('check', 'Audit the cache (LevelDB recovers its log as at a MAAR start); one problem per line'),
    action('repair', 'Run LevelDB\'s repair and rewrite a consistent cache; prefixes whose owner is in doubt stay quarantined unless released', {
      'release-quarantined': { type: 'boolean', default: false, describe: 'free the quarantined prefixes too' }
    })
  ]
}
