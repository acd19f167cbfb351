/**
 * Three MAARs as separate OS processes, each started by `dmm maar --config FILE` with keys and
 * certificates made by `dmm keygen` / `dmm cert`, driven through their management APIs.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, dialable, dmm, makeDomain, sessionVisible, startDaemon, stopDaemon, writeMaarConfig } from './daemons.js'
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
