/**
 * Federation with separate OS processes (doc/ARCHITECTURE.md "Federation"): two `dmm maar`
 * daemons per domain, each domain with its own operator key and DHT, agreements made with
 * `dmm federation make` and loaded from the configs. An MN crosses A → B → A through the
 * management API; then A revokes its agreement and reloads (SIGHUP), and B's next registration at
 * A's anchor is refused naming the revocation.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, dialable, dmm, sessionVisible, startDaemon, stopDaemon } from './daemons.js'
import type { Daemon } from './daemons.js'

import { federationLines, maarLines, makeAgreement, makeDomains, ok, reloadFederation } from './federation-daemons.js'
import type { DomainSetup, Member } from './federation-daemons.js'

describe('federation: two domains of two dmm maar daemons each (separate processes)', function () {
  let dir: string
  const daemons: Daemon[] = []
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'dmm-federation-processes-')) })
  after(async () => {
    for (const d of daemons.splice(0)) await stopDaemon(d)
    await rm(dir, { recursive: true, force: true })
  })

  it('A → B → A across the border, then A revokes its agreement (SIGHUP) and B\'s next registration is refused naming it', async () => {
    const [a, b] = await makeDomains(dir, ['a', 'b'])
    assert.ok(a !== undefined && b !== undefined)
    const agreements = [await makeAgreement(dir, a, b, 2), await makeAgreement(dir, b, a, 1)]
    const byName = new Map<string, Daemon>()
    const at = (name: string): Daemon => { const d = byName.get(name); assert.ok(d); return d }
    const writeConfig = async (d: DomainSetup, m: Member, gateways: string[], revocations: string[] = []): Promise<void> => {
      const first = d.members[0]
      assert.ok(first !== undefined)
      await writeFile(m.config, [...maarLines(d, m, m === first ? [] : [dialable(at(first.name))]), ...federationLines(agreements, gateways, revocations), ''].join('\n'))
    }
    const start = async (d: DomainSetup, gateways: string[]): Promise<void> => {
      for (const m of d.members) {
        await writeConfig(d, m, gateways)
        byName.set(m.name, await startDaemon(m.config))
        daemons.push(at(m.name))
      }
    }
    /** Rewrites A's configs and reloads them (SIGHUP); returns once each logged its `count`-th reload. */
    const reloadA = async (gateways: string[], revocations: string[], count: number): Promise<void> => {
      for (const m of a.members) await writeConfig(a, m, gateways, revocations)
      await reloadFederation(a.members.map(m => at(m.name)), count)
    }
    // A's MAARs start knowing no gateway; B's are given A's; A learns B's on SIGHUP.
    await start(a, [])
    const check = await dmm(['config', 'check', a.members[0]?.config ?? ''])
    assert.equal(check.code, 0, check.stderr)
    await start(b, a.members.map(m => dialable(at(m.name))))
    const bGateways = b.members.map(m => dialable(at(m.name)))
    await reloadA(bGateways, [], 1)
    const mn = { mnId: 'paul@federation.example', accessLink: 'access0', linkLayerId: '02:00:00:00:00:21' }
    /** Moves the MN; waits until its session at `sequence` (default the report's) is visible. */
    const move = async (from: string | undefined, to: string, expected?: number): Promise<any> => {
      if (from !== undefined) await api(at(from), 'POST', '/detach', { mnId: mn.mnId })
      const report = await api(at(to), 'POST', '/attach', mn)
      const sequence = expected ?? report.sessionSequence as number
      assert.ok(await sessionVisible(at(to), mn.mnId, sequence), `session ${sequence} visible at ${to}: ${JSON.stringify(report)} ${at(to).stderr().split('\n').filter(l => /warn|error/.test(l)).join('\n')}`)
      return report
    }

    assert.equal((await move(undefined, 'a1', 1)).kind, 'first-attach')
    const cross = await move('a1', 'b1', 2)
    assert.equal(cross.kind, 'handover')
    assert.equal(cross.lookupSource, 'border')
    assert.deepEqual(cross.peers.map((p: any) => [p.address, p.status]), [['2001:db8:ffff:100::1', 'ACCEPTED']])
    const b1Binding = (await api(at('b1'), 'GET', '/bindings') as any[]).find(e => e.mnId === mn.mnId)
    assert.deepEqual(b1Binding.remoteAnchors.map((r: any) => r.address), ['2001:db8:ffff:100::1'])
    const back = await move('b1', 'a2', 3)
    assert.equal(back.lookupSource, 'border')
    assert.ok(back.peers.every((p: any) => p.status === 'ACCEPTED'), JSON.stringify(back.peers))
    assert.deepEqual(back.peers.map((p: any) => p.address).sort(), ['2001:db8:ffff:100::1', '2001:db8:ffff:200::1'])

    // A revokes "A accepts B" and reloads its MAARs' configs.
    await ok(['federation', 'revoke', '--operator-key', join(dir, 'a-operator.key'), '--agreement', join(dir, 'a-accepts-b.json'), '--out', join(dir, 'a-accepts-b.revoked.json')])
    await reloadA(bGateways, ['a-accepts-b.revoked.json'], 2)
    // A's gateway refuses B's lookup now, so b2 continues from B's own record.
    const refused = await move('a2', 'b2').catch(err => err as Error)
    assert.ok(!(refused instanceof Error), String(refused))
    const fromA = refused.peers.filter((p: any) => p.address.startsWith('2001:db8:ffff:100::'))
    assert.ok(fromA.length > 0 && fromA.every((p: any) => p.status === 'ADMINISTRATIVELY_PROHIBITED' && /agreement a-accepts-b: revoked at/.test(p.error)), JSON.stringify(refused.peers))
    const logged = [at('a1'), at('a2')].flatMap(d => d.stderr().split('\n')).filter(l => l.includes('"msg":"rejected PBU"') && l.includes('agreement a-accepts-b: revoked at'))
    assert.ok(logged.length > 0, 'A\'s anchor logs the refusal naming the revoked agreement')
    assert.ok((await readFile(join(dir, 'a-accepts-b.revoked.json'), 'utf8')).includes('"agreement": "a-accepts-b"'))
  })
})
