/**
 * `dmm maar` as an operable daemon, two separate OS processes: GET /metrics in Prometheus text
 * after a handover, JSON log lines on stderr with the MN and prefix as fields, the log level
 * re-read from the config file on SIGHUP, and `capture:` writing the PBU/PBA tshark reads.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, dialable, dmm, makeDomain, pollUntil, sessionVisible, startDaemon, stopDaemon, writeMaarConfig } from './daemons.js'
import type { Daemon, Domain } from './daemons.js'

interface LogLine { level: string, time: string, scope: string, msg: string, [field: string]: unknown }

/** Every stderr line of the daemon, each of which must be one JSON object. */
function logLines (d: Daemon): LogLine[] {
  return d.stderr().split('\n').filter(l => l !== '').map(l => {
    const parsed = JSON.parse(l) as LogLine
    assert.equal(typeof parsed.msg, 'string', l)
    assert.ok(['debug', 'info', 'warn', 'error'].includes(parsed.level), l)
    assert.ok(!Number.isNaN(Date.parse(parsed.time)), l)
    assert.ok(parsed.scope.startsWith('maar'), l)
    return parsed
  })
}

const MN = { mnId: 'observed@dmm.example', accessLink: 'access0', linkLayerId: '02:00:00:00:0c:01' }

describe('dmm maar: metrics, logs, SIGHUP, capture (separate processes)', function () {
  this.timeout(120_000)
  let dir = ''
  const daemons: Daemon[] = []
  const configs: string[] = []
  let handoverSequence = 0
  let domain: Domain | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-observability-daemon-'))
    domain = await makeDomain(dir, 2)
    for (let i = 1; i <= 2; i++) {
      const extra = ['log: { level: info, format: json }', `capture: maar${i}.pcap`]
      const config = await writeMaarConfig(domain, i, { bootstrap: daemons.map(dialable), extra })
      configs.push(config)
      daemons.push(await startDaemon(config))
    }
    const [d1, d2] = daemons as [Daemon, Daemon]
    const r1 = await api(d1, 'POST', '/attach', MN)
    assert.equal(r1.kind, 'first-attach')
    assert.ok(await sessionVisible(d2, MN.mnId, r1.sessionSequence), 'the session reached maar2')
    const r2 = await api(d2, 'POST', '/attach', MN)
    assert.equal(r2.kind, 'handover')
    handoverSequence = r2.sessionSequence
  })

  after(async () => {
    for (const d of daemons) await stopDaemon(d)
    await rm(dir, { recursive: true, force: true })
  })

  it('GET /metrics answers Prometheus text with the handover counted', async () => {
    const res = await fetch(new URL('/metrics', daemons[1]!.api))
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    assert.match(text, /^# HELP dmm_handovers_total /m)
    assert.match(text, /^# TYPE dmm_handovers_total counter$/m)
    assert.match(text, /^dmm_handovers_total\{kind="handover",outcome="complete"\} 1$/m)
    assert.match(text, /^dmm_pbas_total\{direction="received",status="ACCEPTED"\} 1$/m)
    assert.match(text, /^dmm_bindings\{role="serving"\} 1$/m)
    assert.match(text, /^dmm_dht_peers 1$/m)
    const anchor = await (await fetch(new URL('/metrics', daemons[0]!.api))).text()
    assert.match(anchor, /^dmm_pbas_total\{direction="sent",status="ACCEPTED"\} 1$/m)
    assert.match(anchor, /^dmm_bindings\{role="anchoring"\} 1$/m)
  })

  it('logs one JSON object a line, the MN and prefix as fields', async () => {
    const [d1, d2] = daemons as [Daemon, Daemon]
    const handover = logLines(d2).find(l => l.msg === 'handover')
    assert.ok(handover, d2.stderr())
    assert.equal(handover.mn, MN.mnId)
    assert.equal(handover.scope, 'maar2:serving')
    assert.match(String(handover.prefix), /^2001:db8:2:[0-9a-f:]*\/64$/)
    const anchoring = logLines(d1).find(l => l.msg === 'anchoring for new serving MAAR')
    assert.ok(anchoring, d1.stderr())
    assert.equal(anchoring.mn, MN.mnId)
    assert.equal(anchoring.serving, '2001:db8:ffff::2')
    assert.equal(logLines(d2).some(l => l.level === 'debug'), false, 'level info: no debug lines')
  })

  it('re-reads log.level from the config file on SIGHUP', async () => {
    const d2 = daemons[1]!
    const config = configs[1]!
    await writeFile(config, (await readFile(config, 'utf8')).replace('log: { level: info, format: json }', 'log: { level: debug, format: json }'))
    d2.child.kill('SIGHUP')
    const applied = await pollUntil(async () => logLines(d2).find(l => l.msg === 'log level set from config on SIGHUP'), 10_000)
    assert.ok(applied, d2.stderr())
    assert.equal(applied.logLevel, 'debug')
    // A new MN at maar2: each data plane change is logged at debug level.
    await api(d2, 'POST', '/attach', { ...MN, mnId: 'second@dmm.example' })
    assert.ok(logLines(d2).some(l => l.level === 'debug' && l.scope.startsWith('maar2')), d2.stderr())
  })

  it('keeps running with its level when SIGHUP finds the config file broken, and says why', async () => {
    const d1 = daemons[0]!
    const config = configs[0]!
    const good = await readFile(config, 'utf8')
    await writeFile(config, good.replace('log: { level: info, format: json }', 'log: { level: loud, format: json }').replace('lifetime: 3600', 'lifetime: [oops'))
    try {
      d1.child.kill('SIGHUP')
      const refused = await pollUntil(async () => logLines(d1).find(l => l.msg === 'SIGHUP: config not reloaded, log level unchanged'), 10_000)
      assert.ok(refused, d1.stderr())
      assert.equal(refused.level, 'warn')
      assert.equal(refused.file, config)
      assert.ok(String(refused.error).length > 0, 'the error says what is wrong')
      assert.equal((await api(d1, 'GET', '/status')).name, 'maar1', 'still serving')
    } finally {
      await writeFile(config, good)
    }
  })

  it('refuses to start when the capture file cannot be written, naming it', async () => {
    const config = await writeMaarConfig(domain!, 1, { file: 'bad-capture.yaml', dataDir: 'data/bad-capture', extra: ['capture: no-such-folder/maar1.pcap'] })
    const run = await dmm(['maar', '--config', config], 30_000)
    assert.notEqual(run.code, 0)
    assert.equal(run.stdout.includes('"ready":true'), false)
    assert.match(run.stderr.trim().split('\n').at(-1) ?? '', /^dmm: capture \S*no-such-folder\/maar1\.pcap: ENOENT/, run.stderr)
  })

  it('`capture:` writes the handover\'s PBU and PBA, which tshark reads', async function () {
    const probe = spawnSync('tshark', ['-v'], { encoding: 'utf8' })
    if (probe.error !== undefined || probe.status !== 0) {
      console.log(`      (skipped: tshark not runnable here: ${probe.error?.message ?? `exit ${String(probe.status)}`}; apt-get install tshark)`)
      this.skip()
    }
    const run = spawnSync('tshark', ['-r', join(dir, 'maar2.pcap'), '-T', 'fields', '-E', 'separator=,', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'mip6.mhtype', '-e', 'mip6.mnid.identifier', '-e', 'mip6.ba.status'], { encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    const rows = run.stdout.trim().split('\n').map(l => l.split(','))
    assert.deepEqual(rows.slice(0, 2), [
      ['2001:db8:ffff::2', '2001:db8:ffff::1', '5', MN.mnId, ''],
      ['2001:db8:ffff::1', '2001:db8:ffff::2', '6', MN.mnId, '0']
    ], `the handover (sequence ${handoverSequence}) as tshark reads it`)
  })
})
