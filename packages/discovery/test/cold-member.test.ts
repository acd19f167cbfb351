import assert from 'node:assert/strict'
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { SessionDirectory, createMeshNode, meshServices } from '../src/index.js'
import { eventually, makeDomain, sessionAt } from './fixtures.js'
import type { TestMaar } from './fixtures.js'

/**
 * A TCP relay to `port` that holds every new connection for `holdMs` before it forwards a byte:
 * a member whose connection set-up is slow (a loaded host, a long path), with real sockets.
 */
async function slowSetUpRelay (port: number, holdMs: number): Promise<{ server: Server, port: number }> {
  const sockets = new Set<Socket>()
  const server = createServer(client => {
    sockets.add(client)
    client.on('error', () => {})
    const timer = setTimeout(() => {
      const upstream = connect(port, '127.0.0.1')
      sockets.add(upstream)
      upstream.on('error', () => { client.destroy() })
      client.on('close', () => { upstream.destroy() })
      upstream.on('close', () => { client.destroy() })
      client.pipe(upstream)
      upstream.pipe(client)
    }, holdMs)
    client.on('close', () => { clearTimeout(timer) })
  })
  server.on('close', () => { for (const s of sockets) s.destroy() })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('relay has no port')
  return { server, port: address.port }
}

describe('a lookup whose holder is known but not connected (a cold MAAR, doc/ARCHITECTURE.md "Lookup under partial views and churn")', function () {
  this.timeout(120_000)

  it('dials it under the dial bound and answers from it, though the dial takes longer than the request bound', async () => {
    const d = await makeDomain(2, 'cold.example')
    const [a, b] = d.maars as [TestMaar, TestMaar]
    const nodeB = await createMeshNode({ privateKey: b.key, certificate: b.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], trust: d.trust })
    const portB = Number(/\/tcp\/(\d+)/.exec(nodeB.getMultiaddrs()[0]?.toString() ?? '')?.[1])
    // Every connection to B through the relay waits 1.5 s before its first byte; a GET's request bound is 0.3 s.
    const relay = await slowSetUpRelay(portB, 1500)
    const nodeA = await createMeshNode({ privateKey: a.key, certificate: a.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], trust: d.trust })
    const dirB = new SessionDirectory(nodeB, { privateKey: b.key, certificate: b.certificate, trust: d.trust })
    const dirA = new SessionDirectory(nodeA, { privateKey: a.key, certificate: a.certificate, trust: d.trust, requestTimeoutMs: 300, dhtTimeoutMs: 1000 })
    await dirB.start()
    await dirA.start()
    try {
      // B alone holds the record: it published it before it knew anyone.
      await dirB.publish(sessionAt('cold@cold.example', 1, b), [])
      const viaRelay = multiaddr(`/ip4/127.0.0.1/tcp/${relay.port}`)
      await nodeA.dial(viaRelay.encapsulate(`/p2p/${nodeB.peerId.toString()}`))
      await eventually('A to take B for a member in its routing table', () => meshServices(nodeA).membership.isMember(nodeB.peerId) && (meshServices(nodeA).dht as unknown as { routingTable: { size: number } }).routingTable.size === 1)
      await nodeA.hangUp(nodeB.peerId)
      await eventually('A to have no connection to B', () => nodeA.getConnections(nodeB.peerId).length === 0)
      // identify told A B's own address; A is to reach B through the relay only.
      await nodeA.peerStore.patch(nodeB.peerId, { multiaddrs: [viaRelay] })
      const found = await dirA.lookup('cold@cold.example')
      assert.equal(found?.signer, nodeB.peerId.toString())
      assert.equal(found?.source, 'direct', 'answered by the member itself, not by the kad-dht fallback')
    } finally {
      await dirA.stop()
      await dirB.stop()
      await nodeA.stop()
      await nodeB.stop()
      relay.server.close()
    }
  })
})
