import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createMeshNode, generateKey } from '../src/index.js'
import { makeDomain } from './fixtures.js'

/** A loopback TCP port nothing listens on right now. */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('mesh node bootstrap', function () {
  this.timeout(60_000)

  it('keeps dialling a bootstrap peer that starts later, so MAARs may start in any order', async () => {
    const { trust } = await makeDomain(1)
    const lateKey = await generateKey()
    const port = await freePort()
    const lateAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdFromPrivateKey(lateKey).toString()}`
    const lines: string[] = []
    const early = await createMeshNode({ privateKey: await generateKey(), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [lateAddr], trust, bootstrapRetryMs: 100, log: l => { lines.push(l) } })
    let late
    try {
      assert.equal(early.getConnections().length, 0, 'nobody to connect to yet')
      assert.ok(lines.some(l => l.includes('not reachable yet')), lines.join('\n'))
      late = await createMeshNode({ privateKey: lateKey, listen: [`/ip4/127.0.0.1/tcp/${port}`], trust })
      // Poll until the retry lands; the bound only stops a hung test.
      for (let i = 0; i < 200 && early.getConnections(late.peerId).length === 0; i++) await new Promise(resolve => setTimeout(resolve, 50))
      assert.ok(early.getConnections(late.peerId).length > 0, 'the early node reached the late one')
      assert.ok(lines.some(l => l.includes('reached after')), lines.join('\n'))
    } finally {
      await early.stop()
      await late?.stop()
    }
  })
})
