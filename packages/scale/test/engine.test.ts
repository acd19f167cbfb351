import assert from 'node:assert/strict'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { plaintext } from '@libp2p/plaintext'
import { multiaddr } from '@multiformats/multiaddr'
import { TrustStore, createMeshNode, issueCertificate, requestFrames, requestRecord, sessionKey } from '@dmm-mesh/discovery'
import { LEAN_WORKER_FLAGS, ScaleEngine, WORKER_BUFFER_POOL_SIZE, rng } from '../src/index.js'
import type { LookupSample } from '../src/index.js'

const COUNT = 40

/** Polls until `check` holds; the limit only stops a hung test, it asserts nothing about speed. */
async function eventually (what: string, check: () => Promise<boolean>, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** Once routing tables hold `minTable` peers, attaches `n` MNs at random MAARs; resolves to where each attached. */
async function attachMns (engine: ScaleEngine, prefix: string, n: number, minTable: number, random: () => number): Promise<Map<string, number>> {
  // Routing tables fill from the bootstrap links through kad-dht's walks toward each node's own id.
  await eventually('routing tables to fill', async () => (await engine.counters()).tableSizes.every(t => t >= minTable))
  const attachedAt = new Map<string, number>()
  for (let m = 0; m < n; m++) {
    const at = Math.floor(random() * engine.count)
    await engine.attach(`${prefix}${m}@scale.example`, at)
    attachedAt.set(`${prefix}${m}@scale.example`, at)
  }
  await engine.settled()
  return attachedAt
}

/** Looks each MN up from a random other MAAR; asserts the answer names the MAAR it attached at. */
async function lookUpEach (engine: ScaleEngine, attachedAt: Map<string, number>, random: () => number, check: (found: LookupSample) => void = () => {}): Promise<void> {
  for (const [mn, at] of attachedAt) {
    const from = (at + 1 + Math.floor(random() * (engine.count - 1))) % engine.count
    const found = await engine.lookup(mn, from)
    assert.equal(found.signer, engine.identities[at]?.peerId, `${mn} from MAAR ${from}: ${JSON.stringify(found)}`)
    check(found)
  }
}

describe(`scale engine: ${COUNT} MAARs in one process over the memory transport`, function () {
  this.timeout(300_000)
  let engine: ScaleEngine
  let attachedAt = new Map<string, number>()
  const random = rng(42)

  before(async () => {
    engine = await ScaleEngine.start({ count: COUNT })
    attachedAt = await attachMns(engine, 'mn', 30, 4, random)
  })

  after(async () => { await engine?.stop() })

  it('every MAAR finds the MAAR an MN attached at, and says how (path, hops)', async () => {
    await lookUpEach(engine, attachedAt, random, found => {
      assert.ok(['cache', 'direct', 'walk', 'fallback'].includes(found.path), JSON.stringify(found))
      assert.ok(found.hops >= 1 || found.path === 'fallback', JSON.stringify(found))
    })
  })

  it('an MN nobody attached is proven absent by the key\'s closest members, after a walk toward the key', async () => {
    const walks = (await engine.counters()).walks
    const found = await engine.lookup('nobody@scale.example', 3)
    assert.equal(found.path, 'absent', JSON.stringify(found))
    assert.equal((await engine.counters()).walks, walks + 1)
  })

  it('after 20 % of the MAARs leave at once, MNs attached at live MAARs are still found, from every live MAAR asked', async () => {
    const leaving = engine.running().filter(() => random() < 0.2)
    assert.ok(leaving.length > 0)
    await engine.kill(leaving)
    const live = engine.running()
    const kept = [...attachedAt].filter(([, at]) => live.includes(at))
    // The publishers put their records again once they see a holder gone (replicas.ts).
    await eventually('a publisher to put its records again', async () => (await engine.counters()).republished > 0)
    await engine.settled()
    for (const [mn, at] of kept) {
      for (const from of [live[0], live[Math.floor(live.length / 2)], live[live.length - 1]]) {
        if (from === undefined || from === at) continue
        const found = await engine.lookup(mn, from)
        assert.equal(found.signer, engine.identities[at]?.peerId, `${mn} (at MAAR ${at}) from MAAR ${from}: ${JSON.stringify(found)}`)
      }
    }
  })

  it('refuses a MAAR that is not running, and a memory transport across processes', async () => {
    const gone = [...Array(COUNT).keys()].find(i => !engine.running().includes(i)) as number
    await assert.rejects(engine.lookup('x@scale.example', gone), /MAAR \d+ is not running/)
    await assert.rejects(ScaleEngine.start({ count: 2, workers: 2, transport: 'memory' }), /memory transport needs workers: 1/)
    await assert.rejects(ScaleEngine.start({ count: 0 }), /count must be 1\.\.65534/)
  })
})

describe('scale engine: MAARs in two worker processes (memory transport inside each, TCP between), noise as deployed', function () {
  this.timeout(300_000)
  const COUNT2 = 12
  let engine: ScaleEngine

  before(async () => {
    engine = await ScaleEngine.start({ count: COUNT2, workers: 2, encryption: 'noise' })
    await eventually('routing tables to fill', async () => (await engine.counters()).tableSizes.every(n => n >= 3))
  })

  after(async () => { await engine?.stop() })

  it('a MAAR finds an MN attached at a MAAR of the other process, and the reverse', async () => {
    // Even MAARs run in the first worker, odd ones in the second (engine.ts sliceOf).
    await engine.attach('east@scale.example', 2)
    await engine.attach('west@scale.example', 7)
    await engine.settled()
    const fromWest = await engine.lookup('east@scale.example', 9)
    const fromEast = await engine.lookup('west@scale.example', 4)
    assert.equal(fromWest.signer, engine.identities[2]?.peerId, JSON.stringify(fromWest))
    assert.equal(fromEast.signer, engine.identities[7]?.peerId, JSON.stringify(fromEast))
    const { connections } = await engine.counters()
    assert.ok(connections.every(n => n > 0), 'every MAAR is linked')
  })
})

describe('scale engine: plaintext connections and short walks (alpha 3, 2 disjoint paths)', function () {
  this.timeout(300_000)
  const COUNT3 = 16
  let engine: ScaleEngine
  let attachedAt = new Map<string, number>()
  const random = rng(7)

  before(async () => {
    // TCP so that a node of this process, outside the engine, can dial its MAARs.
    engine = await ScaleEngine.start({ count: COUNT3, transport: 'tcp', encryption: 'plaintext', alpha: 3, disjointPaths: 2 })
    attachedAt = await attachMns(engine, 'pt', 10, 3, random)
  })

  after(async () => { await engine?.stop() })

  it('every MAAR still finds the MAAR an MN attached at', async () => {
    await lookUpEach(engine, attachedAt, random)
  })

  it('still refuses a plaintext peer with a certificate of another operator: no record, and its connection closed', async () => {
    const operator = await generateKeyPair('Ed25519')
    const key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key).toString()
    const certificate = await issueCertificate(operator, { domain: 'scale.example', peerId, pools: ['2001:db8:6666::/48'], addresses: ['2001:db8:ffff::6666'], notAfter: Date.now() + 86400_000 })
    // It trusts its own operator and the engine's, so its side keeps the connection open.
    const trust = new TrustStore([{ domain: 'scale.example', operatorPublicKey: Buffer.from(publicKeyToProtobuf(operator.publicKey)).toString('base64') }, { domain: 'scale.example', operatorPublicKey: engine.operatorPublicKey }])
    const target = engine.addresses[0]?.find(a => a.includes('/tcp/')) as string
    const rogue = await createMeshNode({ privateKey: key, certificate, listen: ['/ip4/127.0.0.1/tcp/0'], trust, connectionEncrypter: plaintext() })
    try {
      await rogue.dial(multiaddr(target))
      const maar0 = peerIdFromString(engine.identities[0]?.peerId as string)
      const answer = await requestRecord(rogue, maar0, requestFrames({ op: 'get', key: new TextDecoder().decode(sessionKey([...attachedAt.keys()][0] as string)) }, certificate), AbortSignal.timeout(30_000), trust)
        .catch((err: Error) => ({ header: { ok: false, error: err.message } }))
      assert.equal(answer.header.ok, false, JSON.stringify(answer.header))
      await eventually('MAAR 0 to refuse the peer', async () => Object.keys((await engine.counters()).logged).some(k => k.startsWith('refused peer <peer>: not a MAAR of the domain')))
      await eventually('the connection to close', async () => rogue.getConnections(maar0).length === 0)
    } finally {
      await rogue.stop()
    }
  })
})

