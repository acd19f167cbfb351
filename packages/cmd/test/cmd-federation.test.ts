/**
 * Inter-domain handover between a CMD domain and a DHT domain, in one process
 * (doc/ARCHITECTURE.md "CMD domains", draft-bernardos-dmm-pmip Appendix A.5): real libp2p nodes,
 * LevelDB per MAAR and per CMD, one operator key per domain, the memory data plane tracing every
 * address of the MN across the border at every step. Hostile: a foreign MAAR or CMD writing into
 * a CMD, a border lookup from a domain no agreement accepts.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BINDING_ACK_STATUS } from '@dmm-mesh/wire'
import { askGateway } from '@dmm-mesh/federation'
import { buildPbu, createLocalFederation, readPba } from '@dmm-mesh/maar'
import type { HandoverReport, LocalFederation, LocalFederationOptions, LocalMaar } from '@dmm-mesh/maar'
import { localCmdCentral } from '../src/index.js'
import type { CmdMode, LocalCmd } from '../src/index.js'

const TUNNEL = { prefixes: 'tunnel' } as const

interface Fed {
  fed: LocalFederation
  /** The CMD of domain `label` (default: the only one). */
  cmd: (label?: string) => LocalCmd
  move: (mnId: string, name: string) => Promise<HandoverReport>
  /** Each address of the MN with the MAAR anchoring it, asserted reachable CN → MN and MN → CN through it. */
  reachable: (mnId: string, anchors: string[]) => void
  maar: (name: string) => LocalMaar
  stop: () => Promise<void>
}

