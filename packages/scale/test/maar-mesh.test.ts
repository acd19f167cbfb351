/**
 * The complete MAARs of scenario files on the scale engine (startScaleMesh, maar-mesh.ts) get the
 * memory savings of the engine's worker processes (README "Scale"): libp2p logs to silentLogger
 * (unless DEBUG asks for libp2p's logs), and the process's Buffer pool slab is
 * WORKER_BUFFER_POOL_SIZE while the mesh runs, put back at its stop. Real MAARs (libp2p over the memory transport, kad-dht, PBU/PBA) that still hand over.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LocalMesh } from '@dmm-mesh/maar'
import { WORKER_BUFFER_POOL_SIZE, silentLogger, startScaleMesh } from '../src/index.js'

describe('startScaleMesh: the scale engine\'s silent libp2p logger and Buffer pool', function () {
  this.timeout(180_000)
  let dir: string
  let mesh: LocalMesh | undefined
  let poolBefore: number
  let debugBefore: string | undefined
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scale-mesh-'))
    poolBefore = Buffer.poolSize
    // DEBUG set turns libp2p's logger back on (scaleLogger): each test says what it wants.
    debugBefore = process.env.DEBUG
    delete process.env.DEBUG
  })
  afterEach(async () => {
    await mesh?.stop()
    mesh = undefined
    Buffer.poolSize = poolBefore
    if (debugBefore === undefined) delete process.env.DEBUG
    else process.env.DEBUG = debugBefore
    await rm(dir, { recursive: true, force: true })
  })

  it('runs its MAARs with silentLogger and an 8 KiB Buffer pool, hands over, and puts the pool back at its stop', async () => {
    assert.notEqual(poolBefore, WORKER_BUFFER_POOL_SIZE, 'Node 24\'s own pool is 64 KiB: the test must see a change')
    const running = mesh = await startScaleMesh({ count: 3, dataDir: join(dir, 'maars') })
    assert.equal(Buffer.poolSize, WORKER_BUFFER_POOL_SIZE)
    for (const m of running.maars) assert.equal(m.node.logger, silentLogger, `${m.name} logs to silentLogger`)
    const mn = 'walker@scale.example'
    for (const i of [0, 1]) {
      const at = running.maars[i]
      assert.ok(at !== undefined)
      running.network.attachMn(mn, at.address)
      const report = await at.maar.attach({ mnId: mn, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
      assert.equal(report.complete, true, JSON.stringify(report))
      await at.maar.settled()
    }
    await running.stop()
    mesh = undefined
    assert.equal(Buffer.poolSize, poolBefore)
  })

  it('keeps libp2p\'s own logger when asked (libp2pLogs) and the pool size given (bufferPoolSize)', async () => {
    const running = mesh = await startScaleMesh({ count: 2, dataDir: join(dir, 'maars'), libp2pLogs: true, bufferPoolSize: 4096 })
    assert.equal(Buffer.poolSize, 4096)
    for (const m of running.maars) assert.notEqual(m.node.logger, silentLogger)
  })

  it('keeps libp2p\'s own logger when DEBUG is set, as a scenario run on the scale engine with DEBUG=libp2p:* does', async () => {
    // A namespace no component has: libp2p's logger is chosen, and prints nothing here.
    process.env.DEBUG = 'dmm-test-no-such-namespace'
    const running = mesh = await startScaleMesh({ count: 2, dataDir: join(dir, 'maars') })
    for (const m of running.maars) assert.notEqual(m.node.logger, silentLogger, `${m.name} logs to libp2p's logger`)
  })

  it('refuses a pool size that is not a whole number of bytes, naming it, and leaves the process\'s pool as it was', async () => {
    await assert.rejects(startScaleMesh({ count: 2, dataDir: join(dir, 'maars'), bufferPoolSize: -1 }), /bufferPoolSize must be a whole number of bytes >= 0, got -1/)
    assert.equal(Buffer.poolSize, poolBefore)
  })
})
