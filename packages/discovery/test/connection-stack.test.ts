/**
 * The connection stack of a mesh node (mesh-node.ts; doc/ARCHITECTURE.md "Connection stack"):
 * yamux gives a stream's receive window back once half of it is used, not after every data frame
 * (patches/@chainsafe+libp2p-yamux*.patch), and flow control still carries transfers far larger
 * than the window. Two real mesh nodes on loopback (TCP, noise, yamux); the yamux frames each
 * stream receives are counted on YamuxStream's frame handlers. Also the patched length-prefix
 * readers (patches/@libp2p+utils*.patch, patches/@chainsafe+libp2p-noise*.patch): frames of every
 * length-prefix size and noise messages above and below its 1,200-byte crypto switch arrive intact,
 * and a length prefix longer than the bound is still refused.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import type { Libp2p, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { createMeshNode } from '../src/index.js'
import { eventually, makeDomain } from './fixtures.js'

const SINK_PROTOCOL = '/dmm-test/sink/1.0.0'
const ECHO_PROTOCOL = '/dmm-test/lp-echo/1.0.0'

interface FrameCount { data: number, windowUpdates: number, windowBytes: number }
interface Sink { bytes: number, sha256: string, dataFrames: number }

/** Counts the yamux frames every stream receives, keyed by the stream object libp2p hands out. */
function countReceivedFrames (): { of: (stream: Stream) => FrameCount, restore: () => void } {
  const counts = new WeakMap<object, FrameCount>()
  const countOf = (stream: object): FrameCount => {
    let c = counts.get(stream)
    if (c === undefined) counts.set(stream, c = { data: 0, windowUpdates: 0, windowBytes: 0 })
    return c
  }
  const proto = YamuxStream.prototype
  const { handleData, handleWindowUpdate } = proto
  proto.handleData = function (this: YamuxStream, frame) {
    countOf(this).data++
    handleData.call(this, frame)
  }
  proto.handleWindowUpdate = function (this: YamuxStream, frame) {
    const c = countOf(this)
    c.windowUpdates++
    c.windowBytes += frame.header.length
    handleWindowUpdate.call(this, frame)
  }
  return {
    of: stream => countOf(stream),
    restore: () => { proto.handleData = handleData; proto.handleWindowUpdate = handleWindowUpdate }
  }
}

/** Writes `chunks` on `stream`, waiting for drain whenever yamux or the socket asks for it. */
async function writeAll (stream: Stream, chunks: Uint8Array[]): Promise<void> {
  for (const chunk of chunks) {
    if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(60_000) })
  }
  await stream.close()
}

describe('connection stack: yamux window updates', function () {
  this.timeout(120_000)
  let frames: ReturnType<typeof countReceivedFrames>
  let sender: Libp2p
  let receiver: Libp2p
  /** What the receiver's sink read per stream (byte count, SHA-256, data frames), once the sender closed. */
  const received = new Map<string, Sink>()

  before(async () => {
    frames = countReceivedFrames()
    const d = await makeDomain(2)
    const [a, b] = d.maars
    assert.ok(a !== undefined && b !== undefined)
    receiver = await createMeshNode({ privateKey: b.key, certificate: b.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], trust: d.trust })
    sender = await createMeshNode({ privateKey: a.key, certificate: a.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: receiver.getMultiaddrs().map(m => m.toString()), trust: d.trust })
    await receiver.handle(SINK_PROTOCOL, async stream => {
      const hash = createHash('sha256')
      let bytes = 0
      for await (const chunk of stream) {
        bytes += chunk.byteLength
        hash.update(chunk.subarray())
      }
      received.set(stream.id, { bytes, sha256: hash.digest('hex'), dataFrames: frames.of(stream).data })
      await stream.close()
    })
    await eventually('the two nodes to be connected', () => sender.getConnections(receiver.peerId).length > 0)
  })

  after(async () => {
    frames.restore()
    await sender?.stop()
    await receiver?.stop()
  })

  /** The receiver's record for the sender's `stream` (yamux gives both ends the same stream id). */
  const sinkOf = async (stream: Stream): Promise<Sink> => {
    await eventually('the receiver to read the whole stream', () => received.has(stream.id))
    return received.get(stream.id) as Sink
  }

  it('many small messages on one stream: a few window updates for thousands of data frames', async () => {
    const messages = Array.from({ length: 5000 }, (_, i) => new Uint8Array(100).fill(i % 251))
    const stream = await sender.dialProtocol(receiver.peerId, SINK_PROTOCOL)
    const before = { ...frames.of(stream) }
    await writeAll(stream, messages)
    const sink = await sinkOf(stream)
    assert.equal(sink.bytes, 5000 * 100, 'every byte arrived')
    assert.ok(sink.dataFrames >= 1000, `${sink.dataFrames} data frames received`)
    const sent = frames.of(stream)
    const windowUpdates = sent.windowUpdates - before.windowUpdates
    // 500 kB through a 256 KiB window: a window update each time half of it is used (about 4), not
    // one per 100-byte message; the multistream-select exchange adds a few frames of its own.
    assert.ok(windowUpdates <= 10, `${windowUpdates} window updates for ${sink.dataFrames} data frames`)
    assert.ok(sent.windowBytes - before.windowBytes >= 5000 * 100 - 256 * 1024, `window given back: ${sent.windowBytes - before.windowBytes} bytes`)
  })

  it('length-prefixed frames of 1 to 3-byte length prefixes, below and above noise\'s 1,200-byte crypto switch, echo back intact; an over-long prefix is refused', async () => {
    await receiver.handle(ECHO_PROTOCOL, async stream => {
      const lp = lpStream(stream, { maxDataLength: 200_000 })
      try {
        while (true) await lp.write(await lp.read())
      } catch {
        stream.abort(new Error('echo ended'))
      }
    })
    const stream = await sender.dialProtocol(receiver.peerId, ECHO_PROTOCOL)
    const lp = lpStream(stream)
    for (const size of [1, 127, 128, 300, 1199, 1200, 4000, 16_383, 16_384, 100_000]) {
      const frame = randomBytes(size)
      await lp.write(frame)
      const back = (await lp.read()).subarray()
      assert.equal(Buffer.compare(back, frame), 0, `a ${size}-byte frame came back unaltered`)
    }
    // maxDataLength 200,000 allows a 3-byte prefix; 4 continuation bytes announce more than the bound.
    stream.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x01]))
    await assert.rejects(lp.read(), 'the echo refused the frame and ended the stream')
    await receiver.unhandle(ECHO_PROTOCOL)
  })

  it('a transfer of 8 MB, 30 times the initial window, completes intact (flow control still works)', async () => {
    const payload = randomBytes(8 * 1024 * 1024)
    const chunks = Array.from({ length: payload.byteLength / 65536 }, (_, i) => payload.subarray(i * 65536, (i + 1) * 65536))
    const stream = await sender.dialProtocol(receiver.peerId, SINK_PROTOCOL)
    const before = { ...frames.of(stream) }
    await writeAll(stream, chunks)
    const sink = await sinkOf(stream)
    assert.equal(sink.bytes, payload.byteLength)
    assert.equal(sink.sha256, createHash('sha256').update(payload).digest('hex'), 'the bytes arrived in order, unaltered')
    // The sender can send its initial 256 KiB window plus what the receiver gives back, no more.
    const granted = frames.of(stream).windowBytes - before.windowBytes
    assert.ok(granted >= payload.byteLength - 256 * 1024, `window given back: ${granted} bytes`)
  })
})
