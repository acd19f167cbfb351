/**
 * A CMD domain and a DHT domain in a federation, as separate OS processes (doc/ARCHITECTURE.md
 * "CMD domains", draft-bernardos-dmm-pmip Appendix A.5): domain A runs a `dmm cmd` (relay mode)
 * and two `dmm maar` signalling through it, domain B two `dmm maar` on its DHT; each domain has
 * its own operator key, the agreements come from `dmm federation make` and every config (the
 * CMD's too) names them in its `federation` section. A's CMD is A's gateway. The MN crosses
 * A → B and back B → A; the daemons' APIs show who tunnels what to whom at each step. Then A
 * revokes its agreement and its CMD reloads it on SIGHUP.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, dialable, dmm, pollUntil, sessionVisible, startDaemon, stopDaemon } from './daemons.js'
import type { Daemon } from './daemons.js'
import { federationLines, maarLines, makeAgreement, makeDomains, ok, reloadFederation } from './federation-daemons.js'
import type { DomainSetup, Member } from './federation-daemons.js'

const CMD_ADDRESS = '2001:db8:fffe::1'

describe('federation: a dmm cmd domain (relay) and a DHT domain, separate processes', function () {
  this.timeout(120_000)
  let dir: string
  const daemons: Daemon[] = []
  let domainA: DomainSetup | undefined
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'dmm-cmd-federation-processes-')) })
  after(async () => {
    for (const d of daemons.splice(0).reverse()) await stopDaemon(d)
    await rm(dir, { recursive: true, force: true })
  })

  it('A(cmd) → B(dht): B asks A\'s CMD across the border, A\'s anchor tunnels to B; B → A: the CMD relays to B\'s anchor; after A revokes on SIGHUP its CMD refuses B', async () => {
    const [a, b] = await makeDomains(dir, ['a', 'b'])
    assert.ok(a !== undefined && b !== undefined)
    domainA = a
    const agreements = [await makeAgreement(dir, a, b, 2), await makeAgreement(dir, b, a, 1)]
    await ok(['keygen', '--out', join(dir, 'cmd.key')])
    await ok(['cert', '--role', 'cmd', '--operator-key', join(dir, 'a-operator.key'), '--maar-key', join(dir, 'cmd.key'), '--domain', a.domain, '--address', CMD_ADDRESS, '--out', join(dir, 'cmd.cert')])
    const byName = new Map<string, Daemon>()
    const at = (name: string): Daemon => { const d = byName.get(name); assert.ok(d, name); return d }
    const bootstrapOf = (d: DomainSetup, m: Member): string[] => {
      const first = d.members[0]
      return first === undefined || m === first ? [] : [dialable(at(first.name))]
    }
    const start = async (d: DomainSetup, lines: (m: Member, bootstrap: string[]) => string[]): Promise<void> => {
      for (const m of d.members) {
        await writeFile(m.config, [...lines(m, bootstrapOf(d, m)), ''].join('\n'))
        byName.set(m.name, await startDaemon(m.config))
        daemons.push(at(m.name))
      }
    }
    // Port 0 everywhere: B starts knowing no gateway, the CMD and A's MAARs are given B's, and B
    // learns A's CMD (its gateway) on SIGHUP.
    const bLines = (gateways: string[]) => (m: Member, bootstrap: string[]): string[] => [...maarLines(b, m, bootstrap), ...federationLines(agreements, gateways)]
    await start(b, bLines([]))
    const bGateways = b.members.map(m => dialable(at(m.name)))
    const cmdConfig = join(dir, 'cmd.yaml')
    const writeCmdConfig = async (revocations: string[]): Promise<void> => await writeFile(cmdConfig, [
      'name: cmd', 'identity: cmd.key', 'certificate: cmd.cert',
      `domain: { name: ${a.domain}, operatorPublicKey: "${a.publicKey}" }`,
      'listen: [/ip4/127.0.0.1/tcp/0]', `address: ${CMD_ADDRESS}`, 'dataDir: data/cmd', 'mode: relay',
      'api: { host: 127.0.0.1, port: 0 }',
      ...federationLines(agreements, bGateways, revocations), ''
    ].join('\n'))
    await writeCmdConfig([])
    const central = await startDaemon(cmdConfig, 'cmd')
    daemons.push(central)
    const aLines = (revocations: string[]) => (m: Member, bootstrap: string[]): string[] => [...maarLines(a, m, bootstrap), `discovery: { mode: cmd, cmd: "${dialable(central)}" }`, ...federationLines(agreements, bGateways, revocations)]
    await start(a, aLines([]))
    for (const m of b.members) await writeFile(m.config, [...bLines([dialable(central)])(m, bootstrapOf(b, m)), ''].join('\n'))
    await reloadFederation(b.members.map(m => at(m.name)), 1)
    const address = (name: string): string => { const m = [...a.members, ...b.members].find(x => x.name === name); assert.ok(m, name); return m.address }
    const mn = { mnId: 'oscar@federation.example', accessLink: 'access0', linkLayerId: '02:00:00:00:00:22' }
    const bindingAt = async (name: string): Promise<any> => (await api(at(name), 'GET', '/bindings') as any[]).find(e => e.mnId === mn.mnId)
    const cmdSession = async (): Promise<any> => (await (await fetch(new URL('/sessions', central.api))).json() as any[]).find(s => s.mnId === mn.mnId)
    const move = async (from: string | undefined, to: string): Promise<any> => {
      if (from !== undefined) await api(at(from), 'POST', '/detach', { mnId: mn.mnId })
      const report = await api(at(to), 'POST', '/attach', mn)
      assert.ok(await sessionVisible(at(to), mn.mnId, report.sessionSequence as number), `session ${String(report.sessionSequence)} visible at ${to}: ${JSON.stringify(report)}`)
      return report
    }
    /** `anchor` tunnels its prefix of the MN to `serving` (its BCE names it), once its PBU arrived. */
    const tunnels = async (anchor: string, serving: string): Promise<boolean> =>
      await pollUntil(async () => (await bindingAt(anchor))?.servingMaar?.address === address(serving) ? true : undefined, 30_000) ?? false

    const first = await move(undefined, 'a1')
    assert.equal(first.kind, 'first-attach')
    assert.equal((await cmdSession())?.serving.address, address('a1'))

    // A → B: b1 finds the session at A's CMD (the gateway), signals a1 itself, under "A accepts B".
    const cross = await move('a1', 'b1')
    assert.equal(cross.kind, 'handover')
    assert.equal(cross.lookupSource, 'border')
    assert.deepEqual(cross.peers.map((p: any) => [p.address, p.status]), [[address('a1'), 'ACCEPTED']])
    assert.ok(await tunnels('a1', 'b1'), 'a1 tunnels A\'s prefix to b1')
    assert.deepEqual((await bindingAt('b1')).remoteAnchors.map((r: any) => r.address), [address('a1')])

    // B → A: a2 signals only the CMD; its stale session's referral leads it to B's anchor b1.
    const back = await move('b1', 'a2')
    assert.equal(back.kind, 'handover')
    assert.ok(back.peers.every((p: any) => p.status === 'ACCEPTED'), JSON.stringify(back.peers))
    assert.ok(await tunnels('a1', 'a2'), 'a1 tunnels A\'s first prefix to a2')
    assert.ok(await tunnels('b1', 'a2'), 'b1 tunnels B\'s prefix to a2 across the border')
    const held = await bindingAt('a2')
    assert.deepEqual(held.remoteAnchors.map((r: any) => r.address).sort(), [address('a1'), address('b1')].sort())
    assert.ok(held.remoteAnchors.every((r: any) => r.pendingUntil === undefined), JSON.stringify(held.remoteAnchors))
    const session = await cmdSession()
    assert.equal(session?.serving.address, address('a2'))
    assert.deepEqual(session?.anchors.map((x: any) => x.ref.address).sort(), [address('a1'), address('a2'), address('b1')].sort())

    // A revokes "A accepts B"; its CMD (the gateway) and its MAARs reload their configs on SIGHUP.
    await ok(['federation', 'revoke', '--operator-key', join(dir, 'a-operator.key'), '--agreement', join(dir, 'a-accepts-b.json'), '--out', join(dir, 'a-accepts-b.revoked.json')])
    await writeCmdConfig(['a-accepts-b.revoked.json'])
    for (const m of a.members) await writeFile(m.config, [...aLines(['a-accepts-b.revoked.json'])(m, bootstrapOf(a, m)), ''].join('\n'))
    await reloadFederation([central, ...a.members.map(m => at(m.name))], 1)
    // The CMD refuses B's border lookup now, naming the revoked agreement: b2 goes on from B's own record.
    const after = await move('a2', 'b2')
    assert.notEqual(after.lookupSource, 'border', JSON.stringify(after))
    assert.match(central.stderr(), /refused border lookup from [^"]*a-accepts-b[^"]*revoked/)
  })

  it('a `dmm cmd` whose config no longer checks on SIGHUP keeps its agreements and says why, and reloads once it checks again', async () => {
    const a = domainA
    assert.ok(a !== undefined, 'domain A made by the test before')
    const config = join(dir, 'cmd-hup.yaml')
    const lines = (federation: string[]): string => [
      'name: cmd-hup', 'identity: cmd.key', 'certificate: cmd.cert',
      `domain: { name: ${a.domain}, operatorPublicKey: "${a.publicKey}" }`,
      'listen: [/ip4/127.0.0.1/tcp/0]', `address: ${CMD_ADDRESS}`, 'dataDir: data/cmd-hup', 'mode: relay',
      ...federation, ''
    ].join('\n')
    await writeFile(config, lines(federationLines(['a-accepts-b.json', 'b-accepts-a.json'], [])))
    const central = await startDaemon(config, 'cmd')
    daemons.push(central)
    /** A log line holding every one of `parts` (a JSON line's fields come in any order). */
    const logged = async (...parts: string[]): Promise<boolean> =>
      await pollUntil(async () => central.stderr().split('\n').some(l => parts.every(p => l.includes(p))) ? true : undefined, 10_000) ?? false

    // Line 12 names a gateway without its peer id: the file does not check, nothing changes.
    await writeFile(config, lines(federationLines(['a-accepts-b.json'], ['/ip4/127.0.0.1/tcp/4001'])))
    central.child.kill('SIGHUP')
    assert.ok(await logged('SIGHUP: config not reloaded, log level unchanged', 'cmd-hup.yaml:12: federation.gateways[0]: must end with /p2p/'), central.stderr())
    // An agreement file that is gone: the agreements loaded at start stay in force.
    await writeFile(config, lines(federationLines(['gone.json'], [])))
    central.child.kill('SIGHUP')
    assert.ok(await logged('SIGHUP: federation agreements not reloaded; those loaded before stay in force', 'gone.json'), central.stderr())
    // A file that checks again is applied: one agreement of the two.
    await writeFile(config, lines(federationLines(['b-accepts-a.json'], [])))
    await reloadFederation([central], 1)
    assert.ok(await logged('federation agreements reloaded on SIGHUP', '"agreements":"b-accepts-a"'), central.stderr())
    daemons.splice(daemons.indexOf(central), 1)
    assert.equal(await stopDaemon(central), 0, central.stderr())
  })

  it('a `dmm cmd` config with a bad federation section is refused at the line, naming the field', async () => {
    const config = join(dir, 'cmd-bad.yaml')
    const operator = (JSON.parse(await ok(['keygen', '--out', join(dir, 'bad-operator.key')])) as { publicKey: string }).publicKey
    await writeFile(config, [
      'name: cmd', 'identity: cmd.key', 'certificate: cmd.cert',
      `domain: { name: a.example, operatorPublicKey: "${operator}" }`,
      'listen: [/ip4/127.0.0.1/tcp/0]', `address: ${CMD_ADDRESS}`, 'dataDir: data/cmd-bad',
      'federation:', '  agreements: [a-accepts-b.json]', '  gateways: [/ip4/127.0.0.1/tcp/4001]', ''
    ].join('\n'))
    const run = await dmm(['cmd', '--config', config])
    assert.equal(run.code, 2, run.stderr)
    assert.match(run.stderr, /cmd-bad\.yaml:10: federation\.gateways\[0\]: must end with \/p2p\/<peer id> of a gateway/)
  })
})
