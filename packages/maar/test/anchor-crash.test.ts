/**
 * An anchor killed with SIGKILL while PBUs are pipelined to it loses no binding it acknowledged:
 * a PBA goes out only after its group commit is synced (binding-cache group commit,
 * doc/ARCHITECTURE.md "One pattern for every change of state"). The anchor runs in a process of
 * its own (real libp2p, LevelDB on disk); the serving MAAR in this one keeps 32 PBUs in flight,
 * notes every accepted PBA, and kills the anchor after 300 of them; then the anchor's LevelDB,
 * opened again, must hold for every MN a registration at least as new as its last accepted one.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { BindingCache } from '@dmm-mesh/binding-cache'
import { generateKey } from '@dmm-mesh/discovery'
import { BINDING_ACK_STATUS, timestampAfter } from '@dmm-mesh/wire'
import { buildPbu, createLocalMesh, maarPlan } from '../src/index.js'
import type { LocalMesh } from '../src/index.js'

const MNS = 40

describe('maar: anchor killed (SIGKILL) with PBUs in flight', function () {
  let dir: string
  let serving: LocalMesh | undefined
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'dmm-anchor-crash-')) })
  after(async () => {
    await serving?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('every binding it acknowledged is in its LevelDB afterwards', async () => {
    const operatorKey = await generateKey()
    const index = fileURLToPath(new URL('../src/index.js', import.meta.url))
    // The anchor: one MAAR; MNS MNs attach at it; then it prints how to reach it and waits.
    const script = `
      const { createLocalMesh } = await import(${JSON.stringify(index)})
      const { privateKeyFromProtobuf } = await import('@libp2p/crypto/keys')
      const mesh = await createLocalMesh({ count: 1, dataDir: ${JSON.stringify(join(dir, 'anchor'))}, operatorKey: privateKeyFromProtobuf(Buffer.from(process.env.OPERATOR_KEY, 'base64')) })
      const anchor = mesh.maars[0]
      const mns = []
      for (let j = 0; j < ${MNS}; j++) {
        const mnId = 'crash' + j + '@dmm.example'
        mesh.network.attachMn(mnId, anchor.address)
        mns.push({ mnId, prefix: (await anchor.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:0d' })).localPrefix })
      }
      await anchor.maar.settled()
      process.stdout.write(JSON.stringify({ peerId: anchor.maar.peerId, multiaddrs: anchor.maar.multiaddrs(), mns }) + '\\n')
      setInterval(() => {}, 1000)`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, OPERATOR_KEY: Buffer.from(privateKeyToProtobuf(operatorKey)).toString('base64') }
    })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
    const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, signal) => { resolve(signal) }))
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
    const first = await lines.next()
    assert.equal(first.done, false, `anchor did not start: ${stderr}`)
    const anchor = JSON.parse(first.value as string) as { peerId: string, multiaddrs: string[], mns: Array<{ mnId: string, prefix: string }> }

    serving = await createLocalMesh({ count: 1, dataDir: join(dir, 'serving'), operatorKey, plan: i => maarPlan(i + 1) })
    const me = serving.maars[0]
    assert.ok(me)
    const peer = { peerId: anchor.peerId, multiaddrs: anchor.multiaddrs }
    const last = new Map<string, number>()
    const acked = new Map<string, number>()
    let accepted = 0
    let killed = false
    const register = async (mn: { mnId: string, prefix: string }, sequence: number): Promise<void> => {
      const timestampMs = timestampAfter(Math.max(Date.now(), last.get(mn.mnId) ?? 0))
      last.set(mn.mnId, timestampMs)
      const { ack } = await me.maar.transport.exchange(peer, buildPbu({ mnId: mn.mnId, sequence, lifetime: 3600, timestampMs, anchoredPrefixes: [mn.prefix], servingAddress: me.address }))
      assert.equal(ack.status, BINDING_ACK_STATUS.ACCEPTED, `PBU of ${mn.mnId}`)
      acked.set(mn.mnId, Math.max(acked.get(mn.mnId) ?? 0, timestampMs))
      if (++accepted === 300 && !killed) { killed = true; child.kill('SIGKILL') }
    }
    // 32 loops, each re-registering the MNs in turn, until the anchor is gone.
    let next = 0
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (!killed) {
        const j = next++
        await register(anchor.mns[j % MNS] as { mnId: string, prefix: string }, j & 0xffff).catch(err => { if (!killed) throw err })
      }
    }))
    assert.equal(await exited, 'SIGKILL')
    assert.ok(accepted >= 300)

    const cache = await BindingCache.open(join(dir, 'anchor', 'maar1'))
    try {
      assert.deepEqual(cache.report.problems, [])
      for (const [mnId, ts] of acked) {
        const entry = await cache.get(mnId)
        assert.ok(entry !== undefined && entry.lastUpdate.timestampMs >= ts, `${mnId}: acknowledged ${ts}, LevelDB holds ${entry?.lastUpdate.timestampMs}`)
        assert.equal(entry.servingMaar?.peerId, me.maar.peerId)
      }
    } finally { await cache.close() }
  })
})
