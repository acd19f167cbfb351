/**
 * Issue 10: the network-namespace end to end of test/netns-e2e.test.ts with a CMD in relay mode
 * (draft-bernardos-dmm-pmip §3.2, RFC 8885 §3): a `dmm cmd` (role cmd certificate) and three
 * `dmm maar` processes with `discovery: { mode: cmd }` and the Linux data plane (seg6 tunnels,
 * radvd, SLAAC), all run by scenarios/netns/e2e.sh with DMM_E2E_DISCOVERY=relay. The MN moves
 * maar1 -> maar2 -> maar3 -> maar1; at each step the serving MAAR signals only the CMD (its own
 * capture), the CMD relays the PBU to every P-MAAR and answers with their PBAs (the CMD's capture),
 * the CMD's session names the serving MAAR, and the CN reaches every address of the MN through the
 * prefix's anchor both ways (tcpdump on the serving MAAR's backbone). Last, tshark reads the
 * `dmm cmd` process's own capture (its `capture:` config) back.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readPba, readPbu } from '@dmm-mesh/maar'
import type { BindingAck, BindingUpdate } from '@dmm-mesh/wire'
import { DMM_BIN as BIN, checkForwarding, e2e, planAccess } from './netns-e2e-script.js'
import type { AttachReport } from './netns-e2e-script.js'
import { netnsSupport, slaac } from './netns-topology.js'
import { flowOf, readCapture, tsharkFields, tsharkMissing } from './pcap-frames.js'
import type { CapturedFrame } from './pcap-frames.js'

interface CmdSession { mnId: string, serving: { address: string }, anchors: Array<{ ref: { address: string }, prefixes: string[] }> }

describe('dmm cmd (relay mode) and three dmm maar in network namespaces: an MN moves maar1 -> maar2 -> maar3 -> maar1', function () {
  this.timeout(120_000)
  const id = `c${randomBytes(4).toString('hex')}`
  let started = false
  let plan = new Map<string, string>()
  const access = planAccess(() => plan)
  const { get, sid, mnId } = access
  const topo = { mn: { netns: `dmm-${id}-mn`, ifname: 'eth0' } }
  /** The MN's SLAAC address in each prefix it was given. */
  const addressOf = new Map<string, string>()
  const visited = new Set<number>()
  const cmdAddr = (): string => get('CMD_ADDR')

  before(async function () {
    const support = await netnsSupport(['seg6', 'radvd', 'tcpdump'])
    if (!support.ok) { console.log(`      skipped: ${support.reason ?? ''}`); this.skip() }
    if (!existsSync(BIN)) throw new Error(`${BIN} missing: build first (npx tsc -b)`)
    started = true
    plan = (await e2e(['up', id, '3'], { DMM_E2E_DISCOVERY: 'relay' })).plan
    assert.equal(get('DISCOVERY'), 'relay')
  })

  after(async function () {
    if (started) await e2e(['down', id])
  })

  const sessions = async (): Promise<CmdSession[]> => JSON.parse((await e2e(['cmdapi', id, '/sessions'])).stdout) as CmdSession[]
  const pbuOf = (f: CapturedFrame): ReturnType<typeof readPbu> => readPbu(f.message as BindingUpdate)
  const pbaOf = (f: CapturedFrame): ReturnType<typeof readPba> => readPba(f.message as BindingAck)

  /** Attaches the MN at maar`to` and checks the signalling, the CMD's session and the forwarding. */
  async function step (to: number): Promise<AttachReport> {
    const previous = [...visited].filter(i => i !== to).sort()
    const cmdSeen = readCapture(get('CMD_CAPTURE')).length
    const servingSeen = readCapture(get(`MAAR${to}_CAPTURE`)).length
    const r = await e2e(['attach', id, String(to)])
    assert.ok(r.report !== undefined, r.stdout)
    visited.add(to)

    // The serving MAAR sent one PBU, to the CMD, and got the CMD's PBA: no PBU to another MAAR.
    const serving = readCapture(get(`MAAR${to}_CAPTURE`)).slice(servingSeen)
    assert.deepEqual(flowOf(serving), [`PBU ${sid(to)} > ${cmdAddr()}`, `PBA ${cmdAddr()} > ${sid(to)}`])
    const pbu = pbuOf(serving[0]!)
    assert.equal(pbu.mnId, mnId())
    assert.deepEqual(pbaOf(serving[1]!).referrals.map(p => p.address).sort(), previous.map(sid), 'the CMD\'s PBA names every P-MAAR (Previous MAAR options)')

    // Relay (draft §3.2): the CMD forwarded it to every P-MAAR, with the Serving MAAR option, and collected their PBAs.
    const atCmd = readCapture(get('CMD_CAPTURE')).slice(cmdSeen)
    const expected = [`PBU ${sid(to)} > ${cmdAddr()}`, `PBA ${cmdAddr()} > ${sid(to)}`,
      ...previous.flatMap(i => [`PBU ${cmdAddr()} > ${sid(i)}`, `PBA ${sid(i)} > ${cmdAddr()}`])]
    assert.deepEqual(flowOf(atCmd).sort(), expected.sort())
    for (const f of atCmd.filter(x => x.source === cmdAddr() && x.message.kind === 'binding-update')) {
      assert.equal(pbuOf(f).mnId, mnId())
      assert.equal(pbuOf(f).servingAddress, sid(to), `relayed PBU to ${f.destination} names the serving MAAR`)
    }
    for (const f of atCmd.filter(x => x.destination === cmdAddr() && x.message.kind === 'binding-ack')) assert.equal(pbaOf(f).status, 0, `PBA from ${f.source} accepted (RFC 5213 status 0)`)

    const session = (await sessions()).find(s => s.mnId === mnId())
    assert.equal(session?.serving.address, sid(to))
    assert.deepEqual(session?.anchors.map(a => a.ref.address).sort(), [...visited].sort().map(sid))

    // SLAAC in the new prefix; every old prefix's address kept.
    addressOf.set(r.report.localPrefix, addressOf.get(r.report.localPrefix) ?? await slaac(topo, r.report.localPrefix, true))
    assert.equal(await slaac(topo, r.report.localPrefix, true), addressOf.get(r.report.localPrefix))
    await checkForwarding(access, topo.mn.netns, to, r.report, addressOf)
    return r.report
  }

  it('first attach at maar1: PBU to the CMD, a plain PBA back; the CN reaches the MN natively', async () => {
    const r = await step(1)
    assert.equal(r.kind, 'first-attach')
    assert.deepEqual(r.anchors.map(a => [a.anchor, a.native]), [[sid(1), true]])
  })

  it('handover to maar2: the CMD relays the PBU to maar1; the first prefix is tunnelled from maar1', async () => {
    const r = await step(2)
    assert.equal(r.kind, 'handover')
    assert.deepEqual(r.peers.map(p => [p.address, p.status]), [[sid(1), 'ACCEPTED']])
  })

  it('handover to maar3: the CMD relays to maar1 and maar2; each old prefix through its own anchor', async () => {
    const r = await step(3)
    assert.equal(r.kind, 'handover')
    assert.deepEqual(r.anchors.filter(a => !a.native).map(a => a.anchor).sort(), [sid(1), sid(2)])
    assert.ok(r.complete)
  })

  it('back at maar1: the first prefix native again, the others anchored at maar2 and maar3', async () => {
    const r = await step(1)
    assert.equal(r.kind, 'return')
    assert.deepEqual(r.anchors.map(a => [a.anchor, a.native]).sort(), [[sid(1), true], [sid(2), false], [sid(3), false]])
  })

  it('the dmm cmd process\'s capture, as tshark reads it: every PBU and PBA of the run, MN-ID, Handoff Indicator, status', function () {
    const missing = tsharkMissing()
    if (missing !== undefined) { console.log(`      (skipped: ${missing})`); this.skip() }
    const rows = tsharkFields(get('CMD_CAPTURE'), ['ipv6.src', 'ipv6.dst', 'mip6.mhtype', 'mip6.mnid.identifier', 'mip6.hi', 'mip6.ba.status', '_ws.malformed'])
    const frames = readCapture(get('CMD_CAPTURE')) // every checksum verified over these addresses
    // First attach 2, then 2 + 2 per P-MAAR: maar2 (1), maar3 (2), maar1 again (2).
    assert.equal(rows.length, 2 + 4 + 6 + 6)
    assert.deepEqual(rows.map(r => `${r['mip6.mhtype'] === '5' ? 'PBU' : 'PBA'} ${r['ipv6.src']} > ${r['ipv6.dst']}`), flowOf(frames))
    for (const r of rows) {
      assert.equal(r['_ws.malformed'], '')
      assert.equal(r['mip6.mnid.identifier'], mnId())
      if (r['mip6.mhtype'] === '5') assert.equal(r['mip6.hi'], '3', 'RFC 5213 §8.4')
      else assert.equal(r['mip6.ba.status'], '0')
    }
  })
})
