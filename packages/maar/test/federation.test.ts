/**
 * Inter-domain handover, DHT domain ↔ DHT domain, in one process (doc/ARCHITECTURE.md
 * "Federation"): real libp2p nodes and LevelDB per MAAR, one DHT and operator key per domain, the
 * memory data plane tracing every address of the MN across the border at every step.
 */
import assert from 'node:assert/strict'
import { agreementId } from '../src/index.js'
import type { HandoverReport } from '../src/index.js'
import { startFederation } from './federation-fixture.js'
import type { FederationFixture, Reach } from './federation-fixture.js'

const MN = 'carol@federation.example'

function prefixesOf (r: HandoverReport): Array<[string, string]> {
  return r.anchors.map(a => [a.prefix, a.anchor])
}

/** Every address reached, each through the anchor that delegated it (downlink passes it). */
function allReachable (reach: Reach[], anchors: string[]): void {
  assert.deepEqual(reach.map(r => r.anchor).sort(), [...anchors].sort(), `anchors of the MN's addresses: ${JSON.stringify(reach)}`)
  for (const r of reach) {
    assert.ok(r.delivered, `${r.address} reachable: down ${r.down.join(' > ')}, up ${r.up.join(' > ')}`)
    assert.ok(r.down.includes(r.anchor), `${r.address} goes through its anchor ${r.anchor}: ${r.down.join(' > ')}`)
  }
}

describe('federation: two DHT domains, policy tunnel (in one process)', function () {
  let f: FederationFixture
  before(async () => {
    f = await startFederation({
      domains: [{ label: 'a', count: 2 }, { label: 'b', count: 2 }],
      agreements: [{ issuer: 'a', subject: 'b', policy: { prefixes: 'tunnel' } }, { issuer: 'b', subject: 'a', policy: { prefixes: 'tunnel' } }]
    })
  })
  after(async () => { await f?.stop() })

  it('A → B → B → A: B finds the session across the border, A\'s anchor tunnels to B, the return finds B\'s anchors', async () => {
    const first = await f.move(MN, 'a1')
    assert.equal(first.kind, 'first-attach')
    allReachable(f.reach(MN), ['a1'])

    const cross = await f.move(MN, 'b1')
    assert.equal(cross.kind, 'handover')
    assert.equal(cross.lookupSource, 'border')
    assert.deepEqual(cross.peers.map(p => p.status), ['ACCEPTED'])
    assert.deepEqual(prefixesOf(cross).map(p => p[1]).sort(), ['2001:db8:ffff:100::1', '2001:db8:ffff:200::1'])
    allReachable(f.reach(MN), ['a1', 'b1'])

    // Inside B: B's own DHT has the session now (it names A's anchor, proven by A's certificate).
    const inside = await f.move(MN, 'b2')
    assert.equal(inside.kind, 'handover')
    assert.notEqual(inside.lookupSource, 'border')
    allReachable(f.reach(MN), ['a1', 'b1', 'b2'])

    // Back to A at a2: A's DHT still holds the record of the first stay; B's gateway has a newer one.
    const back = await f.move(MN, 'a2')
    assert.equal(back.kind, 'handover')
    assert.equal(back.lookupSource, 'border')
    assert.ok(back.peers.every(p => p.status === 'ACCEPTED'), JSON.stringify(back.peers))
    allReachable(f.reach(MN), ['a1', 'b1', 'b2', 'a2'])
    assert.equal(f.fed.signed.has(agreementId('a', 'b')), true)
  })
})
