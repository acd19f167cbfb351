/**
 * What libp2p's connection stack (TCP + noise + yamux, as mesh-node.ts sets it up; doc/ARCHITECTURE.md
 * "Connection stack") costs per small message: two mesh nodes in this process on loopback, one
 * stream, a PBU-sized message (152 octets) echoed back, `window` messages in flight; the process's
 * CPU per echoed message (both ends) and the writes handed to the kernel per message (net.Socket
 * `_writeGeneric` calls: one write or writev each).
 *
 *   npx tsc -b bench && npx node bench/dist/stack.js [--windows 1,64] [--messages 20000]
 */
import net from 'node:net'
import { parseArgs } from 'node:util'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Stream } from '@libp2p/interface'
import { TrustStore, createMeshNode, generateKey, issueCertificate } from '@dmm-mesh/discovery'
import { writeResults } from './stats.js'

const { values } = parseArgs({ options: { windows: { type: 'string', default: '1,64' }, messages: { type: 'string', default: '20000' } } })
const windows = values.windows.split(',').map(Number)
const messages = Number(values.messages)
if (!windows.every(w => Number.isInteger(w) && w >= 1) || !Number.isInteger(messages) || messages < 1) {
  process.stderr.write('usage: stack.js [--windows 1,64] [--messages 20000]\n')
  process.exit(2)
}

const ECHO = '/dmm-bench/echo/1.0.0'
const MESSAGE = 152

/** Counts the writes net.Socket hands to the kernel (undefined if this Node has no _writeGeneric). */
function countKernelWrites (): () => number | undefined {
  const proto = net.Socket.prototype as unknown as { _writeGeneric?: (...args: unknown[]) => unknown }
  const original = proto._writeGeneric
  if (typeof original !== 'function') return () => undefined
  let writes = 0
  proto._writeGeneric = function (this: unknown, ...args: unknown[]) { writes++; return original.apply(this, args) }
  return () => writes
}

async function member (operator: Awaited<ReturnType<typeof generateKey>>, trust: TrustStore, i: number): Promise<{ key: Awaited<ReturnType<typeof generateKey>>, certificate: Uint8Array }> {
  const key = await generateKey()
  const certificate = await issueCertificate(operator, { domain: 'dmm.example', peerId: peerIdFromPrivateKey(key).toString(), pools: [`2001:db8:${i}::/48`], addresses: [`2001:db8:ffff::${i}`], notAfter: Date.now() + 3600_000 })
  return { key, certificate }
}

/** Sends `count` messages keeping `window` in flight; resolves when every echo is back. */
async function echoRun (stream: Stream, window: number, count: number): Promise<void> {
  const message = new Uint8Array(MESSAGE).fill(7)
  let sent = 0
  let echoedBytes = 0
  const done = new Promise<void>((resolve, reject) => {
    stream.addEventListener('message', evt => {
      echoedBytes += evt.data.byteLength
      while (sent < count && sent * MESSAGE - echoedBytes < window * MESSAGE) { stream.send(message); sent++ }
      if (echoedBytes >= count * MESSAGE) resolve()
    })
    stream.addEventListener('close', () => { reject(new Error('echo stream closed early')) })
  })
  while (sent < Math.min(window, count)) { stream.send(message); sent++ }
  await done
}

const writes = countKernelWrites()
const operator = await generateKey()
const trust = TrustStore.fromOperatorKeys([{ domain: 'dmm.example', publicKey: operator.publicKey }])
const [a, b] = [await member(operator, trust, 1), await member(operator, trust, 2)]
const server = await createMeshNode({ privateKey: b.key, certificate: b.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], trust })
await server.handle(ECHO, stream => { stream.addEventListener('message', evt => { stream.send(evt.data) }) })
const client = await createMeshNode({ privateKey: a.key, certificate: a.certificate, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: server.getMultiaddrs().map(m => m.toString()), trust })

const results: Array<{ window: number, messages: number, cpuUsPerMessage: number, kernelWritesPerMessage?: number, messagesPerSecond: number }> = []
for (const window of windows) {
  const stream = await client.dialProtocol(server.peerId, ECHO)
  await echoRun(stream, window, Math.min(1000, messages)) // warm-up
  const cpu0 = process.cpuUsage()
  const writes0 = writes()
  const t0 = performance.now()
  await echoRun(stream, window, messages)
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const writes1 = writes()
  const figures = {
    window,
    messages,
    cpuUsPerMessage: Math.round((cpu.user + cpu.system) / messages * 10) / 10,
    ...(writes0 !== undefined && writes1 !== undefined ? { kernelWritesPerMessage: Math.round((writes1 - writes0) / messages * 100) / 100 } : {}),
    messagesPerSecond: Math.round(messages / ms * 1000)
  }
  results.push(figures)
  process.stdout.write(`${String(window).padStart(4)} in flight: ${figures.messagesPerSecond} echoes/s, CPU ${figures.cpuUsPerMessage} µs per echoed ${MESSAGE}-octet message (both ends), ${figures.kernelWritesPerMessage ?? 'n/a'} kernel writes per message\n`)
  await stream.close()
}
await client.stop()
await server.stop()
process.stdout.write(`results written to ${await writeResults('stack', results)}\n`)