describe('scale engine: the worker processes\' Buffer pool and node flags (bufferPoolSize, workerFlags)', function () {
  this.timeout(300_000)

  it('runs each worker with the Buffer pool size and node flags asked for, and its MAARs still find each other', async () => {
    const engine = await ScaleEngine.start({ count: 8, workers: 2, bufferPoolSize: 4096, workerFlags: LEAN_WORKER_FLAGS })
    try {
      for (const slice of await engine.memory()) {
        assert.equal(slice.bufferPoolSize, 4096)
        for (const flag of LEAN_WORKER_FLAGS) assert.ok(slice.execArgv.includes(flag), `${flag} in ${JSON.stringify(slice.execArgv)}`)
      }
      await eventually('routing tables to fill', async () => (await engine.counters()).tableSizes.every(n => n >= 2))
      // MAAR 2 runs in the first worker, MAAR 5 in the second (engine.ts sliceOf).
      await engine.attach('pool@scale.example', 2)
      await engine.settled()
      const found = await engine.lookup('pool@scale.example', 5)
      assert.equal(found.signer, engine.identities[2]?.peerId, JSON.stringify(found))
    } finally {
      await engine.stop()
    }
  })

  it('runs the workers with WORKER_BUFFER_POOL_SIZE and no flags of its own by default, and leaves its own process as it is', async () => {
    const poolBefore = Buffer.poolSize
    const engine = await ScaleEngine.start({ count: 2, workers: 2 })
    try {
      for (const slice of await engine.memory()) {
        assert.equal(slice.bufferPoolSize, WORKER_BUFFER_POOL_SIZE)
        assert.deepEqual(slice.execArgv, process.execArgv)
      }
      assert.equal(Buffer.poolSize, poolBefore)
    } finally {
      await engine.stop()
    }
    const local = await ScaleEngine.start({ count: 2 })
    try {
      const [slice] = await local.memory()
      assert.equal(slice?.bufferPoolSize, poolBefore, 'one process: the engine\'s own pool is not changed')
    } finally {
      await local.stop()
    }
  })

  it('refuses a negative pool size and a flag that is not one, and says so when a worker refuses a flag', async () => {
    await assert.rejects(ScaleEngine.start({ count: 2, workers: 2, bufferPoolSize: -1 }), /bufferPoolSize must be a whole number of bytes >= 0, got -1/)
    await assert.rejects(ScaleEngine.start({ count: 2, workers: 2, workerFlags: ['optimize-for-size'] }), /workerFlags: 'optimize-for-size' is not a node flag/)
    await assert.rejects(ScaleEngine.start({ count: 2, workers: 2, workerFlags: ['--no-such-node-flag'] }), /worker \d+( exited \(9\)|: write EPIPE)/, 'the worker is gone: its exit or the failed send to it')
  })
})
