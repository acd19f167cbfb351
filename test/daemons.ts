/**
 * `dmm` as separate OS processes, for the tests about the daemon: a domain made by `dmm keygen`
 * and `dmm cert`, `dmm maar --config FILE` started and stopped (SIGTERM) or killed (SIGKILL), and
 * its management API.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DMM_BIN, dialableAddress, spawnDaemon, stopDaemonProcess } from '@dmm-mesh/cli'
import type { DaemonProcess } from '@dmm-mesh/cli'

export const BIN = DMM_BIN

export interface Run { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, timedOut: boolean }

/**
 * Runs `dmm ARGS` to its end. A process still running after `hangGuardMs` is killed and reported
 * as timed out (a guard against a hung process, not a speed requirement).
 */
export async function dmm (args: string[], hangGuardMs = 30_000, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let stdout = ''
  let stderr = ''
  let timedOut = false
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const guard = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, hangGuardMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => child.on('close', (c, s) => { resolve([c, s]) }))
  clearTimeout(guard)
  return { code, signal, stdout, stderr, timedOut }
}

/** True while a process with this pid exists. */
export function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export interface Daemon extends DaemonProcess {
  config: string
}

/** Starts `dmm maar --config FILE` (or `dmm cmd`) and resolves on its ready line. */
export async function startDaemon (config: string, command: 'maar' | 'cmd' = 'maar'): Promise<Daemon> {
  return { ...(await spawnDaemon(command, config)), config }
}

/** SIGTERM, and the exit code once it is gone. */
export async function stopDaemon (d: Daemon): Promise<number | null> {
  return await stopDaemonProcess(d)
}

/** SIGKILL: the process gets no chance to flush or say goodbye (a crash, a power cut). */
export async function killDaemon (d: Daemon): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return
  const exited = new Promise<void>(resolve => d.child.once('exit', () => { resolve() }))
  d.child.kill('SIGKILL')
  await exited
}

export class ApiError extends Error {
  constructor (readonly status: number, message: string) { super(message) }
}

export async function api (d: Daemon, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(new URL(path, d.api), { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const json = await res.json() as { error?: string }
  if (!res.ok) throw new ApiError(res.status, `${method} ${path}: ${json.error ?? JSON.stringify(json)}`)
  return json
}

/** A loopback multiaddr of the daemon that names its peer id. */
export const dialable = (d: Daemon): string => dialableAddress(d)

/** The TCP port of the daemon's libp2p listener. */
export function p2pPort (d: Daemon): number {
  return Number(/\/tcp\/(\d+)/.exec(dialable(d))?.[1])
}

export function apiPort (d: Daemon): number {
  return Number(new URL(d.api).port)
}

/** A domain: the operator key and, per MAAR i (1-based), a key and a certificate for pool 2001:db8:i::/48. */
export interface Domain { dir: string, operatorPublicKey: string, count: number }

export const maarAddress = (i: number): string => `2001:db8:ffff::${i}`
export const maarPool = (i: number): string => `2001:db8:${i}::/48`

export async function makeDomain (dir: string, count: number): Promise<Domain> {
  const op = await dmm(['keygen', '--out', join(dir, 'operator.key')])
  assert.equal(op.code, 0, op.stderr)
  const operatorPublicKey = (JSON.parse(op.stdout) as { publicKey: string }).publicKey
  for (let i = 1; i <= count; i++) {
    const key = await dmm(['keygen', '--out', join(dir, `maar${i}.key`)])
    assert.equal(key.code, 0, key.stderr)
    const cert = await dmm(['cert', '--operator-key', join(dir, 'operator.key'), '--maar-key', join(dir, `maar${i}.key`),
      '--domain', 'dmm.example', '--pools', maarPool(i), '--address', maarAddress(i), '--out', join(dir, `maar${i}.cert`)])
    assert.equal(cert.code, 0, cert.stderr)
  }
  return { dir, operatorPublicKey, count }
}

export interface ConfigOptions {
  bootstrap?: string[]
  listen?: string[]
  apiPort?: number
  dataDir?: string
  operatorPublicKey?: string
  /** Written as is, after the fields above. */
  extra?: string[]
  /** File name of the config (default maar<i>.yaml). */
  file?: string
}

/** Writes the config of MAAR i of the domain (memory data plane, loopback) and returns its path. */
export async function writeMaarConfig (domain: Domain, i: number, o: ConfigOptions = {}): Promise<string> {
  const config = join(domain.dir, o.file ?? `maar${i}.yaml`)
  await writeFile(config, [
    `name: maar${i}`,
    `identity: maar${i}.key`,
    `certificate: maar${i}.cert`,
    `domain: { name: dmm.example, operatorPublicKey: ${JSON.stringify(o.operatorPublicKey ?? domain.operatorPublicKey)} }`,
    `listen: [${(o.listen ?? ['/ip4/127.0.0.1/tcp/0']).map(a => JSON.stringify(a)).join(', ')}]`,
    `bootstrap: [${(o.bootstrap ?? []).map(a => JSON.stringify(a)).join(', ')}]`,
    `address: ${maarAddress(i)}`,
    `pools: [${maarPool(i)}]`,
    `dataDir: ${JSON.stringify(o.dataDir ?? `data/maar${i}`)}`,
    'lifetime: 3600',
    `api: { host: 127.0.0.1, port: ${o.apiPort ?? 0} }`,
    ...(o.extra ?? []),
    ''
  ].join('\n'))
  return config
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/**
 * Polls `check` until it returns a value other than undefined, or `hangGuardMs` elapses (then
 * undefined). Waiting for a condition, not asserting a duration.
 */
export async function pollUntil<T> (check: () => Promise<T | undefined>, hangGuardMs: number, everyMs = 100): Promise<T | undefined> {
  const end = Date.now() + hangGuardMs
  while (true) {
    const v = await check().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() >= end) return undefined
    await sleep(everyMs)
  }
}

/**
 * The API answers an attach once both ends are programmed; the session record is published in
 * the background. Waits until daemon `d` finds the MN's session at `sequence` or later.
 */
export async function sessionVisible (d: Daemon, mnId: string, sequence: number, hangGuardMs = 10_000): Promise<boolean> {
  const seen = await pollUntil(async () => {
    const s = await api(d, 'GET', `/session?mn=${encodeURIComponent(mnId)}`) as { sequence: number } | null
    return s !== null && s.sequence >= sequence ? true : undefined
  }, hangGuardMs)
  return seen === true
}
