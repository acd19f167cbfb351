/**
 * A serving MAAR opens its PMIP streams to the P-MAARs the lookup named while it commits the
 * intent, not after it (doc/ARCHITECTURE.md "A handover"): on real MAARs (libp2p on loopback,
 * LevelDB), every P-MAAR of a handover is connected to before its PBU is sent, and connecting
 * alone opens the stream (the anchor meets the serving MAAR, hellos and certificates checked,
 * before any PBU). Connecting to a MAAR that is down fails nothing: the PBU reports it.
 */
import assert from 'node:assert/strict'
import { decorateTransport } from '../src/index.js'
import type { LocalMaar } from '../src/index.js'
import { useMesh } from './mesh-fixture.js'

/** What each MAAR's transport was asked, in order: `connect <peer>` and `exchange <peer>`. */
const calls = new Map<string, string[]>()
const callsOf = (name: string): string[] => calls.get(name) ?? calls.set(name, []).get(name) ?? []

describe('maar: streams to the P-MAARs open while the intent is committed', function () {
  const fx = useMesh('streams-ahead', {
    count: 4,
    observe: name => ({
      shapeTransport: inner => decorateTransport(inner, {
        connect: peer => { callsOf(name).push(`connect ${peer.peerId}`); inner.connect(peer) },
        exchange: async (peer, pbu, opts) => { callsOf(name).push(`exchange ${peer.peerId}`); return await inner.exchange(peer, pbu, opts) }
      })
    })
  }, '02:00:00:00:00:1a')
  const id = (m: LocalMaar): string => m.maar.peerId

  it('every P-MAAR of a handover is connected to before its PBU leaves, and the handover completes', async () => {
    const mnId = 'ahead@dmm.example'
    await fx.move(mnId, 1)
    await fx.move(mnId, 2)
    callsOf('maar3').length = 0
    const report = await fx.move(mnId, 3)
    assert.equal(report.complete, true)
    assert.equal(report.kind, 'handover')
    const seen = callsOf('maar3')
    for (const anchor of [fx.m(1), fx.m(2)]) {
      const connected = seen.indexOf(`connect ${id(anchor)}`)
      const exchanged = seen.indexOf(`exchange ${id(anchor)}`)
      assert.ok(connected >= 0, `maar3 connected to ${anchor.name} (calls: ${seen.join(', ')})`)
      assert.ok(exchanged > connected, `maar3 connected to ${anchor.name} before its PBU (calls: ${seen.join(', ')})`)
    }
    assert.equal(report.anchors.filter(a => !a.native && a.pending !== true).length, 2, 'both previous anchors tunnel to maar3')
  })

  it('connecting alone opens the stream: the anchor meets the serving MAAR before any PBU', async () => {
    const serving = fx.m(4); const anchor = fx.m(1)
    assert.equal(anchor.maar.transport.knownPeer(id(serving)), undefined, 'maar4 never sent maar1 a PBU')
    serving.maar.transport.connect({ peerId: id(anchor), multiaddrs: anchor.maar.multiaddrs() })
    const met = await waitFor(() => anchor.maar.transport.knownPeer(id(serving)))
    assert.equal(met.address, serving.address)
    assert.equal((await waitFor(() => serving.maar.transport.knownPeer(id(anchor)))).address, anchor.address)
    assert.equal(callsOf('maar4').filter(c => c.startsWith('exchange')).length, 0)
  })

  it('a P-MAAR that is down: connecting to it fails nothing, its PBU reports it and it stays pending', async () => {
    const mnId = 'ahead-down@dmm.example'
    await fx.move(mnId, 2)
    const downId = id(fx.m(2))
    await fx.mesh.stopMaar(1)
    const report = await fx.move(mnId, 4)
    assert.equal(report.complete, false)
    assert.ok(callsOf('maar4').includes(`connect ${downId}`), 'maar4 tried to open the stream ahead')
    assert.equal(report.peers.find(p => p.peerId === downId)?.status, 'UNREACHABLE', `the down anchor is reported (peers: ${JSON.stringify(report.peers)})`)
    assert.ok(report.anchors.some(a => a.pending === true), 'its prefix stays pending')
  })
})

/** Until `probe` answers (the stream opens in the background); bounded so a failure is reported, not a hang. */
async function waitFor<T> (probe: () => T | undefined, limitMs = 10_000): Promise<T> {
  const until = Date.now() + limitMs
  while (Date.now() < until) {
    const v = probe()
    if (v !== undefined) return v
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error(`not met within ${limitMs} ms`)
}
