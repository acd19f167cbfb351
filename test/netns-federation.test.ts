/**
 * Issue 14 on the real kernel: two DHT domains (doc/ARCHITECTURE.md "Federation") in the network
 * namespaces of scenarios/netns, run by scenarios/netns/e2e.sh with DMM_E2E_FEDERATION: maar1 and
 * maar2 are domain a.example, maar3 and maar4 domain b.example, each domain with its own operator
 * key and DHT, two `dmm maar` processes each with the Linux data plane (seg6 tunnels, radvd,
 * SLAAC), agreements "a accepts b" and "b accepts a" from `dmm federation make`, each MAAR's
 * gateways the other domain's MAARs.
 * Policy tunnel: the MN moves maar1 (A) -> maar3 (B) -> maar2 (A); at each step the CN reaches
 * every address of the MN, the other domain's through the inter-domain tunnel (tcpdump on the
 * serving MAAR's backbone, both ways), the serving domain's natively.
 * Policy drop: maar1 (A) -> maar3 (B): A's anchor refuses naming the agreement, the CN no longer
 * reaches the MN's A address, and reaches its B address natively.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { DMM_BIN, checkForwarding, e2e, planAccess } from './netns-e2e-script.js'
import type { AttachReport } from './netns-e2e-script.js'
import { netnsSupport, pingOnce, reachable, slaac, tunnelCapture } from './netns-topology.js'

/** A federation of two domains of two MAARs each on one namespace network, for one policy. */
function federationOnTheKernel (policy: 'tunnel' | 'drop'): {
  plan: ReturnType<typeof planAccess>
  mn: { netns: string, ifname: string }
  /** The MN's SLAAC address in each prefix it was given. */
  addressOf: Map<string, string>
  attach: (to: number) => Promise<AttachReport>
} {
  const id = `f${randomBytes(4).toString('hex')}`
  let started = false
  let plan = new Map<string, string>()
  const access = planAccess(() => plan)
  const mn = { netns: `dmm-${id}-mn`, ifname: 'eth0' }
  const addressOf = new Map<string, string>()

  before(async function () {
    const support = await netnsSupport(['seg6', 'radvd', 'tcpdump'])
    if (!support.ok) { console.log(`      skipped: ${support.reason ?? ''}`); this.skip() }
    if (!existsSync(DMM_BIN)) throw new Error(`${DMM_BIN} missing: build first (npx tsc -b)`)
    started = true
    plan = (await e2e(['up', id, '4'], { DMM_E2E_FEDERATION: policy })).plan
    assert.equal(access.get('FEDERATION'), policy)
    assert.deepEqual([1, 2, 3, 4].map(i => access.get(`MAAR${i}_DOMAIN`)), ['a.example', 'a.example', 'b.example', 'b.example'])
  })
  after(async function () {
    if (started) await e2e(['down', id])
  })

  return {
    plan: access,
    mn,
    addressOf,
    attach: async to => {
      const r = await e2e(['attach', id, String(to)])
      assert.ok(r.report !== undefined, r.stdout)
      addressOf.set(r.report.localPrefix, addressOf.get(r.report.localPrefix) ?? await slaac({ mn }, r.report.localPrefix, true))
      return r.report
    }
  }
}

describe('two DHT domains in network namespaces (dmm maar processes, Linux data plane), policy tunnel: maar1 (A) -> maar3 (B) -> maar2 (A)', function () {
  this.timeout(180_000)
  const f = federationOnTheKernel('tunnel')
  const { sid } = f.plan

  it('first attach at maar1 (A): the CN reaches the MN natively', async () => {
    const r = await f.attach(1)
    assert.equal(r.kind, 'first-attach')
    await checkForwarding(f.plan, f.mn.netns, 1, r, f.addressOf)
  })

  it('across the border to maar3 (B): found through A\'s gateway, maar1 accepts under "a accepts b"; the A address through the inter-domain tunnel, the B address natively', async () => {
    const r = await f.attach(3)
    assert.equal(r.kind, 'handover')
    assert.equal(r.lookupSource, 'border')
    assert.deepEqual(r.peers.map(p => [p.address, p.status]), [[sid(1), 'ACCEPTED']])
    assert.deepEqual(r.anchors.map(a => [a.anchor, a.native]).sort(), [[sid(1), false], [sid(3), true]])
    await checkForwarding(f.plan, f.mn.netns, 3, r, f.addressOf)
  })

  it('back across the border to maar2 (A): both old anchors accept (maar3 under "b accepts a"); each old address through its anchor, the B one across the border', async () => {
    const r = await f.attach(2)
    assert.equal(r.kind, 'handover')
    assert.equal(r.lookupSource, 'border')
    assert.deepEqual(r.peers.map(p => [p.address, p.status]).sort(), [[sid(1), 'ACCEPTED'], [sid(3), 'ACCEPTED']])
    assert.deepEqual(r.anchors.map(a => [a.anchor, a.native]).sort(), [[sid(1), false], [sid(2), true], [sid(3), false]])
    await checkForwarding(f.plan, f.mn.netns, 2, r, f.addressOf)
  })
})

describe('two DHT domains in network namespaces, policy drop: maar1 (A) -> maar3 (B)', function () {
  this.timeout(180_000)
  const f = federationOnTheKernel('drop')
  const { sid, ns, cn, cnNs } = f.plan

  it('maar1 refuses naming the agreement; the CN no longer reaches the A address, it reaches the B address natively', async () => {
    const first = await f.attach(1)
    assert.equal(first.kind, 'first-attach')
    const a1 = f.addressOf.get(first.localPrefix)!
    await reachable(cnNs(), a1)

    const r = await f.attach(3)
    assert.deepEqual(r.peers.map(p => [p.address, p.status]), [[sid(1), 'ADMINISTRATIVELY_PROHIBITED']])
    assert.match(r.peers[0]?.error ?? '', /agreement a-accepts-b: policy drop/, JSON.stringify(r.peers))
    assert.deepEqual(r.anchors.map(a => [a.prefix, a.anchor, a.native]), [[r.localPrefix, sid(3), true]], 'only B\'s prefix')
    const b3 = f.addressOf.get(r.localPrefix)!
    const seen = await tunnelCapture(ns(3), async () => {
      await reachable(cnNs(), b3)
      await reachable(f.mn.netns, cn(), b3)
      for (let i = 0; i < 3; i++) assert.equal(await pingOnce(cnNs(), a1), false, `the A address ${a1} is not reachable any more`)
    })
    assert.equal(seen.trim(), '', `no inter-domain tunnel:\n${seen}`)
  })
})
