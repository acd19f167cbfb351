/**
 * Three MAARs as separate OS processes, each started by `dmm maar --config FILE` with keys and
 * certificates made by `dmm keygen` / `dmm cert`, driven through their management APIs.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

const BIN = resolve(fileURLToPath(import.meta.url), '../../../packages/cli/dist/src/bin.js')

interface Run { code: number | null, stdout: string, stderr: string }

async function dmm (args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  return { code, stdout, stderr }
}

interface Daemon { child: ChildProcess, api: string, multiaddrs: string[], peerId: string, stderr: () => string }

async function startDaemon (config: string): Promise<Daemon> {
  const child = spawn(process.execPath, [BIN, 'maar', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const lines = createInterface({ input: child.stdout! })
  const ready = await new Promise<{ api: string, multiaddrs: string[], peerId: string }>((resolve, reject) => {
    lines.on('line', line => {
      try {
        const msg = JSON.parse(line) as { ready?: boolean, api: string, multiaddrs: string[], peerId: string }
        if (msg.ready === true) resolve(msg)
      } catch {}
    })
    child.once('exit', code => { reject(new Error(`dmm maar exited with ${String(code)} before ready: ${stderr}`)) })
  })
  return { child, ...ready, stderr: () => stderr }
}

async function api (d: Daemon, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(new URL(path, d.api), { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const json = await res.json()
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`)
  return json
}

/** A loopback multiaddr of the daemon that names its peer id. */
function dialable (d: Daemon): string {
  const addr = d.multiaddrs.find(a => a.includes('/127.0.0.1/')) ?? d.multiaddrs[0] ?? ''
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${d.peerId}`
}

async function stopDaemon (d: Daemon): Promise<number | null> {
  if (d.child.exitCode !== null) return d.child.exitCode
  const exited = new Promise<number | null>(resolve => d.child.once('exit', resolve))
  d.child.kill('SIGTERM')
  return await exited
}

describe('dmm maar as separate OS processes', function () {
  this.timeout(120_000)
  let dir: string
  const daemons: Daemon[] = []
  const configs: string[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-processes-'))
    const op = await dmm(['keygen', '--out', join(dir, 'operator.key')])
    assert.equal(op.code, 0, op.stderr)
    const operatorPublicKey = (JSON.parse(op.stdout) as { publicKey: string }).publicKey
    for (let i = 1; i <= 3; i++) {
      assert.equal((await dmm(['keygen', '--out', join(dir, `maar${i}.key`)])).code, 0)
      const cert = await dmm(['cert', '--operator-key', join(dir, 'operator.key'), '--maar-key', join(dir, `maar${i}.key`),
        '--domain', 'dmm.example', '--pools', `2001:db8:${i}::/48`, '--address', `2001:db8:ffff::${i}`, '--out', join(dir, `maar${i}.cert`)])
      assert.equal(cert.code, 0, cert.stderr)
    }
    for (let i = 1; i <= 3; i++) {
      const bootstrap = daemons.map(dialable)
      const config = join(dir, `maar${i}.yaml`)
      await writeFile(config, [
        `name: maar${i}`,
        `identity: maar${i}.key`,
        `certificate: maar${i}.cert`,
        `domain: { name: dmm.example, operatorPublicKey: "${operatorPublicKey}" }`,
        'listen: [/ip4/127.0.0.1/tcp/0]',
        `bootstrap: [${bootstrap.map(a => JSON.stringify(a)).join(', ')}]`,
        `address: 2001:db8:ffff::${i}`,
        `pools: [2001:db8:${i}::/48]`,
        `dataDir: data/maar${i}`,
        'lifetime: 3600',
        ''
      ].join('\n'))
      configs.push(config)
      daemons.push(await startDaemon(config))
    }
  })

  after(async () => {
    for (const d of daemons) await stopDaemon(d)
    await rm(dir, { recursive: true, force: true })
  })

  it('moves an MN across the three processes; every anchor points at the serving MAAR', async () => {
    const [d1, d2, d3] = daemons
    assert.ok(d1 && d2 && d3)
    const mn = { mnId: 'alice@dmm.example', accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' }
    const r1 = await api(d1, 'POST', '/attach', mn)
    assert.equal(r1.kind, 'first-attach')
    // The management API answers once both ends are programmed; publication follows in the
    // background, so before each move wait until the next MAAR finds the current session.
    const untilFound = async (d: Daemon, sequence: number): Promise<void> => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const s = await api(d, 'GET', `/session?mn=${encodeURIComponent(mn.mnId)}`)
        if (s !== null && s.sequence >= sequence) return
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      assert.fail(`session ${sequence} of ${mn.mnId} never became visible`)
    }
    await untilFound(d2, r1.sessionSequence)
    const r2 = await api(d2, 'POST', '/attach', mn)
    assert.equal(r2.kind, 'handover')
    await untilFound(d3, r2.sessionSequence)
    const r3 = await api(d3, 'POST', '/attach', mn)
    assert.equal(r3.kind, 'handover')
    assert.equal(r3.anchors.length, 3, JSON.stringify(r3))
    assert.ok(r3.peers.every((p: any) => p.status === 'ACCEPTED'), JSON.stringify(r3.peers))
    for (const d of [d1, d2]) {
      const bindings = await api(d, 'GET', '/bindings')
      const bce = bindings.find((e: any) => e.mnId === mn.mnId)
      assert.equal(bce.attached, false)
      assert.equal(bce.servingMaar.address, '2001:db8:ffff::3')
    }
  })

  it('a MAAR process restarted on its data directory keeps its bindings', async () => {
    const d1 = daemons[0]
    assert.ok(d1)
    assert.equal(await stopDaemon(d1), 0, `clean exit on SIGTERM: ${d1.stderr()}`)
    const again = await startDaemon(configs[0] ?? '')
    daemons[0] = again
    const bindings = await api(again, 'GET', '/bindings')
    assert.equal(bindings.find((e: any) => e.mnId === 'alice@dmm.example')?.servingMaar?.address, '2001:db8:ffff::3')
  })

  it('a broken config stops the process with the field and the reason', async () => {
    const bad = join(dir, 'bad.yaml')
    await writeFile(bad, 'name: x\nidentity: a\ncertificate: b\ndomain: { name: d, operatorPublicKey: k }\nlisten: [/ip4/127.0.0.1/tcp/0]\naddress: 2001:db8::1\npools: [2001:db8:9::/48]\ndataDir: d\nlifetime: 7\n')
    const run = await dmm(['maar', '--config', bad])
    assert.equal(run.code, 2)
    assert.match(run.stderr, /lifetime: 7 s is not a multiple of 4/)
  })

  it('unknown commands and options are refused with a pointer to --help', async () => {
    const a = await dmm(['fly'])
    assert.equal(a.code, 2)
    assert.match(a.stderr, /unknown command "fly"/)
    const b = await dmm(['quickstart', '--colour', 'red'])
    assert.equal(b.code, 2)
    assert.match(b.stderr, /--colour/)
    const help = await dmm(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /dmm quickstart/)
  })
})
