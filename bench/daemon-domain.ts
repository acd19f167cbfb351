/**
 * A domain of `dmm maar` (and `dmm cmd`) daemons, each its own OS process on loopback with the
 * in-memory data plane, made through the CLI as an operator would (`dmm keygen`, `dmm cert`,
 * config files): for benchmarks that need each node's own CPU figure.
 */
import { spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DMM_BIN, dialableAddress, spawnDaemon, stopDaemonProcess } from '@dmm-mesh/cli'

const DOMAIN = 'dmm.example'
export const CMD_ADDRESS = '2001:db8:ffff::c'

export interface Daemon { name: string, child: ChildProcess, api: string, multiaddr: string, stderr: () => string }

function dmm (args: string[]): string {
  const run = spawnSync(process.execPath, [DMM_BIN, ...args], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`dmm ${args.join(' ')} exited with ${String(run.status)}: ${run.stderr}`)
  return run.stdout
}

/** Keys and certificates in `dir`: the operator's, MAAR i's (pool 2001:db8:i::/48) for i in 1..count, and the CMD's. */
export function makeIdentities (dir: string, count: number): string {
  const operatorPublicKey = (JSON.parse(dmm(['keygen', '--out', join(dir, 'operator.key')])) as { publicKey: string }).publicKey
  const certify = (name: string, extra: string[]): void => {
    dmm(['keygen', '--out', join(dir, `${name}.key`)])
    dmm(['cert', '--operator-key', join(dir, 'operator.key'), '--maar-key', join(dir, `${name}.key`), '--domain', DOMAIN, ...extra, '--out', join(dir, `${name}.cert`)])
  }
  for (let i = 1; i <= count; i++) certify(`maar${i}`, ['--pools', `2001:db8:${i.toString(16)}::/48`, '--address', `2001:db8:ffff::${i.toString(16)}`])
  certify('cmd', ['--role', 'cmd', '--address', CMD_ADDRESS])
  return operatorPublicKey
}

/** Starts `dmm maar|cmd --config FILE` and resolves on its ready line. */
async function startDaemon (command: 'maar' | 'cmd', config: string, name: string): Promise<Daemon> {
  const d = await spawnDaemon(command, config, { stderrLimit: 20_000 })
  return { name, child: d.child, api: d.api, multiaddr: dialableAddress(d), stderr: d.stderr }
}

const common = (name: string, operatorPublicKey: string, dataDir: string): string[] => [
  `name: ${name}`, `identity: ${name}.key`, `certificate: ${name}.cert`,
  `domain: { name: ${DOMAIN}, operatorPublicKey: ${JSON.stringify(operatorPublicKey)} }`,
  'listen: [/ip4/127.0.0.1/tcp/0]', `dataDir: ${JSON.stringify(dataDir)}`, 'api: { host: 127.0.0.1, port: 0 }', 'log: { level: warn }'
]

export async function startCmdDaemon (dir: string, operatorPublicKey: string, mode: 'relay' | 'locator' | 'proxy', run: string): Promise<Daemon> {
  const config = join(dir, `cmd-${run}.yaml`)
  await writeFile(config, [...common('cmd', operatorPublicKey, `data-${run}/cmd`), `address: ${CMD_ADDRESS}`, `mode: ${mode}`, 'bootstrap: []', ''].join('\n'))
  return await startDaemon('cmd', config, 'cmd')
}

/** MAAR i's daemon; `discovery` is its config's discovery line (omitted: the DHT). */
export async function startMaarDaemon (dir: string, operatorPublicKey: string, i: number, bootstrap: string[], run: string, discovery?: string): Promise<Daemon> {
  const name = `maar${i}`
  const config = join(dir, `${name}-${run}.yaml`)
  await writeFile(config, [
    ...common(name, operatorPublicKey, `data-${run}/${name}`),
    `bootstrap: [${bootstrap.map(b => JSON.stringify(b)).join(', ')}]`,
    `address: 2001:db8:ffff::${i.toString(16)}`, `pools: [2001:db8:${i.toString(16)}::/48]`, 'lifetime: 3600',
    ...(discovery !== undefined ? [discovery] : []), ''
  ].join('\n'))
  return await startDaemon('maar', config, name)
}

export async function stopDaemons (daemons: Daemon[]): Promise<void> {
  await Promise.all(daemons.map(async d => await stopDaemonProcess(d, 10_000)))
}

/** A call to a daemon's management API; refusals throw with the API's error text. */
export async function api<T> (d: Daemon, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number, body: T }> {
  const res = await fetch(new URL(path, d.api), { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const json = await res.json() as T & { error?: string }
  if (!res.ok) throw new Error(`${d.name} ${method} ${path}: ${json.error ?? res.status}`)
  return { status: res.status, body: json }
}
