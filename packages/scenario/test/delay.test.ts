import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalMesh } from '@dmm-mesh/maar'
import type { LocalMesh } from '@dmm-mesh/maar'
import { PeerNames, shapingFor } from '../src/index.js'

/**
 * The injected delay is functional, not a speed figure: a far pair's round trip can never take
 * less than twice its one-way delay, whatever the machine. maar1 and maar2 are 300 ms apart one
 * way; maar3 is 1 ms from both.
 */
describe('scenario delay injection', function () {
  this.timeout(120_000)
  const FAR = 300
  const delay = (a: string, b: string): number => a === b ? 0 : (a === 'maar3' || b === 'maar3') ? 1 : FAR
  let dir: string
  let mesh: LocalMesh
  const requests: string[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-delay-'))
    const peers = new PeerNames()
    mesh = await createLocalMesh({
      count: 3,
      dataDir: dir,
      observe: name => {
        const shaping = shapingFor(name, peers, delay, (r, to) => { requests.push(`${name} ${r.op} ${to}`) })
        return { shapeTransport: shaping.shapeTransport, directory: { shaper: shaping.shaper, requestTimeoutMs: 5000 } }
      }
    })
    for (const m of mesh.maars) peers.set(m.maar.peerId, m.name)
  })

  after(async () => {
    await mesh.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('delays the PBU/PBA round trip and the record lookup between far MAARs by at least 2d', async () => {
    const [m1, m2] = mesh.maars
    assert.ok(m1 !== undefined && m2 !== undefined)
    const mnId = 'far@dmm.example'
    mesh.network.attachMn(mnId, m1.address)
    await m1.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
    await m1.maar.settled()
    requests.length = 0
    mesh.network.attachMn(mnId, m2.address)
    const r = await m2.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
    assert.equal(r.kind, 'handover')
    assert.deepEqual(r.peers.map(p => p.status), ['ACCEPTED'])
    assert.ok(r.signallingMs >= 2 * FAR, `PBU/PBA maar2 <-> maar1 took ${r.signallingMs} ms, below 2 x ${FAR}`)
    // The lookup asks maar1 (far) and maar3 (near) in parallel and waits for both answers.
    assert.ok(r.lookupMs >= 2 * FAR, `lookup took ${r.lookupMs} ms, below 2 x ${FAR}`)
    assert.ok(requests.includes('maar2 get maar1'), requests.join(', '))
  })
})
