/** `dmm quickstart`: a mesh on loopback and an MN moving across it (cmds/quickstart.ts). */
import { CliError } from '../errors.js'
import { commaList, positiveInt } from './args.js'
import { printLine } from './command.js'
import type { DmmCommand } from './command.js'

interface Args { maars?: number, path?: string, keep: boolean, discovery: 'dht' | 'relay' | 'locator' | 'proxy' | 'hybrid' | 'legacy', domains?: number, policy: 'tunnel' | 'drop' | 'bounded', seconds?: number }

export const quickstartCommand: DmmCommand<Args> = {
  command: 'quickstart',
  describe: 'Run a mesh of N MAARs on loopback and move an MN along --path, printing each handover and checking every prefix hop by hop',
  options: {
    maars: { type: 'number', describe: 'how many MAARs (default 5; with --domains, per domain, default 2)' },
    path: { type: 'string', requiresArg: true, describe: 'the MAARs the MN visits, 1-based (default 1,2,3,4,1); with --domains, by name (default a1,a2,b1,b2,a1)' },
    domains: { type: 'number', requiresArg: true, describe: 'federation: 2 or 3 domains, each with its own operator key and DHT, and the MN crossing between them' },
    policy: { type: 'string', choices: ['tunnel', 'drop', 'bounded'], default: 'tunnel', requiresArg: true, describe: 'with --domains: the first domain\'s policy for its prefixes crossing the border' },
    seconds: { type: 'number', requiresArg: true, describe: 'with --policy bounded: the bound' },
    keep: { type: 'boolean', default: false, describe: 'keep the binding caches (temporary folder) afterwards' },
    discovery: { type: 'string', choices: ['dht', 'relay', 'locator', 'proxy', 'hybrid', 'legacy'], default: 'dht', requiresArg: true, describe: 'the DHT, a CMD in relay, locator or proxy mode, hybrid (a relay CMD, else the DHT), or legacy (classic PMIPv6: maar1 the LMA of every prefix)' }
  },
  examples: [['dmm quickstart --maars 6 --path 1,2,3,4,5,6,1', 'six MAARs, a round trip'], ['dmm quickstart --domains 2', 'two federated domains, the MN crossing a → b → a'], ['dmm quickstart --discovery relay', 'the same through a CMD in relay mode'], ['dmm quickstart --discovery legacy --path 2,3,1,2', 'classic PMIPv6: every prefix anchored at maar1']],
  handler: async a => {
    if (a.domains !== undefined) return await federated(a)
    const { quickstart, DEFAULT_PATH } = await import('../cmds/quickstart.js')
    const maars = positiveInt(a.maars ?? 5, 'maars')
    const path = a.path !== undefined ? commaList(a.path).map(s => positiveInt(Number(s), 'path')) : DEFAULT_PATH
    const beyond = path.find(i => i > maars)
    if (beyond !== undefined) throw new CliError(`--path names maar${beyond} but --maars is ${maars}`)
    return await quickstart({ maars, path, keep: a.keep, discovery: a.discovery, out: printLine })
  }
}

async function federated (a: Args): Promise<number> {
  const { federatedQuickstart } = await import('../cmds/quickstart-federation.js')
  const domains = positiveInt(a.domains ?? 2, 'domains')
  if (domains < 2 || domains > 3) throw new CliError(`--domains must be 2 or 3, got ${domains}`)
  if (a.discovery !== 'dht') throw new CliError('--domains runs DHT domains: leave --discovery out')
  if (a.policy === 'bounded' && a.seconds === undefined) throw new CliError('--policy bounded needs --seconds N')
  const policy = a.policy === 'bounded' ? { prefixes: 'bounded' as const, seconds: positiveInt(a.seconds ?? 0, 'seconds') } : { prefixes: a.policy }
  return await federatedQuickstart({
    domains, maars: positiveInt(a.maars ?? 2, 'maars'), policy, keep: a.keep, out: printLine,
    ...(a.path !== undefined ? { path: commaList(a.path) } : {})
  })
}
