/**
 * Yamux window updates at half the window (yamux-window.ts), on two real mesh nodes over TCP:
 * small messages leave the credit unsent until half the window is used, and a transfer several
 * windows long in both directions still completes (the sender is never starved).
 */
import assert from 'node:assert/strict'
import { lpStream } from '@libp2p/utils'
import type { Libp2p, Stream } from '@libp2p/interface'
import { createMeshNode } from '../src/index.js'
import { eventually, makeDomain } from './fixtures.js'

const PROTOCOL = '/dmm-test/echo/1.0.0'

/** The receive-window fields of a yamux stream (private in its type). */
const windowOf = (stream: Stream): { recvWindow: number, recvWindowCapacity: number } => stream as unknown as { recvWindow: number, recvWindowCapacity: number }

describe('yamux window updates at half the window', function () {
  this.timeout(60_000)
  let a: Libp2p
  let b: Libp2p
  const served: Stream[] = []

  before(async () => {
    const d = await makeDomain(2)
    const [ma, mb] = d.maars
    if (ma === undefined || mb === undefined) throw new Error('no MAARs')
    a = await createMeshNode({ privateKey: ma.key, certificate: ma.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], trust: d.trust })
    b = await createMeshNode({ privateKey: mb.key, certificate: mb.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [a.getMultiaddrs()[0]?.toString() ?? ''], trust: d.trust })
    await a.handle(PROTOCOL, async stream => {
      served.push(stream)
      const lp = lpStream(stream, { maxDataLength: 1 << 20 })
      try {
        while (true) await lp.write(await lp.read())
      } catch { stream.abort(new Error('echo ended')) }
    })
    await eventually('the nodes to connect', () => b.getConnections(a.peerId).length > 0)
  })

  after(async () => {
    await b?.stop()
    await a?.stop()
  })

  it('100 small messages each way send no window update yet: the unused credit stays above half', async () => {
    const stream = await b.dialProtocol(a.peerId, PROTOCOL)
    const lp = lpStream(stream)
    for (let i = 0; i < 100; i++) {
      await lp.write(new Uint8Array(200))
      assert.equal((await lp.read()).byteLength, 200)
    }
    const mine = windowOf(stream)
    assert.ok(mine.recvWindowCapacity < mine.recvWindow, `the client's credit was refilled (${mine.recvWindowCapacity} of ${mine.recvWindow}): an update per frame`)
    assert.ok(mine.recvWindowCapacity * 2 > mine.recvWindow)
    const theirs = served.at(-1)
    assert.ok(theirs !== undefined)
    assert.ok(windowOf(theirs).recvWindowCapacity < windowOf(theirs).recvWindow, 'the server refilled its credit after every frame')
    await stream.close()
  })

  it('8 windows of data each way arrive whole (the credit comes back at half the window)', async () => {
    const stream = await b.dialProtocol(a.peerId, PROTOCOL)
    const lp = lpStream(stream, { maxDataLength: 1 << 20 })
    const chunk = new Uint8Array(64 * 1024).map((_, i) => i % 251)
    let received = 0
    for (let i = 0; i < 32; i++) {
      await lp.write(chunk)
      const back = (await lp.read()).subarray()
      assert.deepEqual(back, chunk)
      received += back.byteLength
    }
    assert.equal(received, 32 * 64 * 1024)
    await stream.close()
  })
})
