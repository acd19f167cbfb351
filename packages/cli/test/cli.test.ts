/**
 * The `dmm` command line as separate processes: `--help` of every command and sub-command exits
 * 0 and shows its options and examples, `--version` is the package's, `dmm config check` accepts
 * a good config in one line and lists every problem of a bad one as FILE:LINE: field: why, and
 * usage errors are one line with exit 2.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { COMMANDS } from '../src/cli.js'
import type { DmmCommand } from '../src/commands/command.js'
import { dmm } from './run-dmm.js'

const GOOD = `name: maar1
identity: maar1.key
certificate: maar1.cert
domain:
  name: dmm.example
  operatorPublicKey: "CAESIBhto4Ai1bhjC9r2fCDmQJH1hmX+1uMwq0e36nmk3CBW"
listen: [/ip4/127.0.0.1/tcp/4001]
address: 2001:db8:ffff::1
pools: [2001:db8:1::/48]
dataDir: data
`

/** Every command path: `quickstart`, `cache check`, `config check`... */
function commandPaths (commands: DmmCommand[], prefix: string[] = []): string[][] {
  return commands.flatMap(c => {
    const path = [...prefix, c.command.split(' ')[0] ?? '']
    return [path, ...commandPaths(c.subcommands ?? [], path)]
  })
}

describe('dmm command line (separate processes)', function () {
  this.timeout(120_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'dmm-cli-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('dmm --help lists every command and the exit codes', async () => {
    const run = await dmm(['--help'])
    assert.equal(run.code, 0, run.stderr)
    for (const [name] of commandPaths(COMMANDS)) assert.match(run.stdout, new RegExp(`^  dmm ${name}\\b`, 'm'))
    assert.match(run.stdout, /^Exit codes:\n  0 .*\n(.*\n)*  1 .*\n(.*\n)*  2  usage or config error/m)
  })

  it('--help of every command and sub-command exits 0 with its usage and examples', async () => {
    const paths = commandPaths(COMMANDS)
    assert.ok(paths.length >= 16, `commands: ${paths.map(p => p.join(' ')).join(', ')}`)
    for (const path of paths) {
      const run = await dmm([...path, '--help'])
      assert.equal(run.code, 0, `dmm ${path.join(' ')} --help: ${run.stderr}`)
      assert.equal(run.stderr, '')
      assert.match(run.stdout, new RegExp(`^dmm ${path.join(' ')}\\b`), run.stdout)
      const leaf = !run.stdout.includes('Commands:')
      if (leaf) assert.match(run.stdout, /\nExamples:\n {2}dmm /, `dmm ${path.join(' ')} --help shows an example`)
    }
  })

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    const run = await dmm(['--version'])
    assert.equal(run.code, 0)
    assert.equal(run.stdout, `${version}\n`)
  })

  it('dmm config check: one line and exit 0 for a good config', async () => {
    const file = join(dir, 'good.yaml')
    await writeFile(file, GOOD + 'log: { level: debug }\n')
    const run = await dmm(['config', 'check', file])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, `${file}: ok: maar1 in dmm.example, address 2001:db8:ffff::1, pools 2001:db8:1::/48 (/64 per MN), dataplane memory, api 127.0.0.1:0, log debug/json\n`)
  })

  it('dmm config check: every problem as FILE:LINE: field: why, exit 2', async () => {
    const file = join(dir, 'bad.yaml')
    await writeFile(file, GOOD.replace('2001:db8:ffff::1', '2001:db8:ffff::zz').replace('dataDir: data', 'dataDir: data\napi:\n  port: "7001"\n  colour: blue'))
    const run = await dmm(['config', 'check', file])
    assert.equal(run.code, 2)
    assert.equal(run.stdout, '')
    const lines = run.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 3, run.stderr)
    assert.match(lines[0] ?? '', new RegExp(`^${file}:8: address: .*zz`))
    assert.equal(lines[1], `${file}:12: api.port: must be an integer from 0 to 65535, got "7001"`)
    assert.equal(lines[2], `${file}:13: api.colour: unknown field (known: host, port)`)

    const maar = await dmm(['maar', '--config', file])
    assert.equal(maar.code, 2)
    assert.match(maar.stderr, new RegExp(`^dmm: ${file}:8: address: .* \\(and 2 more: dmm config check ${file} lists them all\\)\n$`))
  })

  it('dmm config check: a file that cannot be read, or no file named, exits 2 with one line', async () => {
    const missing = await dmm(['config', 'check', join(dir, 'nope.yaml')])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /^dmm: cannot read config .*nope\.yaml: ENOENT/)
    const none = await dmm(['config', 'check'])
    assert.equal(none.code, 2)
    assert.equal(none.stderr, 'dmm: an argument is missing (see dmm config check --help)\n')
  })

  it('usage errors are one line naming what is wrong, exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [[], 'dmm: name a command (see dmm --help)'],
      [['cache', 'fix', '--data-dir', dir], 'dmm: unknown command "cache fix" (see dmm cache --help)'],
      [['cache'], 'dmm: name one of: check, repair (see dmm cache --help)'],
      [['status'], 'dmm: --api required (see dmm status --help)'],
      [['status', 'extra', '--api', 'http://127.0.0.1:1'], 'dmm: unknown argument "extra" (see dmm status --help)'],
      [['maar', '--config', join(dir, 'good.yaml'), '--log-level', 'loud'], 'dmm: Invalid values: Argument: log-level, Given: "loud", Choices: "debug", "info", "warn", "error" (see dmm maar --help)'],
      [['quickstart', '--maars', '0'], 'dmm: --maars must be a positive integer, got 0'],
      [['quickstart', '--maars', '2', '--path', '1,3'], 'dmm: --path names maar3 but --maars is 2']
    ]
    for (const [args, line] of cases) {
      const run = await dmm(args)
      assert.equal(run.code, 2, `dmm ${args.join(' ')}: ${run.stderr}`)
      assert.equal(run.stderr, `${line}\n`)
    }
  })
})
