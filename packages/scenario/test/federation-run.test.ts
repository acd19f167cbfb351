/**
 * The cross-border policies as contenders, in a real run (federationEngine: createLocalFederation
 * with libp2p, LevelDB and the memory data plane): one shuttle between a2 and b1 and one MN in A
 * only. Under `drop` A's anchor refuses each crossing into B naming its agreement and policy;
 * under `bounded` (a bound longer than the run) A's prefix crosses as under tunnel, unrefused;
 * the MN that stays in A makes intra-domain handovers only, never refused.
 */
import assert from 'node:assert/strict'
import { federationEngine, parseScenario, policyOf, runScenario } from '../src/index.js'
import type { ContenderReport } from '../src/index.js'

const FILE = `name: policies
seed: 2
durationS: 7
maars:
  - { name: a1, x: 0, y: 0 }
  - { name: a2, x: 10, y: 0 }
  - { name: b1, x: 20, y: 0 }
neighbours: { nearest: 1 }
domains:
  - { name: a, maars: [a1, a2] }
  - { name: b, maars: [b1] }
agreements:
  - { from: a, to: b, boundedS: 600 }
  - { from: b, to: a }
contenders: [drop, bounded]
mns:
  - { group: shuttle, count: 1, movement: { model: ping-pong, between: [a2, b1], dwellS: 1.5, jitter: 0 } }
  - { group: home, count: 1, movement: { model: ping-pong, between: [a1, a2], dwellS: 1.5, jitter: 0 } }
checks: { everyS: 3, run: [no-prefix-held-twice] }
`

describe('cross-border policies as contenders (in one process)', function () {
  this.timeout(180_000)

  it('maps each contender onto the agreements\' policy', () => {
    assert.deepEqual(policyOf('tunnel', 30), { prefixes: 'tunnel' })
    assert.deepEqual(policyOf('drop', 30), { prefixes: 'drop' })
    assert.deepEqual(policyOf('bounded', 45), { prefixes: 'bounded', seconds: 45 })
    assert.throws(() => policyOf('dht', 30), /dht is not a cross-border policy/)
  })

  it('drop refuses crossings into B naming the agreement; bounded lets them through; intra-domain never refused', async () => {
    const report = await runScenario({ scenario: parseScenario(FILE, 'policies.yaml'), engine: federationEngine })
    const byName = (name: string): ContenderReport => {
      const c = report.contenders.find(c => c.name === name)
      assert.ok(c !== undefined && c.error === undefined, c?.error)
      return c
    }
    const intoB = (c: ContenderReport): ContenderReport['handovers'] => c.handovers.filter(h => h.crossBorder === true && h.domains?.to === 'b')
    const drop = byName('drop')
    const firstCrossing = intoB(drop)[0]
    assert.ok(firstCrossing !== undefined, 'the shuttle never crossed into B')
    assert.deepEqual(firstCrossing.refusals?.map(r => r.replace(/ ADMINISTRATIVELY_PROHIBITED: .*/, '')), ['a2'], JSON.stringify(firstCrossing))
    assert.match(firstCrossing.refusals?.[0] ?? '', /agreement a-accepts-b: policy drop/)
    const bounded = byName('bounded')
    assert.ok(intoB(bounded).length > 0)
    for (const h of intoB(bounded)) assert.equal(h.refusals, undefined, JSON.stringify(h))
    for (const c of [drop, bounded]) {
      const home = c.handovers.filter(h => h.mn.startsWith('home') && h.from !== null)
      assert.ok(home.length > 0 && home.every(h => h.crossBorder === false && h.refusals === undefined), JSON.stringify(home))
      assert.equal(c.summary.byBorder?.intraDomain.handovers, c.handovers.filter(h => h.crossBorder === false).length)
    }
  })
})
