/**
 * Interop: Wireshark's dissector (tshark 4.0) must read what we encode. RFC 8885 options 65–70
 * are unknown to it, so they go first: every standard option after them must still decode.
 * Skips (with the reason) where tshark is not installed; CI installs it.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeMobilityMessage, macToBytes, writePcap } from '../src/index.js'
import type { MobilityMessage, MobilityOption } from '../src/index.js'
import { MAAR1, MAAR2, pba, pbu } from './fixtures.js'
import { tsharkMissing, wiresharkTime } from './tshark-run.js'

type Json = Record<string, unknown>

/** tshark's --no-duplicate-keys turns repeated fields into arrays; this flattens both forms. */
function all<T> (v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}

const RFC8885_FIRST: MobilityOption[] = [
  { type: 'anchored-prefix', prefix: '2001:db8:1::', prefixLength: 64 },
  { type: 'local-prefix', prefix: '2001:db8:2::', prefixLength: 64 },
  { type: 'previous-maar', address: MAAR1, prefix: '2001:db8:1::', prefixLength: 64 },
  { type: 'serving-maar', address: MAAR2 },
  { type: 'dlif-link-local-address', address: 'fe80::2' },
  { type: 'dlif-link-layer-address', linkLayerAddress: macToBytes('02:00:00:00:00:02') }
]

const TS_MS = 1700000000500

const FRAMES: Array<{ message: MobilityMessage, source: string, destination: string }> = [
  {
    source: MAAR2,
    destination: MAAR1,
    message: pbu([
      ...RFC8885_FIRST,
      { type: 'mn-identifier', subtype: 1, identifier: 'mn1@dmm.example' },
      { type: 'home-network-prefix', prefix: '2001:db8:3::', prefixLength: 64 },
      { type: 'handoff-indicator', value: 3 },
      { type: 'access-technology-type', value: 4 },
      { type: 'mn-link-layer-id', linkLayerId: macToBytes('02:00:00:00:00:01') },
      { type: 'link-local-address', address: 'fe80::1' },
      { type: 'timestamp', seconds: Math.floor(TS_MS / 1000), fraction: 0x8000 }
    ], { sequence: 7, lifetime: 3600 })
  },
  {
    source: MAAR1,
    destination: MAAR2,
    message: pba([
      { type: 'anchored-prefix', prefix: '2001:db8:1::', prefixLength: 64 },
      { type: 'mn-identifier', subtype: 1, identifier: 'mn1@dmm.example' },
      { type: 'timestamp', seconds: Math.floor(TS_MS / 1000), fraction: 0x8000 }
    ], { sequence: 7, lifetime: 3600 })
  },
  {
    source: MAAR1,
    destination: MAAR2,
    message: pba([{ type: 'mn-identifier', subtype: 1, identifier: 'other@dmm.example' }], { status: 153, sequence: 8, lifetime: 0 })
  },
  {
    source: MAAR2,
    destination: MAAR1,
    message: pbu([
      { type: 'serving-maar', address: MAAR2 },
      { type: 'mn-identifier', subtype: 1, identifier: 'mn1@dmm.example' },
      { type: 'timestamp', seconds: Math.floor(TS_MS / 1000) + 60, fraction: 0 }
    ], { sequence: 65535, lifetime: 0 })
  }
]

