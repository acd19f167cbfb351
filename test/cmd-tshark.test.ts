/**
 * Issue 10: the messages of a handover in relay mode (draft-bernardos-dmm-pmip §3.2, RFC 8885 §3)
 * on the wire, as Wireshark reads them. A CMD and two MAARs in one process (real libp2p, real
 * LevelDB), each writing its PBU/PBA to a pcap file (PcapFileCapture, the writer behind the
 * `capture:` config); tshark reads the CMD's file back: the serving MAAR's PBU to the CMD, the
 * CMD's relayed PBU to the P-MAAR, the P-MAAR's PBA to the CMD and the CMD's PBA to the serving
 * MAAR — addresses, MH type, flags, and the options tshark decodes (MN-ID NAI, Handoff Indicator,
 * Timestamp, status); the RFC 8885 options 65–70 it does not know are stepped over. tshark 4.0
 * does not verify Mobility Header checksums: pcap-frames.ts does, over the addresses tshark read.
 * Skipped, with the reason, where tshark does not run (as packages/wire/test/tshark.test.ts).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TrustStore, generateKey } from '@dmm-mesh/discovery'
import { LOCAL_CMD_ADDRESS, startLocalCmd } from '@dmm-mesh/cmd'
import type { LocalCmd } from '@dmm-mesh/cmd'
import { PcapFileCapture, createLocalMesh, readPbu, signallingFor } from '@dmm-mesh/maar'
import type { HandoverReport, LocalMesh } from '@dmm-mesh/maar'
import type { BindingUpdate } from '@dmm-mesh/wire'
import { readCapture, tsharkFields, tsharkMissing, wiresharkTime } from './pcap-frames.js'

const MN = 'mn-relay@dmm.example'
const DOMAIN = 'dmm.example'
/** The fields read per packet, in this order. */
const FIELDS = ['ipv6.src', 'ipv6.dst', 'ipv6.nxt', 'mip6.mhtype', 'mip6.bu.p_flag', 'mip6.bu.a_flag', 'mip6.bu.seqnr', 'mip6.ba.status',
  'mip6.mnid.subtype', 'mip6.mnid.identifier', 'mip6.hi', 'mip6.timestamp_tmp', 'mip6.mobility_opt', '_ws.malformed'] as const
type Row = Record<typeof FIELDS[number], string>


