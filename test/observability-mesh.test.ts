/**
 * Metrics and captures of a real handover on an in-process mesh (real libp2p, real LevelDB): the
 * Prometheus figures each MAAR exposes after one first attach and one handover, and the PBU/PBA
 * of that handover in each MAAR's pcap, read back by tshark (skipped, with the reason, where
 * tshark does not run; CI installs it).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrometheusMetrics } from '@dmm-mesh/cli'
import { PcapFileCapture, createLocalMesh } from '@dmm-mesh/maar'
import { checksumValid } from '@dmm-mesh/wire'
import type { LocalMesh } from '@dmm-mesh/maar'

/** The value of one sample of the exposition text, e.g. `dmm_handovers_total{kind="handover",outcome="complete"}`; undefined when absent. */
function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** Sum of every sample of a metric whose labels include `labels` (e.g. `source=`). */
function total (text: string, name: string, labels = ''): number {
  return text.split('\n')
    .filter(l => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter(l => l.includes(labels))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
}

/** The Mobility Header of each packet of a LINKTYPE_IPV6 pcap (after the 40-octet IPv6 header). */
function mobilityHeaders (file: string): Uint8Array[] {
  const bytes = readFileSync(file)
  const out: Uint8Array[] = []
  for (let at = 24; at < bytes.length;) {
    const length = bytes.readUInt32LE(at + 8)
    out.push(bytes.subarray(at + 16 + 40, at + 16 + length))
    at += 16 + length
  }
  return out
}

const MN = 'mn-observed@dmm.example'

describe('observability of a handover (in-process mesh)', function () {
  let dir = ''
  let mesh: LocalMesh | undefined
  const metrics = new Map<string, PrometheusMetrics>()
  const captures = new Map<string, PcapFileCapture>()

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-observability-'))
    mesh = await createLocalMesh({
      count: 3,
      dataDir: dir,
      // Fast retransmission, so the partial handover below is retried within the test.
      maarInit: { retransmission: { initialMs: 50, maxMs: 200 } },
      observe: name => {
        const m = new PrometheusMetrics()
        const c = new PcapFileCapture(join(dir, `${name}.pcap`))
        metrics.set(name, m)
        captures.set(name, c)
        return { metrics: m, capture: c }
      }
    })
  })
  after(async () => {
    await mesh?.stop()
    for (const c of captures.values()) c.close()
    await rm(dir, { recursive: true, force: true })
  })

  const maar = (i: number) => {
    const found = mesh?.maars.find(m => m.name === `maar${i}`)
    assert.ok(found, `maar${i} runs`)
    return found
  }
  const move = async (i: number) => {
    mesh?.network.attachMn(MN, maar(i).address)
    const report = await maar(i).maar.attach({ mnId: MN, accessLink: 'access0', linkLayerId: '02:00:00:00:0b:01' })
    await maar(i).maar.settled()
    return report
  }
  const scrape = async (i: number): Promise<string> => await metrics.get(`maar${i}`)!.text()

  it('counts a first attach and a handover: kinds, outcomes, PBAs, latencies, bindings, pool', async () => {
    assert.equal((await move(1)).kind, 'first-attach')
    assert.equal((await move(2)).kind, 'handover')

    const m1 = await scrape(1)
    assert.equal(sample(m1, 'dmm_handovers_total{kind="first-attach",outcome="complete"}'), 1, m1)
    assert.equal(total(m1, 'dmm_handovers_total'), 1, 'maar1 ran one attach')
    assert.equal(sample(m1, 'dmm_lookup_duration_seconds_count{source="none"}'), 1, 'the first attach found no session')
    assert.equal(sample(m1, 'dmm_pbas_total{direction="sent",status="ACCEPTED"}'), 1, 'maar1 anchored for maar2 and said so')
    assert.equal(total(m1, 'dmm_pbas_total', 'direction="received"'), 0)
    assert.equal(sample(m1, 'dmm_pbu_pba_duration_seconds_count'), 0)
    assert.equal(sample(m1, 'dmm_bindings{role="serving"}'), 0)
    assert.equal(sample(m1, 'dmm_bindings{role="anchoring"}'), 1)
    // 2001:db8:1::/48 holds 65536 /64s; one is delegated.
    assert.equal(sample(m1, 'dmm_pool_prefixes_free'), 65535)
    // Reservation, registration, then the PBU's anchoring: three synced batches, each programmed after but the reservation.
    assert.equal(sample(m1, 'dmm_cache_commit_duration_seconds_count'), 3)
    assert.equal(sample(m1, 'dmm_dataplane_apply_duration_seconds_count'), 3)

    const m2 = await scrape(2)
    assert.equal(sample(m2, 'dmm_handovers_total{kind="handover",outcome="complete"}'), 1, m2)
    assert.equal(sample(m2, 'dmm_handover_duration_seconds_count{kind="handover"}'), 1)
    assert.equal(total(m2, 'dmm_lookup_duration_seconds_count'), 1, 'one lookup')
    assert.equal(total(m2, 'dmm_lookup_duration_seconds_count', 'source="none"'), 0, 'and it found the session')
    assert.equal(sample(m2, 'dmm_pbas_total{direction="received",status="ACCEPTED"}'), 1)
    assert.equal(sample(m2, 'dmm_pbu_pba_duration_seconds_count'), 1, 'one PBU/PBA round trip')
    assert.equal(sample(m2, 'dmm_pbu_retransmissions_total'), 0)
    assert.equal(sample(m2, 'dmm_bindings{role="serving"}'), 1)
    assert.equal(sample(m2, 'dmm_bindings{role="anchoring"}'), 0)
    assert.equal(sample(m2, 'dmm_pool_prefixes_free'), 65535)
    assert.equal(sample(m2, 'dmm_dht_peers'), 2, 'the two other MAARs')
    assert.ok((sample(m2, 'dmm_dht_routing_table_peers') ?? -1) >= 1, m2)

    const m3 = await scrape(3)
    assert.equal(total(m3, 'dmm_handovers_total'), 0, 'maar3 saw nothing of it')
    assert.equal(total(m3, 'dmm_pbas_total'), 0)
  })

  it('captures the handover\'s PBU and PBA, between the tunnel addresses, in both MAARs\' pcaps, as tshark reads them', function () {
    const probe = spawnSync('tshark', ['-v'], { encoding: 'utf8' })
    if (probe.error !== undefined || probe.status !== 0) {
      console.log(`      (skipped: tshark not runnable here: ${probe.error?.message ?? `exit ${String(probe.status)}`}; apt-get install tshark)`)
      this.skip()
    }
    const read = (name: string): string[][] => {
      const file = join(dir, `${name}.pcap`)
      const run = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=,',
        '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ipv6.nxt', '-e', 'mip6.mhtype', '-e', 'mip6.mnid.identifier', '-e', 'mip6.ba.status'], { encoding: 'utf8' })
      assert.equal(run.status, 0, run.stderr)
      const rows = run.stdout.trim().split('\n').filter(l => l !== '').map(l => l.split(','))
      // tshark 4.0 does not check Mobility Header checksums: each is checked here over the
      // addresses tshark read (RFC 6275 §6.1.1).
      mobilityHeaders(file).forEach((mh, i) => {
        const [source = '', destination = ''] = rows[i] ?? []
        assert.ok(checksumValid({ source, destination }, mh), `${name} packet ${i + 1}: checksum verifies for ${source} -> ${destination}`)
      })
      return rows
    }
    const [a1, a2] = [maar(1).address, maar(2).address]
    // Binding Update (5) from the new serving MAAR to the anchor, Binding Acknowledgement (6) back, status 0 (accepted).
    const expected = [[a2, a1, '135', '5', MN, ''], [a1, a2, '135', '6', MN, '0']]
    assert.deepEqual(read('maar2'), expected, 'maar2 sent the PBU and received the PBA')
    assert.deepEqual(read('maar1'), expected, 'maar1 received the PBU and answered the PBA')
    assert.deepEqual(read('maar3'), [], 'maar3 took no part')
  })

  it('counts a partial handover and the retransmissions to the anchor that did not answer', async () => {
    await mesh!.stopMaar(1)
    const report = await move(3)
    assert.equal(report.complete, false, 'maar1 is down: a partial handover')
    const m3 = await scrape(3)
    assert.equal(sample(m3, 'dmm_handovers_total{kind="handover",outcome="partial"}'), 1, m3)
    // Waiting for the retransmitter, not timing it.
    for (let tries = 0; (sample(await scrape(3), 'dmm_pbu_retransmissions_total') ?? 0) < 1; tries++) {
      assert.ok(tries < 200, 'maar3 retransmits to maar1')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  })
})
