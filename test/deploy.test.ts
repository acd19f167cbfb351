/**
 * deploy/: the example /etc/dmm/maar.yaml parses with the parser `dmm maar` uses, and the systemd
 * unit passes `systemd-analyze verify` (with /opt/dmm-mesh pointed at this checkout, so that the
 * check also proves ExecStart names files a build produces).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseMaarConfig } from '@dmm-mesh/cli'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
const DEPLOY = join(ROOT, 'deploy')
const run = promisify(execFile)

describe('deploy/', function () {
  this.timeout(30_000)

  it('maar.yaml, the example /etc/dmm/maar.yaml, parses and keeps its paths under /etc/dmm', async () => {
    const config = parseMaarConfig(await readFile(join(DEPLOY, 'maar.yaml'), 'utf8'), '/etc/dmm/maar.yaml')
    assert.equal(config.identity, '/etc/dmm/maar.key')
    assert.equal(config.certificate, '/etc/dmm/maar.cert')
    assert.equal(config.dataDir, '/var/lib/dmm/maar1')
    assert.equal(config.api.host, '127.0.0.1')
    // The unit's RuntimeDirectory=dmm is where radvd's files go.
    assert.ok(config.dataplane.driver === 'linux' && config.dataplane.runDir === '/run/dmm', JSON.stringify(config.dataplane))
  })

  it('dmm-maar.service passes systemd-analyze verify and reloads with SIGHUP', async function () {
    const unit = await readFile(join(DEPLOY, 'dmm-maar.service'), 'utf8')
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m)
    assert.match(unit, /^ExecStart=\S+ \S+\/bin\.js maar --config \/etc\/dmm\/maar\.yaml$/m)
    try {
      await run('systemd-analyze', ['--version'])
    } catch {
      console.log('    skipped the verify step: systemd-analyze is missing (Debian package systemd)')
      this.skip()
    }
    const dir = await mkdtemp(join(tmpdir(), 'dmm-unit-'))
    try {
      const file = join(dir, 'dmm-maar.service')
      await writeFile(file, unit.replaceAll('/opt/dmm-mesh', ROOT))
      // verify exits non-zero when ExecStart is not executable, and warns (exit 0) about unknown or
      // misplaced directives: both name the file. Messages about the host's other units are not ours.
      const result = await run('systemd-analyze', ['verify', '--man=no', file]).then(r => ({ code: 0, stderr: r.stderr }),
        (err: { code?: number, stderr?: string }) => ({ code: err.code ?? -1, stderr: err.stderr ?? '' }))
      const ours = result.stderr.split('\n').filter(line => line.includes('dmm-maar.service'))
      assert.deepEqual(ours, [], result.stderr)
      assert.equal(result.code, 0, result.stderr)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