describe('a relay-mode handover captured and read back by tshark (CMD + 2 MAARs, one process)', function () {
  this.timeout(60_000)
  let dir = ''
  let cmd: LocalCmd | undefined
  let mesh: LocalMesh | undefined
  const captures: PcapFileCapture[] = []
  const reports: HandoverReport[] = []
  const capture = (name: string): PcapFileCapture => {
    const c = new PcapFileCapture(join(dir, `${name}.pcap`))
    captures.push(c)
    return c
  }

  before(async function () {
    const missing = tsharkMissing()
    if (missing !== undefined) { console.log(`      (skipped: ${missing})`); this.skip() }
    dir = await mkdtemp(join(tmpdir(), 'dmm-cmd-tshark-'))
    const operatorKey = await generateKey()
    const trust = TrustStore.fromOperatorKeys([{ domain: DOMAIN, publicKey: operatorKey.publicKey }])
    cmd = await startLocalCmd({ operatorKey, trust, domain: DOMAIN, mode: 'relay', dataDir: join(dir, 'cmd'), capture: capture('cmd') })
    mesh = await createLocalMesh({
      count: 2, dataDir: join(dir, 'maars'), operatorKey, domain: DOMAIN, signalling: signallingFor({ mode: 'cmd', cmd: cmd.address }),
      observe: name => ({ capture: capture(name) })
    })
    for (const i of [1, 2]) {
      const m = mesh.maars[i - 1]!
      mesh.network.attachMn(MN, m.address)
      reports.push(await m.maar.attach({ mnId: MN, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' }))
      await m.maar.settled()
    }
    await cmd.running.cmd.settled()
    for (const c of captures) c.close()
  })

  after(async () => {
    await mesh?.stop()
    await cmd?.stop()
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  const tshark = (name: string): Row[] => tsharkFields(join(dir, `${name}.pcap`), FIELDS)

  const a = (i: number): string => mesh!.maars[i - 1]!.address

  it('the CMD\'s capture: maar2\'s PBU to the CMD, relayed to maar1, maar1\'s PBA to the CMD, the CMD\'s PBA to maar2', () => {
    assert.equal(reports[1]?.kind, 'handover')
    const rows = tshark('cmd')
    // First attach (draft §3.1): PBU maar1 -> CMD, plain PBA back; then the relayed handover (§3.2).
    const flow = rows.map(r => `${r['mip6.mhtype']} ${r['ipv6.src']} > ${r['ipv6.dst']}`)
    assert.deepEqual(flow.slice(0, 2), [`5 ${a(1)} > ${LOCAL_CMD_ADDRESS}`, `6 ${LOCAL_CMD_ADDRESS} > ${a(1)}`])
    // In file order, which is causal order at the CMD: it answers maar2 only once maar1's PBA is in
    // (a proxy-mode CMD would answer first, draft §3.4).
    assert.deepEqual(flow.slice(2), [
      `5 ${a(2)} > ${LOCAL_CMD_ADDRESS}`, `5 ${LOCAL_CMD_ADDRESS} > ${a(1)}`, `6 ${a(1)} > ${LOCAL_CMD_ADDRESS}`, `6 ${LOCAL_CMD_ADDRESS} > ${a(2)}`
    ])
    for (const r of rows) {
      assert.equal(r['ipv6.nxt'], '135', 'a Mobility Header (RFC 6275 §6.1)')
      assert.equal(r['_ws.malformed'], '', `${r['ipv6.src']} > ${r['ipv6.dst']} malformed for tshark`)
      assert.equal(r['mip6.mnid.subtype'], '1', 'MN-ID option, NAI subtype (RFC 4283)')
      assert.equal(r['mip6.mnid.identifier'], MN)
      assert.notEqual(r['mip6.timestamp_tmp'], '', 'Timestamp option (RFC 5213 §8.8)')
    }
  })

  it('PBUs: P and A flags, Handoff Indicator 3, the RFC 8885 options; the relayed one carries maar2 as Serving MAAR', () => {
    const rows = tshark('cmd')
    const frames = readCapture(join(dir, 'cmd.pcap'))
    const pbus = rows.map((r, i) => ({ r, f: frames[i]! })).filter(x => x.r['mip6.mhtype'] === '5')
    assert.equal(pbus.length, 3)
    for (const { r, f } of pbus) {
      assert.equal(r['mip6.bu.p_flag'], '1', 'proxy registration (RFC 5213 §8.1)')
      assert.equal(r['mip6.bu.a_flag'], '1')
      assert.equal(r['mip6.hi'], '3', 'handoff between MAGs on the same interface (RFC 5213 §8.4)')
      const pbu = readPbu(f.message as BindingUpdate)
      assert.equal(r['mip6.bu.seqnr'], String(pbu.sequence))
      assert.equal(wiresharkTime(r['mip6.timestamp_tmp']), pbu.timestampMs, 'tshark reads the timestamp we encoded')
      // Serving MAAR (RFC 8885 §4.6, type 68): tshark lists its type, unknown to it, and steps over it.
      assert.ok(r['mip6.mobility_opt'].split('|').includes('68'), r['mip6.mobility_opt'])
    }
    const relayed = pbus.find(x => x.r['ipv6.src'] === LOCAL_CMD_ADDRESS)!
    assert.equal(relayed.r['ipv6.dst'], a(1))
    assert.equal(readPbu(relayed.f.message as BindingUpdate).servingAddress, a(2), 'the CMD relays with the Serving MAAR option naming maar2 (draft §3.2)')
    assert.deepEqual(readPbu(relayed.f.message as BindingUpdate).anchoredPrefixes, [reports[0]!.localPrefix], 'and the prefix maar1 anchors (Anchored Prefix)')
    assert.ok(relayed.r['mip6.mobility_opt'].split('|').includes('65'), relayed.r['mip6.mobility_opt'])
    // maar2's handover PBU names the prefix it delegated (Local Prefix, type 66).
    const handover = pbus.find(x => x.r['ipv6.src'] === a(2))!
    assert.ok(handover.r['mip6.mobility_opt'].split('|').includes('66'), handover.r['mip6.mobility_opt'])
  })

  it('PBAs: status 0 (accepted); the CMD\'s answer to maar2 carries a Previous MAAR option (type 67) for maar1', () => {
    const pbas = tshark('cmd').filter(r => r['mip6.mhtype'] === '6')
    assert.equal(pbas.length, 3)
    for (const r of pbas) assert.equal(r['mip6.ba.status'], '0', `${r['ipv6.src']} > ${r['ipv6.dst']}`)
    const answer = pbas.find(r => r['ipv6.src'] === LOCAL_CMD_ADDRESS && r['ipv6.dst'] === a(2))!
    assert.ok(answer['mip6.mobility_opt'].split('|').includes('67'), answer['mip6.mobility_opt'])
    const fromAnchor = pbas.find(r => r['ipv6.src'] === a(1))!
    assert.ok(fromAnchor['mip6.mobility_opt'].split('|').includes('65'), `maar1 anchors the first prefix (Anchored Prefix, type 65): ${fromAnchor['mip6.mobility_opt']}`)
  })

  it('every checksum verifies over the addresses tshark read, in every peer\'s capture; maar1 and maar2 saw only the CMD', () => {
    for (const name of ['cmd', 'maar1', 'maar2']) {
      const rows = tshark(name)
      const frames = readCapture(join(dir, `${name}.pcap`)) // throws BAD_CHECKSUM on a wrong one
      assert.deepEqual(frames.map(f => [f.source, f.destination]), rows.map(r => [r['ipv6.src'], r['ipv6.dst']]), name)
      if (name !== 'cmd') {
        for (const r of rows) assert.ok([r['ipv6.src'], r['ipv6.dst']].includes(LOCAL_CMD_ADDRESS), `${name}: ${r['ipv6.src']} > ${r['ipv6.dst']} goes through the CMD`)
      }
    }
    assert.equal(tshark('maar2').length, 2, 'maar2: its PBU to the CMD and the CMD\'s PBA')
    assert.equal(tshark('maar1').length, 4, 'maar1: its first attach with the CMD, then the relayed PBU and its PBA')
  })
})