describe('wire: tshark reads our frames', function () {
  this.timeout(60000)
  let packets: Json[] = []
  let dir = ''

  before(function () {
    const missing = tsharkMissing()
    if (missing !== undefined) {
      // eslint-disable-next-line no-console
      console.log(`      (skipped: ${missing})`)
      this.skip()
    }
    dir = mkdtempSync(join(tmpdir(), 'wire-tshark-'))
    const file = join(dir, 'pbu-pba.pcap')
    writeFileSync(file, writePcap(FRAMES.map((f, i) => ({ ...f, timeMs: TS_MS + i }))))
    const run = spawnSync('tshark', ['-r', file, '-T', 'json', '--no-duplicate-keys'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    assert.equal(run.status, 0, run.stderr)
    packets = JSON.parse(run.stdout) as Json[]
  })

  after(() => { if (dir !== '') rmSync(dir, { recursive: true, force: true }) })

  function layers (i: number): { ipv6: Json, mh: Json, options: Json } {
    const ipv6 = ((packets[i]?._source as Json).layers as Json).ipv6 as Json
    const mh = ipv6.mipv6 as Json
    assert.ok(mh !== undefined, `frame ${i}: no Mobile IPv6 layer`)
    return { ipv6, mh, options: (mh['Mobility Options'] ?? {}) as Json }
  }

  it('reads one IPv6 + Mobility Header packet per frame, with the right lengths', () => {
    assert.equal(packets.length, FRAMES.length)
    FRAMES.forEach((f, i) => {
      const { ipv6, mh } = layers(i)
      const bytes = encodeMobilityMessage(f.message)
      assert.equal(ipv6['ipv6.nxt'], '135')
      assert.equal(ipv6['ipv6.plen'], String(bytes.length))
      assert.equal(ipv6['ipv6.src'], f.source)
      assert.equal(mh['mip6.proto'], '59')
      assert.equal(mh['mip6.hlen'], String(bytes.length / 8 - 1))
      assert.equal(mh['mip6.mhtype'], f.message.kind === 'binding-update' ? '5' : '6')
      assert.ok(!JSON.stringify(packets[i]).includes('_ws.malformed'), `frame ${i} malformed for tshark`)
    })
  })

  it('PBU fixed fields: P and A flags, sequence, lifetime in 4 s units', () => {
    const bu = layers(0).mh['Binding Update'] as Json
    assert.equal(bu['mip6.bu.p_flag'], '1')
    assert.equal(bu['mip6.bu.a_flag'], '1')
    assert.equal(bu['mip6.bu.h_flag'], '0')
    assert.equal(bu['mip6.bu.seqnr'], '7')
    assert.equal(bu['mip6.bu.lifetime'], '900')
    const dereg = layers(3).mh['Binding Update'] as Json
    assert.equal(dereg['mip6.bu.seqnr'], '65535')
    assert.equal(dereg['mip6.bu.lifetime'], '0')
  })

  it('PBA fixed fields: status, P flag, sequence, lifetime', () => {
    const ok = layers(1).mh['Binding Acknowledgement'] as Json
    assert.equal(ok['mip6.ba.status'], '0')
    assert.equal(ok['mip6.ba.p_flag'], '1')
    assert.equal(ok['mip6.ba.seqnr'], '7')
    assert.equal(ok['mip6.ba.lifetime'], '900')
    const refused = layers(2).mh['Binding Acknowledgement'] as Json
    assert.equal(refused['mip6.ba.status'], '153')
    assert.equal(refused['mip6.ba.seqnr'], '8')
    assert.equal(refused['mip6.ba.lifetime'], '0')
  })

  it('steps over RFC 8885 options 65–70 (unknown to it), every one', () => {
    const { options } = layers(0)
    const seen = Object.keys(options).filter(k => k.startsWith('Unknown (')).flatMap(k => all(options[k] as Json | Json[]).map(o => Number(o['mip6.mobility_opt'])))
    assert.deepEqual(seen.sort((a, b) => a - b), [65, 66, 67, 68, 69, 70])
  })

  it('standard options after them decode as meant', () => {
    const { options } = layers(0)
    const mnid = options['mip6.options.mnid_tree'] as Json
    assert.equal(mnid['mip6.mnid.subtype'], '1')
    assert.equal(mnid['mip6.mnid.identifier'], 'mn1@dmm.example')
    const hnp = options['mip6.options.hnp_tree'] as Json
    assert.equal(hnp['mip6.nemo.mnp.pfl'], '64')
    assert.equal(hnp['mip6.nemo.mnp.mnp'], '2001:db8:3::')
    assert.equal((options['mip6.options.hi_tree'] as Json)['mip6.hi'], '3')
    assert.equal((options['mip6.options.att_tree'] as Json)['mip6.att'], '4')
    assert.equal((options['mip6.options.mnlli_tree'] as Json)['mip6.mnlli.lli'], '02:00:00:00:00:01')
    assert.equal((options['mip6.options.lla_tree'] as Json)['mip6.lila_lla'], 'fe80::1')
    assert.equal(wiresharkTime((options['mip6.options.ts_tree'] as Json)['mip6.timestamp_tmp'] as string), TS_MS)
  })

  it('PBA options after an Anchored Prefix decode too', () => {
    const { options } = layers(1)
    assert.equal((options['mip6.options.mnid_tree'] as Json)['mip6.mnid.identifier'], 'mn1@dmm.example')
    assert.equal(wiresharkTime((options['mip6.options.ts_tree'] as Json)['mip6.timestamp_tmp'] as string), TS_MS)
    assert.equal((layers(3).options['mip6.options.mnid_tree'] as Json)['mip6.mnid.identifier'], 'mn1@dmm.example')
    assert.equal(wiresharkTime((layers(3).options['mip6.options.ts_tree'] as Json)['mip6.timestamp_tmp'] as string), (Math.floor(TS_MS / 1000) + 60) * 1000)
  })
})