/** The domains `cmds` names run a CMD in the mode it gives (`cmdIn` alone: relay); the others run the DHT. */
async function federation (cmdIn: string | Record<string, CmdMode>, more: Partial<LocalFederationOptions> = {}): Promise<Fed> {
  const dir = await mkdtemp(join(tmpdir(), 'dmm-cmd-federation-'))
  const cmds = typeof cmdIn === 'string' ? { [cmdIn]: 'relay' as const } : cmdIn
  const running = new Map<string, LocalCmd>()
  const domains = (more.domains ?? [{ label: 'a', count: 2 }, { label: 'b', count: 2 }]).map(d => {
    const mode = cmds[d.label]
    return mode === undefined ? d : { ...d, central: localCmdCentral(mode, { started: c => { running.set(d.label, c) } }) }
  })
  const fed = await createLocalFederation({
    agreements: [{ issuer: 'a', subject: 'b', policy: TUNNEL }, { issuer: 'b', subject: 'a', policy: TUNNEL }],
    ...more, domains, dataDir: dir
  })
  const all = (): LocalMaar[] => fed.domains.flatMap(d => d.mesh.maars)
  return {
    fed,
    maar: fed.maar,
    cmd: (label = Object.keys(cmds)[0] ?? '') => { const cmd = running.get(label); assert.ok(cmd, `the CMD of ${label} runs`); return cmd },
    move: fed.move,
    reachable: (mnId, anchors) => {
      const reach = fed.network.mnAddressInfo(mnId).map(a => ({ ...a, anchor: all().find(m => m.address === a.anchor)?.name ?? a.anchor }))
      assert.deepEqual(reach.map(r => r.anchor).sort(), [...anchors].sort(), `anchors of the MN's addresses: ${JSON.stringify(reach)}`)
      for (const r of reach) {
        const down = fed.network.traceFromCn(r.address)
        const up = fed.network.traceFromMn(mnId, r.address)
        assert.ok(down.delivered && up.delivered, `${r.address} reachable: down ${down.hops.join(' > ')}, up ${up.hops.join(' > ')}`)
        assert.ok(down.hops.includes(r.anchor), `${r.address} goes through its anchor ${r.anchor}: ${down.hops.join(' > ')}`)
      }
    },
    stop: async () => {
      await fed.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

describe('federation: a CMD domain and a DHT domain (in one process)', function () {
  describe('A runs a CMD (relay), B the DHT', function () {
    let f: Fed
    before(async () => { f = await federation('a') })
    after(async () => { await f?.stop() })

    it('A(cmd) → B(dht) → A: B asks A\'s CMD as gateway, A\'s anchor tunnels to B; back in A the CMD reaches B\'s anchor through the referral', async () => {
      const mn = 'dave@cmd-federation.example'
      const first = await f.move(mn, 'a1')
      assert.equal(first.kind, 'first-attach')
      f.reachable(mn, ['a1'])
      assert.equal(f.cmd().running.cmd.session(mn)?.serving.address, f.maar('a1').address)

      const cross = await f.move(mn, 'b1')
      assert.equal(cross.kind, 'handover')
      assert.equal(cross.lookupSource, 'border')
      assert.deepEqual(cross.peers.map(p => p.status), ['ACCEPTED'])
      f.reachable(mn, ['a1', 'b1'])

      const back = await f.move(mn, 'a2')
      assert.equal(back.kind, 'handover')
      assert.ok(back.peers.every(p => p.status === 'ACCEPTED'), JSON.stringify(back.peers))
      f.reachable(mn, ['a1', 'b1', 'a2'])
      // The CMD's session now holds B's anchor too: the context came back across the border.
      const session = f.cmd().running.cmd.session(mn)
      assert.deepEqual(session?.anchors.map(a => a.ref.address).sort(), [f.maar('a1').address, f.maar('a2').address, f.maar('b1').address].sort())
    })

    it('A(cmd) a2 → B(dht) b1 → a2: the CMD, whose session still names a2 serving, finds b1 across the border and signals it; one serving MAAR', async () => {
      const mn = 'ivy@cmd-federation.example'
      await f.move(mn, 'a2')
      await f.move(mn, 'b1')
      f.reachable(mn, ['a2', 'b1'])
      assert.deepEqual(await f.fed.serving(mn), ['b1'])
      assert.equal(f.cmd().running.cmd.session(mn)?.serving.address, f.maar('a2').address, 'A\'s CMD was not told the MN left')
      const back = await f.move(mn, 'a2')
      assert.equal(back.kind, 'return')
      assert.deepEqual(back.peers.map(p => [p.address, p.status]), [[f.maar('b1').address, 'ACCEPTED']])
      assert.deepEqual(await f.fed.serving(mn), ['a2'])
      f.reachable(mn, ['a2', 'b1'])
      assert.deepEqual(f.cmd().running.cmd.session(mn)?.anchors.map(a => a.ref.address).sort(), [f.maar('a2').address, f.maar('b1').address].sort())
    })

    it('a MAAR of B cannot register at A\'s CMD nor claim A\'s pools there: refused naming its domain', async () => {
      const b1 = f.maar('b1')
      const cmd = f.cmd().running.cmd
      const pbu = buildPbu({ mnId: 'mallory@b.example', sequence: 1, lifetime: 60, timestampMs: Date.now(), localPrefix: '2001:db8:101:1::/64', anchoredPrefixes: [], servingAddress: b1.address })
      const pba = await cmd.handlePbu(pbu, { peerId: b1.node.peerId.toString(), address: b1.address, multiaddrs: [], cert: b1.cert, certificate: b1.certificate })
      assert.equal(pba.status, BINDING_ACK_STATUS.ADMINISTRATIVELY_PROHIBITED)
      assert.match(readPba(pba).reason ?? '', /domain b\.example, not of this CMD's domain a\.example/)
      assert.equal(cmd.session('mallory@b.example'), undefined)
    })
  })

  describe('A runs the DHT, B a CMD (relay)', function () {
    let f: Fed
    before(async () => { f = await federation('b') })
    after(async () => { await f?.stop() })

    it('A(dht) → B(cmd) → A: B\'s CMD finds A\'s session across the border and relays the PBU to A\'s anchor; back in A, B\'s CMD is A\'s gateway', async () => {
      const mn = 'erin@cmd-federation.example'
      const first = await f.move(mn, 'a1')
      assert.equal(first.kind, 'first-attach')
      f.reachable(mn, ['a1'])

      const cross = await f.move(mn, 'b1')
      assert.equal(cross.kind, 'handover')
      f.reachable(mn, ['a1', 'b1'])
      const session = f.cmd().running.cmd.session(mn)
      assert.deepEqual(session?.anchors.map(a => a.ref.address).sort(), [f.maar('a1').address, f.maar('b1').address].sort())

      const inside = await f.move(mn, 'b2')
      assert.equal(inside.kind, 'handover')
      f.reachable(mn, ['a1', 'b1', 'b2'])

      const back = await f.move(mn, 'a2')
      assert.equal(back.kind, 'handover')
      assert.equal(back.lookupSource, 'border')
      assert.ok(back.peers.every(p => p.status === 'ACCEPTED'), JSON.stringify(back.peers))
      f.reachable(mn, ['a1', 'b1', 'b2', 'a2'])
    })
  })

  describe('A runs a CMD (relay), B the DHT, A\'s policy drop', function () {
    let f: Fed
    before(async () => {
      f = await federation('a', { agreements: [{ issuer: 'a', subject: 'b', policy: { prefixes: 'drop' } }, { issuer: 'b', subject: 'a', policy: TUNNEL }] })
    })
    after(async () => { await f?.stop() })

    it('A(cmd) → B: A\'s anchor refuses naming the agreement, the MN keeps only B\'s prefix, reachable natively', async () => {
      const mn = 'grace@cmd-federation.example'
      await f.move(mn, 'a1')
      f.reachable(mn, ['a1'])
      const cross = await f.move(mn, 'b1')
      assert.equal(cross.lookupSource, 'border')
      assert.deepEqual(cross.peers.map(p => p.status), ['ADMINISTRATIVELY_PROHIBITED'])
      assert.match(JSON.stringify(cross.peers), /agreement a-accepts-b: policy drop/)
      f.reachable(mn, ['b1'])
      // a1 let the MN go (it serves it no more, its prefix released, here taken by another MN);
      // back at a1 (a new prefix), b1 is signalled.
      assert.deepEqual(await f.fed.serving(mn), ['b1'])
      await f.move('henry@cmd-federation.example', 'a1')
      const back = await f.move(mn, 'a1')
      assert.deepEqual(back.peers.map(p => [p.address, p.status]), [[f.maar('b1').address, 'ACCEPTED']])
      assert.deepEqual(await f.fed.serving(mn), ['a1'])
      f.reachable(mn, ['a1', 'b1'])
      // a1 delegated a new prefix on the return; the CMD's session names that one, so a1 anchors it for a2.
      const inside = await f.move(mn, 'a2')
      assert.deepEqual(inside.peers.map(p => p.status).sort(), ['ACCEPTED', 'ACCEPTED'], JSON.stringify(inside.peers))
      assert.deepEqual(await f.fed.serving(mn), ['a2'])
      f.reachable(mn, ['a1', 'a2', 'b1'])
    })

    it('a1 → b1 → a2: the CMD\'s session names a1, which let the MN go and refuses; the CMD finds b1 across the border and signals it', async () => {
      const mn = 'jack@cmd-federation.example'
      await f.move(mn, 'a1')
      await f.move(mn, 'b1')
      assert.deepEqual(await f.fed.serving(mn), ['b1'])
      const back = await f.move(mn, 'a2')
      assert.equal(back.kind, 'handover')
      assert.deepEqual(await f.fed.serving(mn), ['a2'])
      f.reachable(mn, ['a2', 'b1'])
      assert.deepEqual(f.cmd().running.cmd.session(mn)?.anchors.map(a => a.ref.address).sort(), [f.maar('a2').address, f.maar('b1').address].sort())
    })
  })

  describe('A runs a CMD (relay), B the DHT, B\'s policy drop', function () {
    let f: Fed
    before(async () => {
      f = await federation('a', { agreements: [{ issuer: 'a', subject: 'b', policy: TUNNEL }, { issuer: 'b', subject: 'a', policy: { prefixes: 'drop' } }] })
    })
    after(async () => { await f?.stop() })

    it('B(dht) → A(cmd relay): B\'s anchor refuses naming the agreement, and the CMD\'s PBA carries that refusal to a1 (a handover with one refusal, as in the DHT mode)', async () => {
      const mn = 'kate@cmd-federation.example'
      await f.move(mn, 'b1')
      const cross = await f.move(mn, 'a1')
      assert.equal(cross.kind, 'handover', 'the domain knew a session: not a first attach')
      assert.deepEqual(cross.peers.map(p => [p.address, p.status]), [[f.maar('b1').address, 'ADMINISTRATIVELY_PROHIBITED']])
      assert.match(cross.peers[0]?.error ?? '', /agreement b-accepts-a: policy drop/)
      assert.equal(cross.complete, true, 'a refusal is an answer: nothing left pending')
      assert.ok(cross.anchors.every(a => a.native), JSON.stringify(cross.anchors))
      f.reachable(mn, ['a1'])
      assert.deepEqual(await f.fed.serving(mn), ['a1'])
      // The refusing anchor left the CMD's session (it holds nothing of the MN now).
      assert.deepEqual(f.cmd().running.cmd.session(mn)?.anchors.map(a => a.ref.address), [f.maar('a1').address])
    })
  })

  for (const mode of ['locator', 'proxy'] as const) {
    describe(`A runs a CMD (${mode}), B the DHT`, function () {
      let f: Fed
      before(async () => { f = await federation({ a: mode }) })
      after(async () => { await f?.stop() })

      it(`A(cmd ${mode}) → B(dht) → A: B asks A's CMD as gateway and signals A's anchor; back in A the CMD's session names B's anchor`, async () => {
        const mn = `heidi-${mode}@cmd-federation.example`
        assert.equal((await f.move(mn, 'a1')).kind, 'first-attach')
        f.reachable(mn, ['a1'])
        const cross = await f.move(mn, 'b1')
        assert.equal(cross.lookupSource, 'border')
        assert.deepEqual(cross.peers.map(p => p.status), ['ACCEPTED'])
        f.reachable(mn, ['a1', 'b1'])
        const back = await f.move(mn, 'a2')
        assert.equal(back.kind, 'handover')
        // a1 (where the MN left A) refers the CMD to b1, whose acceptance reaches a2 after the attach
        // answered: in locator mode b1's own PBA (draft §3.3), in proxy mode the CMD's late PBA (§3.4).
        assert.deepEqual(back.peers.map(p => p.address), [f.maar('a1').address])
        const b1 = f.maar('b1').address
        // Waiting for a2 to take b1's answer (the hang guard only stops a broken run; no timing claim).
        for (let i = 0; i < 400 && !(await f.maar('a2').maar.bindings()).some(e => e.mnId === mn && e.remoteAnchors.some(r => r.address === b1)); i++) await new Promise(resolve => setTimeout(resolve, 25))
        f.reachable(mn, ['a1', 'b1', 'a2'])
        const session = f.cmd().running.cmd.session(mn)
        assert.equal(session?.serving.address, f.maar('a2').address)
        assert.deepEqual(session?.anchors.map(a => a.ref.address).sort(), [f.maar('a1').address, f.maar('a2').address, f.maar('b1').address].sort())
      })
    })
  }

  describe('A and B each run a CMD (relay)', function () {
    let f: Fed
    before(async () => { f = await federation({ a: 'relay', b: 'relay' }) })
    after(async () => { await f?.stop() })

    it('each CMD has its own address; A → B → A: the CMDs ask each other across the border', async () => {
      const addresses = ['a', 'b'].map(l => f.cmd(l).running.cert.addresses)
      assert.notDeepEqual(addresses[0], addresses[1], 'two domains, two CMD addresses')
      const mn = 'ivan@cmd-federation.example'
      await f.move(mn, 'a1')
      const cross = await f.move(mn, 'b1')
      assert.equal(cross.kind, 'handover')
      f.reachable(mn, ['a1', 'b1'])
      assert.deepEqual(f.cmd('b').running.cmd.session(mn)?.anchors.map(a => a.ref.address).sort(), [f.maar('a1').address, f.maar('b1').address].sort())
      const back = await f.move(mn, 'a2')
      assert.ok(back.peers.every(p => p.status === 'ACCEPTED'), JSON.stringify(back.peers))
      f.reachable(mn, ['a1', 'b1', 'a2'])
      assert.equal(f.cmd('a').running.cmd.session(mn)?.serving.address, f.maar('a2').address)
    })
  })

  describe('hostile: a domain no agreement accepts', function () {
    let f: Fed
    before(async () => {
      // C accepts A, but A accepts nobody: A knows C's operator key, yet lets C use nothing.
      f = await federation('a', {
        domains: [{ label: 'a', count: 1 }, { label: 'c', count: 1 }],
        agreements: [{ issuer: 'c', subject: 'a', policy: TUNNEL }]
      })
    })
    after(async () => { await f?.stop() })

    it('a border lookup from C at A\'s CMD is refused with a reason naming C', async () => {
      await f.move('frank@cmd-federation.example', 'a1')
      const c1 = f.maar('c1')
      const { answer, record } = await askGateway(c1.node, f.cmd().address, 'frank@cmd-federation.example', c1.certificate, c1.trust, AbortSignal.timeout(5000))
      assert.equal(answer.refused, true)
      assert.equal(record, undefined)
      assert.match(answer.error ?? '', /c\.example/)
    })
  })
})
