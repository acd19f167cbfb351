/** `dmm scenario check|run FILE` (cmds/scenario.ts). */
import { CONTENDERS, ENGINES, SCALE_ENGINE_ABOVE } from '@dmm-mesh/scenario'
import type { ContenderSpec, EngineName } from '@dmm-mesh/scenario'
import { CliError } from '../errors.js'
import { commaList } from './args.js'
import { printLine } from './command.js'
import type { DmmCommand } from './command.js'

const fileArg = { file: { type: 'string', describe: 'the scenario YAML (scenarios/*.yaml)' } } as const
const err = (line: string): void => { process.stderr.write(`${line}\n`) }

function contenders (value: string): ContenderSpec[] {
  const names = commaList(value)
  const bad = names.find(n => !(CONTENDERS as readonly string[]).includes(n))
  if (bad !== undefined || names.length === 0) throw new CliError(`--discovery: ${bad === undefined ? 'names no contender' : `${JSON.stringify(bad)} is not a contender`} (known: ${CONTENDERS.join(', ')})`)
  return names as ContenderSpec[]
}

const check: DmmCommand<{ file: string }> = {
  command: 'check <file>',
  describe: 'Check a scenario file without running it: exit 0 and a one-line summary, or exit 2 and one line FILE:LINE: field: why per problem',
  positionals: fileArg,
  examples: [['dmm scenario check scenarios/campus.yaml', 'check before a long run']],
  handler: async a => {
    const { checkScenario } = await import('../cmds/scenario.js')
    return await checkScenario(a.file, { out: printLine, err })
  }
}

interface RunOptions { file: string, discovery?: string, seed?: number, out?: string, timeScale?: number, engine?: string }

const run: DmmCommand<RunOptions> = {
  command: 'run <file>',
  describe: 'Run a scenario once per contender (a fresh domain each, the same trace) and write OUT/report.json; exit 1 when a contender could not run',
  positionals: fileArg,
  options: {
    discovery: { type: 'string', requiresArg: true, describe: `the contenders to run, comma-separated (default: the file's): ${CONTENDERS.join(', ')}` },
    seed: { type: 'number', requiresArg: true, describe: 'the trace\'s seed (default: the file\'s)' },
    out: { type: 'string', requiresArg: true, describe: 'the folder for report.json (default: NAME-report)' },
    'time-scale': { type: 'number', requiresArg: true, describe: 'real seconds per scenario second (default: the file\'s timeScale, else 1)' },
    engine: { type: 'string', requiresArg: true, choices: [...ENGINES], describe: `where the MAARs run: local (TCP, LevelDB) or scale (the scale engine: memory transport, quiet kad-dht upkeep, in-memory binding caches, libp2p's logs off unless DEBUG is set; a CMD contender's CMD on the same transport; no federation). Default: the file's engine, else scale above ${SCALE_ENGINE_ABOVE} MAARs` }
  },
  examples: [['dmm scenario run scenarios/small-domain.yaml --discovery dht,relay --out out/small', 'the DHT against a relay CMD'], ['dmm scenario run scenarios/highway.yaml --seed 7 --time-scale 0.5', 'another trace, twice as fast'], ['dmm scenario run scenarios/metro-scale.yaml', '200 MAARs on the scale engine (the file says engine: scale)'], ['DEBUG=\'libp2p:kad-dht*\' dmm scenario run scenarios/metro-scale.yaml', 'the same with libp2p\'s kad-dht logs on stderr']],
  handler: async a => {
    if (a.seed !== undefined && (!Number.isInteger(a.seed) || a.seed < 0 || a.seed > 0xffffffff)) throw new CliError(`--seed must be an integer from 0 to 4294967295, got ${String(a.seed)}`)
    if (a.timeScale !== undefined && !(a.timeScale >= 0.01 && a.timeScale <= 100)) throw new CliError(`--time-scale must be a number from 0.01 to 100, got ${String(a.timeScale)}`)
    const { runScenarioFile, progressPrinter } = await import('../cmds/scenario.js')
    return await runScenarioFile({
      file: a.file,
      out: a.out,
      ...(a.discovery !== undefined ? { contenders: contenders(a.discovery) } : {}),
      ...(a.seed !== undefined ? { seed: a.seed } : {}),
      ...(a.timeScale !== undefined ? { timeScale: a.timeScale } : {}),
      ...(a.engine !== undefined ? { engine: a.engine as EngineName } : {})
    }, { out: printLine, err }, progressPrinter(process.stderr))
  }
}

export const scenarioCommand: DmmCommand = {
  command: 'scenario',
  describe: 'Check or run a scenario file: the discovery modes side by side on the same movement trace',
  subcommands: [check, run]
}
