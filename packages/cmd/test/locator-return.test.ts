/**
 * Locator mode (draft-bernardos-dmm-pmip §3.3) when an MN comes back before the MAAR it left has
 * been told: the CMD answers the new serving MAAR at once, so its attach is over while the PBU
 * relayed to the previous serving MAAR is still on its way. Here that forward is held back until
 * the MN has returned (A → B → A), as a loaded CMD or a long path holds it. The MAAR the MN comes
 * back to must register it again rather than take it as a refresh, and the stale forward must
 * not take the MN away from it (RFC 5213 §5.5: ordered by timestamp): after settling exactly one
 * MAAR serves the MN, no anchor is left pending, and the CN reaches every prefix through its
 * anchor (the in-memory data plane traced hop by hop).
 */
import assert from 'node:assert/strict'
import { parsePrefix, prefixContains } from '@dmm-mesh/wire'
import { decorateTransport } from '@dmm-mesh/maar'
import type { LocalMaar, SignallingTransport } from '@dmm-mesh/maar'
import { createCmdDomain, eventually } from './cmd-fixture.js'
import type { CmdDomain } from './cmd-fixture.js'

type BindingCacheEntry = Awaited<ReturnType<LocalMaar['maar']['bindings']>>[number]

/** The CMD's transport with its forwards to one peer held until released. */
class HeldForwards {
  private readonly held = new Set<string>()
  private readonly waiting: Array<() => void> = []

  hold (peerId: string): void { this.held.add(peerId) }

  release (): void {
    this.held.clear()
    for (const go of this.waiting.splice(0)) go()
  }

  shape = (inner: SignallingTransport): SignallingTransport => decorateTransport(inner, {
    exchange: async (peer, pbu, opts) => {
      if (this.held.has(peer.peerId)) await new Promise<void>(resolve => { this.waiting.push(resolve) })
      return await inner.exchange(peer, pbu, opts)
    }
  })
}

describe('CMD in locator mode: an MN back at a MAAR that was not yet told it had left', function () {
  this.timeout(120_000)
  const held = new HeldForwards()
  let d: CmdDomain
  before(async () => { d = await createCmdDomain({ mode: 'locator', count: 3, shapeCmdTransport: held.shape }) })
  after(async () => { held.release(); await d?.stop() })

  it('A → B → A: one serving MAAR, no anchor pending, the CN reaches every prefix', async () => {
    const mn = 'ruth@dmm.example'
    const a = await d.move(mn, 1)
    assert.equal(a.kind, 'first-attach')
    // maar1 hears of the move to maar2 only after the MN is back.
    held.hold(d.m(1).maar.peerId)
    const b = await d.move(mn, 2)
    assert.equal(b.kind, 'handover')
    const back = await d.move(mn, 1)
    assert.equal(back.kind, 'refresh', 'maar1 still held the MN as attached')
    assert.equal(d.cmd.cmd.session(mn)?.serving.address, d.m(1).address, 'maar1 registered the MN again at the CMD: it could not know that nobody took it meanwhile')
    held.release()
    await d.cmd.cmd.settled()

    const bindingAt = async (name: string): Promise<BindingCacheEntry | undefined> =>
      (await d.mesh.maars.find(m => m.name === name)?.maar.bindings())?.find(e => e.mnId === mn)
    const serving = async (): Promise<Array<{ name: string, entry: BindingCacheEntry }>> => {
      const held = await Promise.all(d.mesh.maars.map(async m => ({ name: m.name, entry: await bindingAt(m.name) })))
      return held.flatMap(x => x.entry?.attached === true ? [{ name: x.name, entry: x.entry }] : [])
    }
    // Settled: the serving MAAR knows every anchor's answer (the P-MAARs answer it directly, §3.3).
    await eventually('no pending anchor', async () => (await serving()).every(s => s.entry.remoteAnchors.every(r => r.pendingUntil === undefined)))
    await Promise.all(d.mesh.maars.map(async m => { await m.maar.settled() }))

    const servers = await serving()
    assert.deepEqual(servers.map(s => s.name), ['maar1'], 'exactly one MAAR serves the MN: the one it came back to')
    assert.equal(d.cmd.cmd.session(mn)?.serving.address, d.m(1).address, 'the CMD names maar1 as serving')
    const anchor2 = await bindingAt('maar2')
    assert.equal(anchor2?.attached, false)
    assert.equal(anchor2?.servingMaar?.address, d.m(1).address, 'maar2 anchors its prefix for maar1')
    assert.deepEqual(servers[0]?.entry.remoteAnchors.map(r => [r.prefix, r.address, r.pendingUntil]), [[b.localPrefix, d.m(2).address, undefined]])

    const anchors = new Map([[a.localPrefix, 'maar1'], [b.localPrefix, 'maar2']])
    const addresses = d.mesh.network.mnAddresses(mn)
    assert.equal(addresses.length, anchors.size, `one address per prefix: ${addresses.join(', ')}`)
    for (const address of addresses) {
      const anchor = [...anchors].find(([p]) => prefixContains(parsePrefix(p), address))?.[1]
      const down = d.mesh.network.traceFromCn(address)
      assert.ok(down.delivered, `CN -> ${address}: ${down.hops.join(' > ')} (${down.reason ?? ''})`)
      assert.equal(down.hops[1], anchor, `CN -> ${address} enters at its anchor: ${down.hops.join(' > ')}`)
    }
  })
})
