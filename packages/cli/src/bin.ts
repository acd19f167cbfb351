#!/usr/bin/env node
/** The `dmm` command. */
import { parseArgs } from 'node:util'
import { CliError, CommandFailure, describeFailure } from './errors.js'

const HELP = `dmm — distributed mobility management for IPv6 (RFC 5213 / RFC 8885) over a private DHT

Usage:
  dmm quickstart [--maars N] [--path 1,2,3,4,1] [--keep]
        Runs a mesh of N MAARs (default 5) on loopback and moves an MN along --path,
        printing each handover and checking every prefix hop by hop.
  dmm maar --config FILE
        Runs one MAAR from a YAML config (see README "Running a MAAR").
  dmm keygen --out FILE
        Writes a new Ed25519 key (MAAR identity or domain operator key); prints its peer id
        and its public key (base64) for the domain.operatorPublicKey field of configs.
  dmm cert --operator-key FILE (--maar-key FILE | --peer-id ID) --domain NAME --pools P[,P..]
           --address A[,A..] [--days N] --out FILE
        Signs a certificate: the MAAR with that peer id belongs to the domain, owns those pools
        and has those tunnel addresses (the config's address must be one of them).
  dmm cache check --data-dir DIR
  dmm cache repair --data-dir DIR [--release-quarantined]
        Audit the binding cache of a stopped MAAR (DIR: its dataDir): one problem per line, by
        key; exit 0 when consistent, 1 when not. repair runs LevelDB's repair and rewrites a
        consistent cache; prefixes whose owner is in doubt stay quarantined unless released.
  dmm attach --api URL --mn ID --link NAME --lladdr MAC [--att N]
  dmm detach --api URL --mn ID
  dmm deregister --api URL --mn ID
  dmm bindings --api URL
  dmm session --api URL --mn ID
  dmm status --api URL
        Talk to a running MAAR's management API (its URL is printed at start).

Options:
  -h, --help   this text

Examples:
  dmm quickstart --maars 6 --path 1,2,3,4,5,6,1
  dmm keygen --out operator.key && dmm keygen --out maar1.key
  dmm cert --operator-key operator.key --maar-key maar1.key --domain dmm.example --pools 2001:db8:1::/48 --address 2001:db8:ffff::1 --out maar1.cert
  dmm attach --api http://127.0.0.1:7001 --mn alice@dmm.example --link access0 --lladdr 02:00:00:00:00:01
`

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  maars: { type: 'string' },
  path: { type: 'string' },
  keep: { type: 'boolean' },
  config: { type: 'string' },
  out: { type: 'string' },
  'operator-key': { type: 'string' },
  'maar-key': { type: 'string' },
  'peer-id': { type: 'string' },
  domain: { type: 'string' },
  pools: { type: 'string' },
  address: { type: 'string' },
  days: { type: 'string' },
  api: { type: 'string' },
  mn: { type: 'string' },
  link: { type: 'string' },
  lladdr: { type: 'string' },
  att: { type: 'string' },
  'data-dir': { type: 'string' },
  'release-quarantined': { type: 'boolean' }
} as const

function need (value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new CliError(`--${flag} is required (see dmm --help)`)
  return value
}

