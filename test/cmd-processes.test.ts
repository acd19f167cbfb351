/**
 * The partially distributed mode as separate OS processes (issue 10): a `dmm cmd` and three
 * `dmm maar` daemons on loopback, keys and certificates from `dmm keygen` / `dmm cert --role`,
 * an MN moved across the three through their management APIs, per CMD mode.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, dialable, dmm, makeDomain, maarAddress, pollUntil, startDaemon, stopDaemon, writeMaarConfig } from './daemons.js'
import type { Daemon, Domain } from './daemons.js'

const CMD_ADDRESS = '2001:db8:fffe::1'

async function writeCmdConfig (domain: Domain, mode: string, certificate = 'cmd.cert', identity = 'cmd.key'): Promise<string> {
  const config = join(domain.dir, `cmd-${mode}-${identity}.yaml`)
  await writeFile(config, [
    'name: cmd',
    `identity: ${identity}`,
    `certificate: ${certificate}`,
    `domain: { name: dmm.example, operatorPublicKey: ${JSON.stringify(domain.operatorPublicKey)} }`,
    'listen: [/ip4/127.0.0.1/tcp/0]',
    `address: ${CMD_ADDRESS}`,
    `dataDir: data/cmd-${mode}-${identity}`,
    `mode: ${mode}`,
    'relayTimeoutMs: 1000',
    'api: { host: 127.0.0.1, port: 0 }',
    ''
  ].join('\n'))
  return config
}

describe('dmm cmd and three dmm maar as separate OS processes', function () {
  this.timeout(120_000)
  let dir: string
  let domain: Domain

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-cmd-processes-'))
    domain = await makeDomain(dir, 3)
    assert.equal((await dmm(['keygen', '--out', join(dir, 'cmd.key')])).code, 0)
    const cert = await dmm(['cert', '--role', 'cmd', '--operator-key', join(dir, 'operator.key'), '--maar-key', join(dir, 'cmd.key'),
      '--domain', 'dmm.example', '--address', CMD_ADDRESS, '--out', join(dir, 'cmd.cert')])
    assert.equal(cert.code, 0, cert.stderr)
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  for (const mode of ['relay', 'locator', 'proxy']) {
    it(`${mode} mode: an MN moves across the three MAARs, each signalling only the CMD`, async () => {
      const cmd = await startDaemon(await writeCmdConfig(domain, mode), 'cmd')
      const maars: Daemon[] = []
      try {
        for (let i = 1; i <= 3; i++) {
          maars.push(await startDaemon(await writeMaarConfig(domain, i, {
            file: `maar${i}-${mode}.yaml`, dataDir: `data/${mode}/maar${i}`, bootstrap: maars.map(dialable), extra: [`discovery: { mode: cmd, cmd: ${JSON.stringify(dialable(cmd))} }`]
          })))
        }
        const mn = { mnId: `alice-${mode}@dmm.example`, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' }
        const kinds: string[] = []
        for (const d of maars) kinds.push((await api(d, 'POST', '/attach', mn)).kind)
        assert.deepEqual(kinds, ['first-attach', 'handover', 'handover'])
        // Locator mode: the anchors' own PBAs complete the session at maar3 just after.
        const complete = await pollUntil(async () => {
          const bce = (await api(maars[2] as Daemon, 'GET', '/bindings') as any[]).find(e => e.mnId === mn.mnId)
          return bce !== undefined && bce.remoteAnchors.length === 2 && bce.remoteAnchors.every((a: any) => a.pendingUntil === undefined) ? bce : undefined
        }, 30_000)
        assert.ok(complete, 'maar3 holds both anchors, none pending')
        // Proxy mode: the CMD answered maar3 from its cache; the anchors follow as its PBUs reach them.
        for (const d of maars.slice(0, 2)) {
          const tunnelled = await pollUntil(async () => {
            const bce = (await api(d, 'GET', '/bindings') as any[]).find(e => e.mnId === mn.mnId)
            return bce?.servingMaar?.address === maarAddress(3) ? true : undefined
          }, 30_000)
          assert.ok(tunnelled, `${d.name} tunnels to maar3`)
        }
        const sessions = await (await fetch(new URL('/sessions', cmd.api))).json() as any[]
        const s = sessions.find(x => x.mnId === mn.mnId)
        assert.equal(s?.serving.address, maarAddress(3))
        assert.deepEqual(s?.anchors.map((a: any) => a.ref.address).sort(), [1, 2, 3].map(maarAddress))
      } finally {
        for (const d of maars.reverse()) await stopDaemon(d)
        assert.equal(await stopDaemon(cmd), 0)
      }
    })
  }

  it('dmm quickstart --discovery relay|locator says which messages went where, and every prefix is reachable', async () => {
    const expected: Record<string, string[]> = {
      relay: ['PBA cmd > maar2', 'PBA maar1 > cmd', 'PBU cmd > maar1', 'PBU maar2 > cmd'],
      locator: ['PBA cmd > maar2', 'PBA maar1 > cmd', 'PBA maar1 > maar2', 'PBU cmd > maar1', 'PBU maar2 > cmd']
    }
    for (const [mode, step2] of Object.entries(expected)) {
      const run = await dmm(['quickstart', '--discovery', mode, '--maars', '3', '--path', '1,2,3'], 60_000)
      assert.equal(run.code, 0, run.stdout + run.stderr)
      const messages = run.stdout.split('\n').filter(l => l.startsWith('  messages: ')).map(l => l.slice('  messages: '.length).split(', ').sort())
      assert.deepEqual(messages[0], ['PBA cmd > maar1', 'PBU maar1 > cmd'], run.stdout)
      assert.deepEqual(messages[1], step2, run.stdout)
      assert.match(run.stdout, /all prefixes reachable through the right anchor at every step/)
    }
  })

  it('a MAAR certificate cannot run a CMD, nor a CMD certificate a MAAR: one line each, exit 2', async () => {
    const asCmd = await dmm(['cmd', '--config', await writeCmdConfig(domain, 'relay', 'maar1.cert', 'maar1.key')])
    assert.equal(asCmd.code, 2, asCmd.stderr)
    assert.match(asCmd.stderr, /^dmm: certificate \S+maar1\.cert: issued for the role maar, not for a CMD \(dmm cert --role cmd\)\n$/)
    const config = await writeMaarConfig(domain, 1, { file: 'maar-as-cmd.yaml', dataDir: 'data/maar-as-cmd', extra: [] })
    const text = await readFile(config, 'utf8')
    await writeFile(config, text.replace('identity: maar1.key', 'identity: cmd.key').replace('certificate: maar1.cert', 'certificate: cmd.cert').replace(`address: ${maarAddress(1)}`, `address: ${CMD_ADDRESS}`))
    const asMaar = await dmm(['maar', '--config', config])
    assert.equal(asMaar.code, 2, asMaar.stderr)
    assert.match(asMaar.stderr, /^dmm: certificate \S+cmd\.cert: issued for the role cmd, not for a MAAR\n$/)
  })
})
