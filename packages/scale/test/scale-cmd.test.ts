import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TrustStore, generateKey } from '@dmm-mesh/discovery'
import { signallingFor } from '@dmm-mesh/maar'
import type { LocalCmd } from '@dmm-mesh/cmd'
import type { HandoverReport, LocalMesh } from '@dmm-mesh/maar'
import { startScaleCmd, startScaleMesh } from '../src/index.js'

const DOMAIN = 'scale.example'

/**
 * A CMD in relay mode (draft-bernardos-dmm-pmip §3.2) beside the scale engine's MAARs, real libp2p
 * over the memory transport: the MAARs listen on nothing else, so a handover they complete through
 * the CMD went over it. Its sessions are in LevelDB on disk and survive a restart at the same
 * address, after which the next handover is relayed again.
 */
describe('a CMD beside the scale engine\'s MAARs (startScaleCmd)', function () {
  this.timeout(180_000)
  let dir: string
  let cmd: LocalCmd | undefined
  let mesh: LocalMesh | undefined
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'scale-cmd-')) })
  afterEach(async () => {
    await mesh?.stop()
    await cmd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('listens on the memory transport, relays the MAARs\' handovers, and keeps its address and sessions across a restart', async () => {
    const operatorKey = await generateKey()
    const trust = TrustStore.fromOperatorKeys([{ domain: DOMAIN, publicKey: operatorKey.publicKey }])
    const started = await startScaleCmd({ operatorKey, trust, domain: DOMAIN, mode: 'relay', dataDir: join(dir, 'cmd') })
    cmd = started
    assert.match(started.address, /^\/memory\/cmd-[^/]+\/p2p\/12D3KooW/)
    assert.deepEqual(started.running.node.getMultiaddrs().map(String), [started.address])
    const running = await startScaleMesh({ count: 4, dataDir: join(dir, 'maars'), operatorKey, domain: DOMAIN, signalling: signallingFor({ mode: 'cmd', cmd: started.address }) })
    mesh = running
    assert.ok(running.maars.every(m => m.maar.multiaddrs().every(a => a.startsWith('/memory/'))))
    const mn = 'walker@scale.example'
    const move = async (i: number): Promise<HandoverReport> => {
      const at = running.maars[i]
      assert.ok(at !== undefined)
      running.network.attachMn(mn, at.address)
      const report = await at.maar.attach({ mnId: mn, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
      await at.maar.settled()
      return report
    }
    const first = await move(0)
    assert.equal(first.complete, true, JSON.stringify(first))
    const away = await move(1)
    assert.deepEqual([away.kind, away.complete], ['handover', true], JSON.stringify(away))
    assert.equal(started.running.store.get(mn)?.serving.address, running.maars[1]?.address)

    await started.restart()
    assert.equal(started.running.node.getMultiaddrs()[0]?.toString(), started.address)
    assert.equal(started.running.store.get(mn)?.serving.address, running.maars[1]?.address, 'the session read back from LevelDB')
    const again = await move(2)
    assert.deepEqual([again.kind, again.complete], ['handover', true], JSON.stringify(again))
    assert.deepEqual(started.running.store.get(mn)?.anchors.map(a => a.ref.address).sort(), running.maars.slice(0, 3).map(m => m.address).sort())
  })
})
