/** The daemon's pino logger behind the project's Logger interface: JSON lines, pretty lines, a level that changes at run time. */
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { createDaemonLog } from '@dmm-mesh/cli'
import type { LogFormat } from '@dmm-mesh/cli'

function capture (format: LogFormat): { lines: () => string[], daemon: ReturnType<typeof createDaemonLog> } {
  let text = ''
  const destination = new PassThrough()
  destination.on('data', (d: Buffer) => { text += d.toString() })
  const daemon = createDaemonLog({ scope: 'maar1', level: 'info', format, destination })
  return { lines: () => text.split('\n').filter(l => l !== ''), daemon }
}

const settle = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('daemon log (pino)', () => {
  it('writes one JSON object a line: level, time, scope, msg, and the fields as JSON fields', async () => {
    const { lines, daemon } = capture('json')
    daemon.log.child('pmip').warn('rejected PMIP peer: not a MAAR of the domain', { peer: '12D3KooWxyz', reason: 'address 2001:db8::9 is not certified', prefix: '2001:db8:1:1::/64', n: 3 })
    await settle()
    const [line] = lines()
    assert.ok(line)
    const parsed = JSON.parse(line) as Record<string, unknown>
    assert.deepEqual(Object.keys(parsed).sort(), ['level', 'msg', 'n', 'peer', 'prefix', 'reason', 'scope', 'time'])
    assert.equal(parsed.level, 'warn')
    assert.equal(parsed.scope, 'maar1:pmip')
    assert.equal(parsed.msg, 'rejected PMIP peer: not a MAAR of the domain')
    assert.equal(parsed.peer, '12D3KooWxyz')
    assert.equal(parsed.n, 3)
    assert.ok(!Number.isNaN(Date.parse(String(parsed.time))))
  })

  it('drops lines below its level, for every child, and follows a level set later', async () => {
    const { lines, daemon } = capture('json')
    const child = daemon.log.child('anchor')
    child.debug('dataplane', { change: 'route add' })
    daemon.log.info('started')
    daemon.setLevel('debug')
    child.debug('dataplane', { change: 'route del' })
    daemon.setLevel('error')
    child.warn('ignored')
    await settle()
    assert.deepEqual(lines().map(l => (JSON.parse(l) as { msg: string, change?: string }).change ?? (JSON.parse(l) as { msg: string }).msg), ['started', 'route del'])
    assert.equal(daemon.level(), 'error')
  })

  it('pretty format: one human-readable line an event, scope and message first, fields after', async () => {
    const { lines, daemon } = capture('pretty')
    daemon.log.child('serving').info('handover', { mn: 'alice@dmm.example', prefix: '2001:db8:2:1::/64' })
    await settle()
    const text = lines().join('\n')
    assert.match(text, /INFO.*\[maar1:serving\] handover/)
    assert.equal(lines().length, 1, text)
    assert.match(text, /"mn":"alice@dmm\.example"/)
    assert.doesNotThrow(() => lines().forEach(l => { if (l.startsWith('{')) throw new Error(`a JSON line in pretty mode: ${l}`) }))
  })
})
