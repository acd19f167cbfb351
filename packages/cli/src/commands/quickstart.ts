/** `dmm quickstart`: a mesh on loopback and an MN moving across it (cmds/quickstart.ts). */
import { CliError } from '../errors.js'
import { commaList, positiveInt } from './args.js'
import { printLine } from './command.js'
import type { DmmCommand } from './command.js'

interface Args { maars: number, path?: string, keep: boolean, discovery: 'dht' | 'relay' | 'locator' | 'proxy' | 'hybrid' | 'legacy' }

export const quickstartCommand: DmmCommand<Args> = {
  command: 'quickstart',
  describe: 'Run a mesh of N MAARs on loopback and move an MN along --path, printing each handover and checking every prefix hop by hop',
  options: {
    maars: { type: 'number', default: 5, describe: 'how many MAARs' },
    path: { type: 'string', requiresArg: true, describe: 'the MAARs the MN visits, 1-based (default 1,2,3,4,1)' },
    keep: { type: 'boolean', default: false, describe: 'keep the binding caches (temporary folder) afterwards' },
    discovery: { type: 'string', choices: ['dht', 'relay', 'locator', 'proxy', 'hybrid', 'legacy'], default: 'dht', requiresArg: true, describe: 'the DHT, a CMD in relay, locator or proxy mode, hybrid (a relay CMD, else the DHT), or legacy (classic PMIPv6: maar1 the LMA of every prefix)' }
  },
  examples: [['dmm quickstart --maars 6 --path 1,2,3,4,5,6,1', 'six MAARs, a round trip'], ['dmm quickstart --discovery relay', 'the same through a CMD in relay mode'], ['dmm quickstart --discovery legacy --path 2,3,1,2', 'classic PMIPv6: every prefix anchored at maar1']],
  handler: async a => {
    const { quickstart, DEFAULT_PATH } = await import('../cmds/quickstart.js')
    const maars = positiveInt(a.maars, 'maars')
    const path = a.path !== undefined ? commaList(a.path).map(s => positiveInt(Number(s), 'path')) : DEFAULT_PATH
    const beyond = path.find(i => i > maars)
    if (beyond !== undefined) throw new CliError(`--path names maar${beyond} but --maars is ${maars}`)
    return await quickstart({ maars, path, keep: a.keep, discovery: a.discovery, out: printLine })
  }
}
