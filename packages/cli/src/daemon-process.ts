/**
 * A `dmm maar` or `dmm cmd` daemon as a child process, for scripts, tests and benchmarks that run
 * a domain as an operator does: spawned with a config file, ready once it printed its one JSON
 * ready line on stdout (cmds/maar.ts, cmds/cmd.ts), stopped with SIGTERM.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The `dmm` entry point of this package. */
export const DMM_BIN = fileURLToPath(new URL('./bin.js', import.meta.url))

export interface DaemonProcess {
  child: ChildProcess
  /** From the ready line. */
  name: string
  /** The management API's URL ('' when the config has none). */
  api: string
  multiaddrs: string[]
  peerId: string
  /** What the daemon wrote on stderr so far (its last `stderrLimit` characters when one is set). */
  stderr: () => string
}

interface Ready { ready?: boolean, name: string, api?: string, multiaddrs: string[], peerId: string }

/** Spawns `dmm COMMAND --config FILE` and resolves on its ready line; rejects, with its stderr, when it exits before. */
export async function spawnDaemon (command: 'maar' | 'cmd', config: string, options: { stderrLimit?: number } = {}): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [DMM_BIN, command, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
    if (options.stderrLimit !== undefined) stderr = stderr.slice(-options.stderrLimit)
  })
  const lines = createInterface({ input: child.stdout! })
  const ready = await new Promise<Ready>((resolve, reject) => {
    lines.on('line', line => {
      try {
        const msg = JSON.parse(line) as Ready
        if (msg.ready === true) resolve(msg)
      } catch {}
    })
    child.once('exit', code => { reject(new Error(`dmm ${command} --config ${config} exited with ${String(code)} before ready: ${stderr}`)) })
  })
  return { child, name: ready.name, api: ready.api ?? '', multiaddrs: ready.multiaddrs, peerId: ready.peerId, stderr: () => stderr }
}

/** SIGTERM, SIGKILL after `killAfterMs` when given; the exit code once it is gone. */
export async function stopDaemonProcess (d: { child: ChildProcess }, killAfterMs?: number): Promise<number | null> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return d.child.exitCode
  const exited = new Promise<number | null>(resolve => d.child.once('exit', resolve))
  d.child.kill('SIGTERM')
  const guard = killAfterMs === undefined ? undefined : setTimeout(() => { d.child.kill('SIGKILL') }, killAfterMs)
  const code = await exited
  clearTimeout(guard)
  return code
}

/** A loopback multiaddr of the daemon that names its peer id (what another daemon's bootstrap or gateways take). */
export function dialableAddress (d: { multiaddrs: string[], peerId: string }): string {
  const addr = d.multiaddrs.find(a => a.includes('/127.0.0.1/')) ?? d.multiaddrs[0] ?? ''
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${d.peerId}`
}
