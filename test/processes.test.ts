/**
 * Three MAARs as separate OS processes, each started by `dmm maar --config FILE` with keys and
 * certificates made by `dmm keygen` / `dmm cert`, driven through their management APIs.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { BIN, api, dialable, dmm, makeDomain, sessionVisible, startDaemon, stopDaemon, writeMaarConfig } from './daemons.js'
import type { Daemon } from './daemons.js'

describe('dmm maar as separate OS processes', function () {
  this.timeout(120_000)
  let dir: string
  const daemons: Daemon[] = []
  const configs: string[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-processes-'))
    const domain = await makeDomain(dir, 3)
    for (let i = 1; i <= 3; i++) {
      const config = await writeMaarConfig(domain, i, { bootstrap: daemons.map(dialable) })
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
    const untilFound = async (d: Daemon, sequence: number): Promise<void> => {
      assert.ok(await sessionVisible(d, mn.mnId, sequence), `session ${sequence} of ${mn.mnId} never became visible`)
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

  it('dmm inspect shows the bindings the API made: serving with tunnels to the anchors, anchored with a tunnel to the serving MAAR', async () => {
    const [d1, d2, d3] = daemons
    assert.ok(d1 && d2 && d3)
    const serving = await dmm(['inspect', '--api', d3.api])
    assert.equal(serving.code, 0, serving.stderr)
    const lines = serving.stdout.split('\n')
    assert.match(lines[0] ?? '', new RegExp(`^maar3  peer ${d3.peerId}  address 2001:db8:ffff::3$`))
    assert.ok(lines.includes('peers: 2 MAARs'), serving.stdout)
    for (const d of [d1, d2]) assert.match(serving.stdout, new RegExp(`^  ${d.peerId}\\s+2001:db8:ffff::${d.name.slice(-1)}\\s+connected; anchors 1 prefix of MNs served here$`, 'm'))
    assert.match(serving.stdout, /^bindings: 1 MN, 3 prefixes$/m)
    assert.match(serving.stdout, /^  alice@dmm\.example\s+serving\s+2001:db8:3:\S+\s+anchored here \(native\)\s+in \d+ s$/m)
    for (const i of [1, 2]) assert.match(serving.stdout, new RegExp(`^  alice@dmm\\.example\\s+serving\\s+2001:db8:${i}:\\S+\\s+tunnel to anchor 2001:db8:ffff::${i}\\s+in \\d+ s$`, 'm'))

    const anchor = await dmm(['inspect', '--api', d1.api])
    assert.equal(anchor.code, 0, anchor.stderr)
    assert.match(anchor.stdout, new RegExp(`^  ${d3.peerId}\\s+2001:db8:ffff::3\\s+connected; serves 1 MN anchored here$`, 'm'))
    assert.match(anchor.stdout, /^  alice@dmm\.example\s+anchored\s+2001:db8:1:\S+\s+tunnel to serving MAAR 2001:db8:ffff::3\s+-$/m)
  })

  it('dmm inspect --watch redraws until SIGINT, then exits 0', async () => {
    const d3 = daemons[2]
    assert.ok(d3)
    const child = spawn(process.execPath, [BIN, 'inspect', '--api', d3.api, '--watch'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    const twoViews = new Promise<void>(resolve => child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (stdout.split('bindings: 1 MN, 3 prefixes').length > 2) resolve()
    }))
    const exited = new Promise<number | null>(resolve => child.on('exit', resolve))
    await Promise.race([twoViews, exited])
    child.kill('SIGINT')
    assert.equal(await exited, 0)
    assert.ok(stdout.split('(every 1 s, Ctrl-C to stop)').length > 2, stdout)
  })

  it('dmm inspect names an API it cannot reach (exit 2)', async () => {
    const run = await dmm(['inspect', '--api', 'http://127.0.0.1:1'])
    assert.equal(run.code, 2)
    assert.match(run.stderr, /^dmm: cannot reach the management API at http:\/\/127\.0\.0\.1:1/)
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
    // The first problem in file order, with its line; config check lists every problem.
    assert.equal(run.stderr, `dmm: ${bad}:4: domain.operatorPublicKey: must be base64 (the publicKey that dmm keygen prints) (and 1 more: dmm config check ${bad} lists them all)\n`)
    const check = await dmm(['config', 'check', bad])
    assert.equal(check.code, 2)
    assert.equal(check.stderr, `${bad}:4: domain.operatorPublicKey: must be base64 (the publicKey that dmm keygen prints)\n${bad}:9: lifetime: 7 s is not a multiple of 4 (RFC 6275 §6.1.7 carries units of 4 s)\n`)
  })

  it('unknown commands and options are refused with a pointer to --help', async () => {
    const a = await dmm(['fly'])
    assert.equal(a.code, 2)
    assert.match(a.stderr, /unknown command "fly"/)
    const b = await dmm(['quickstart', '--colour', 'red'])
    assert.equal(b.code, 2)
    assert.equal(b.stderr, 'dmm: unknown option --colour (see dmm quickstart --help)\n')
    const help = await dmm(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /dmm quickstart/)
  })
})
