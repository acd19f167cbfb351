/**
 * Every way `dmm maar` can fail to start ends the process: it exits non-zero, prints one line on
 * stderr naming the config field or the resource, no stack trace, and leaves nothing running.
 * Separate processes, real ports, real LevelDB; a running MAAR holds the contested resources.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, apiPort, dmm, isRunning, makeDomain, p2pPort, startDaemon, stopDaemon, writeMaarConfig } from './daemons.js'
import type { ConfigOptions, Daemon, Domain, Run } from './daemons.js'

/** Generous: only a guard against a process that never ends. */
const HANG_GUARD_MS = 30_000

describe('dmm maar start-up failures', function () {
  this.timeout(HANG_GUARD_MS + 30_000)
  let dir: string
  let domain: Domain
  let running: Daemon
  let runningConfig: string
  const tried: Array<{ what: string, code: number | null, line: string }> = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-startup-'))
    domain = await makeDomain(dir, 2)
    runningConfig = await writeMaarConfig(domain, 1)
    running = await startDaemon(runningConfig)
  })

  after(async () => {
    await stopDaemon(running)
    await rm(dir, { recursive: true, force: true })
    process.stdout.write(`      start-up failures tried:\n${tried.map(t => `        ${t.what.padEnd(34)} exit ${String(t.code)}  ${t.line}`).join('\n')}\n`)
  })

  /** Starts MAAR 2 (or the given config) and checks the failure contract. */
  async function failsToStart (what: string, config: string, names: RegExp): Promise<Run> {
    const run = await dmm(['maar', '--config', config], HANG_GUARD_MS)
    const lines = run.stderr.split('\n').filter(l => l !== '')
    tried.push({ what, code: run.code, line: lines.join(' | ') })
    assert.equal(run.timedOut, false, `${what}: still running after ${HANG_GUARD_MS} ms (killed); stderr: ${run.stderr}`)
    assert.ok(run.code !== null && run.code !== 0, `${what}: exit code ${String(run.code)} (signal ${String(run.signal)})`)
    assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${run.stderr}`)
    assert.match(lines[0] ?? '', /^dmm: /)
    assert.doesNotMatch(run.stderr, /^\s+at /m, `${what}: no stack trace`)
    assert.match(lines[0] ?? '', names)
    assert.equal(run.stdout.includes('"ready":true'), false, `${what}: never announced ready`)
    // The running MAAR is unharmed and still answers.
    assert.equal(isRunning(running.child.pid ?? -1), true)
    assert.equal((await api(running, 'GET', '/status')).name, 'maar1')
    return run
  }

  const maar2 = async (file: string, o: ConfigOptions): Promise<string> => await writeMaarConfig(domain, 2, { file, dataDir: `data/${file}`, ...o })

  it('API port in use', async () => {
    await failsToStart('api port in use', await maar2('api-in-use.yaml', { apiPort: apiPort(running) }),
      new RegExp(`api\\.port: 127\\.0\\.0\\.1:${apiPort(running)} is already in use`))
  })

  it('p2p listen port in use', async () => {
    const taken = `/ip4/127.0.0.1/tcp/${p2pPort(running)}`
    await failsToStart('p2p listen port in use', await maar2('p2p-in-use.yaml', { listen: [taken] }),
      new RegExp(`listen: ${taken} is already in use`))
  })

  it('dataDir is a file', async () => {
    await writeFile(join(dir, 'a-file'), 'not a directory\n')
    await failsToStart('dataDir is a file', await maar2('datadir-file.yaml', { dataDir: 'a-file' }),
      /dataDir \S*a-file is not a directory/)
  })

  it('dataDir locked by a running MAAR (same config as the running daemon)', async () => {
    await failsToStart('dataDir locked by a running MAAR', runningConfig, /dataDir \S*data\/maar1 is in use by another MAAR/)
  })

  it('malformed operator public key', async () => {
    await failsToStart('malformed operator key', await maar2('bad-operator-key.yaml', { operatorPublicKey: 'CAESIA==' }),
      /domain\.operatorPublicKey: is not a public key/)
    await failsToStart('operator key not base64', await maar2('bad-operator-key.yaml', { operatorPublicKey: 'not a key!' }),
      /domain\.operatorPublicKey: must be base64/)
  })

  it('out-of-range ports', async () => {
    await failsToStart('api.port 70000', await maar2('api-port-range.yaml', { apiPort: 70000 }), /api\.port: must be an integer from 0 to 65535, got 70000/)
    await failsToStart('listen tcp/70000', await maar2('listen-port-range.yaml', { listen: ['/ip4/127.0.0.1/tcp/70000'] }),
      /listen\[0\]: .*tcp\/70000.* is not a valid multiaddr/)
  })

  it('with DMM_DEBUG=1 the one line is followed by the stack of the error behind it', async () => {
    const run = await dmm(['maar', '--config', runningConfig], HANG_GUARD_MS, { DMM_DEBUG: '1' })
    assert.notEqual(run.code, 0)
    assert.match(run.stderr.split('\n')[0] ?? '', /^dmm: dataDir \S*data\/maar1 is in use by another MAAR/)
    assert.match(run.stderr, /LOCK/, 'the stack of the lock error')
    assert.match(run.stderr, /^\s+at /m)
  })
})