function positiveInt (value: string, flag: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${flag} must be a positive integer, got ${JSON.stringify(value)}`)
  return n
}

function print (value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

export async function main (argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    throw new CliError(`${err instanceof Error ? err.message : String(err)} (see dmm --help)`)
  }
  const { values: v, positionals } = parsed
  const command = positionals[0]
  if (v.help === true || command === undefined || command === 'help') {
    process.stdout.write(HELP)
    return command === undefined && v.help !== true ? 2 : 0
  }
  const extra = command === 'cache' ? 2 : 1
  if (positionals.length > extra) throw new CliError(`unexpected argument ${JSON.stringify(positionals[extra])} (see dmm --help)`)
  switch (command) {
    case 'quickstart': {
      const { quickstart, DEFAULT_PATH } = await import('./cmds/quickstart.js')
      const maars = positiveInt(v.maars ?? '5', 'maars')
      const path = v.path !== undefined ? v.path.split(',').map(s => positiveInt(s.trim(), 'path')) : DEFAULT_PATH
      const beyond = path.find(i => i > maars)
      if (beyond !== undefined) throw new CliError(`--path names maar${beyond} but --maars is ${maars}`)
      return await quickstart({ maars, path, keep: v.keep === true, out: line => { process.stdout.write(`${line}\n`) } })
    }
    case 'maar': {
      const { loadConfig, runMaar } = await import('./cmds/maar.js')
      const configPath = need(v.config, 'config')
      // Read first so that a start-up failure can be named by the field behind it.
      const config = await loadConfig(configPath)
      try {
        await runMaar(config)
      } catch (err) {
        if (err instanceof CliError) throw err
        throw new CommandFailure(describeFailure(err, { dataDir: config.dataDir, api: config.api }), err)
      }
      return 0
    }
    case 'cache': {
      const { cacheCommand } = await import('./cmds/cache.js')
      return await cacheCommand(positionals[1], { dataDir: need(v['data-dir'], 'data-dir'), releaseQuarantined: v['release-quarantined'] === true, out: line => { process.stdout.write(`${line}\n`) } })
    }
    case 'keygen': {
      const { keygen } = await import('./cmds/keys.js')
      print(await keygen(need(v.out, 'out')))
      return 0
    }
    case 'cert': {
      const { cert } = await import('./cmds/keys.js')
      print(await cert({
        operatorKey: need(v['operator-key'], 'operator-key'),
        ...(v['maar-key'] !== undefined ? { maarKey: v['maar-key'] } : {}),
        ...(v['peer-id'] !== undefined ? { peerId: v['peer-id'] } : {}),
        domain: need(v.domain, 'domain'),
        pools: need(v.pools, 'pools').split(',').map(s => s.trim()).filter(s => s !== ''),
        addresses: need(v.address, 'address').split(',').map(s => s.trim()).filter(s => s !== ''),
        days: Number(v.days ?? '365'),
        out: need(v.out, 'out')
      }))
      return 0
    }
    case 'attach':
    case 'detach':
    case 'deregister':
    case 'bindings':
    case 'session':
    case 'status': {
      const { callApi } = await import('./cmds/client.js')
      const api = need(v.api, 'api')
      if (command === 'session') {
        print(await callApi(api, 'GET', `/session?mn=${encodeURIComponent(need(v.mn, 'mn'))}`))
      } else if (command === 'bindings' || command === 'status') {
        print(await callApi(api, 'GET', `/${command}`))
      } else if (command === 'attach') {
        print(await callApi(api, 'POST', '/attach', {
          mnId: need(v.mn, 'mn'),
          accessLink: need(v.link, 'link'),
          linkLayerId: need(v.lladdr, 'lladdr'),
          ...(v.att !== undefined ? { accessTechnology: positiveInt(v.att, 'att') } : {})
        }))
      } else {
        print(await callApi(api, 'POST', `/${command}`, { mnId: need(v.mn, 'mn') }))
      }
      return 0
    }
    default:
      throw new CliError(`unknown command ${JSON.stringify(command)} (see dmm --help)`)
  }
}

/**
 * Whatever escapes a command is printed as one line `dmm: <what and why>` (with DMM_DEBUG=1 the
 * stack too), and the process exits at once: a half-started MAAR must not stay alive on the
 * libp2p node or server it already opened.
 */
function fail (err: unknown): never {
  process.stderr.write(`dmm: ${describeFailure(err)}\n`)
  if (process.env.DMM_DEBUG === '1') {
    for (let e: unknown = err; e instanceof Error; e = e.cause) process.stderr.write(`${e.stack ?? e.message}\n`)
  }
  process.exit(err instanceof CliError ? 2 : 1)
}

main(process.argv.slice(2)).then(code => process.exit(code), fail)
