/**
 * Legacy PMIPv6 (draft-bernardos-dmm-pmip Appendix A.5) as separate OS processes: three `dmm maar`
 * daemons on loopback, maar1 configured as the LMA (`discovery: { mode: legacy, lma: self }`),
 * maar2 and maar3 as its MAGs; and `dmm quickstart --discovery legacy`.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, dialable, dmm, makeDomain, maarAddress, startDaemon, stopDaemon, writeMaarConfig } from './daemons.js'
import type { Daemon, Domain } from './daemons.js'

describe('legacy PMIPv6: an LMA and two MAGs as separate OS processes', function () {
  this.timeout(120_000)
  let dir: string
  let domain: Domain

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-legacy-processes-'))
    domain = await makeDomain(dir, 3)
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('an MN moves MAG > MAG > LMA > MAG with one prefix from the LMA\'s pool; the de-registration frees it', async () => {
    const maars: Daemon[] = []
    try {
      for (let i = 1; i <= 3; i++) {
        const lma = i === 1 ? 'self' : JSON.stringify(dialable(maars[0] as Daemon))
        maars.push(await startDaemon(await writeMaarConfig(domain, i, {
          bootstrap: maars.map(dialable), extra: [`discovery: { mode: legacy, lma: ${lma} }`]
        })))
      }
      const [lma, mag2, mag3] = maars as [Daemon, Daemon, Daemon]
      const mn = { mnId: 'alice@dmm.example', accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' }
      const bce = async (d: Daemon): Promise<any> => (await api(d, 'GET', '/bindings') as any[]).find(e => e.mnId === mn.mnId)
      const reports = []
      for (const d of [mag2, mag3, lma, mag2]) reports.push(await api(d, 'POST', '/attach', mn))
      assert.deepEqual(reports.map(r => r.kind), ['first-attach', 'handover', 'return', 'handover'])
      const hnp = reports[0].anchors[0]?.prefix as string
      assert.match(hnp, /^2001:db8:1:/, 'the home network prefix comes from the LMA\'s pool')
      assert.deepEqual(reports.map(r => r.anchors.map((a: any) => [a.prefix, a.anchor, a.native])), [
        [[hnp, maarAddress(1), false]], [[hnp, maarAddress(1), false]], [[hnp, maarAddress(1), true]], [[hnp, maarAddress(1), false]]
      ])
      const atLma = await bce(lma)
      assert.deepEqual([atLma?.attached, atLma?.localPrefixes, atLma?.servingMaar?.address], [false, [hnp], maarAddress(2)], 'the LMA tunnels to maar2')
      const atMag = await bce(mag2)
      assert.deepEqual([atMag?.localPrefixes, atMag?.remoteAnchors.map((a: any) => a.address)], [[], [maarAddress(1)]], 'maar2 delegates nothing, uplink to the LMA')
      assert.equal(await bce(mag3), undefined, 'maar3 dropped the MN when it left')
      const ended = await api(mag2, 'POST', '/deregister', { mnId: mn.mnId })
      assert.deepEqual(ended.anchors.map((a: any) => [a.address, a.status, a.prefixes]), [[maarAddress(1), 'ACCEPTED', [hnp]]])
      assert.equal(await bce(lma), undefined, 'the LMA freed the prefix')
    } finally {
      for (const d of maars.reverse()) assert.equal(await stopDaemon(d), 0)
    }
  })

  it('dmm quickstart --discovery legacy: each MAG signals only the LMA (and the MAG it replaces); every step reachable', async () => {
    const run = await dmm(['quickstart', '--discovery', 'legacy', '--maars', '3', '--path', '2,3,1,2'], 60_000)
    assert.equal(run.code, 0, run.stdout + run.stderr)
    const messages = run.stdout.split('\n').filter(l => l.startsWith('  messages: ')).map(l => l.slice('  messages: '.length).split(', ').sort())
    assert.deepEqual(messages, [
      ['PBA maar1 > maar2', 'PBU maar2 > maar1'],
      ['PBA maar1 > maar3', 'PBA maar2 > maar3', 'PBU maar3 > maar1', 'PBU maar3 > maar2'],
      ['PBA maar3 > maar1', 'PBU maar1 > maar3'],
      ['PBA maar1 > maar2', 'PBU maar2 > maar1']
    ], run.stdout)
    // Every step's downlink enters at the LMA, tunnelled to the MAG unless the MN is at the LMA.
    const downlinks = run.stdout.split('\n').filter(l => l.startsWith('  ok   CN -> ')).map(l => l.replace(/^.*: /, ''))
    assert.deepEqual(downlinks, [
      'CN > maar1 > tunnel->maar2 > maar2 > mn:alice@dmm.example',
      'CN > maar1 > tunnel->maar3 > maar3 > mn:alice@dmm.example',
      'CN > maar1 > mn:alice@dmm.example',
      'CN > maar1 > tunnel->maar2 > maar2 > mn:alice@dmm.example'
    ], run.stdout)
    assert.match(run.stdout, /bindings left in the mesh: 0/)
    assert.match(run.stdout, /all prefixes reachable through the right anchor at every step/)
  })
})
