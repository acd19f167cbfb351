/**
 * describeFailure turns the real errors of a failed start (a taken port, a locked LevelDB, a data
 * folder that is a file) into one line naming the config field or resource, also when a start-up
 * step has wrapped them as the cause of its own error.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BindingCache } from '@dmm-mesh/binding-cache'
import { CliError, CommandFailure, describeFailure } from '../src/errors.js'

async function caught (work: () => Promise<unknown>): Promise<Error> {
  try {
    await work()
  } catch (err) {
    assert.ok(err instanceof Error)
    return err
  }
  assert.fail('expected a failure')
}

/** As a start-up step reports a part that failed: its own message, the part's error as cause. */
const wrapped = (resource: string, cause: Error): Error => new Error(`${resource}: ${cause.message}`, { cause })

describe('describeFailure', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'dmm-errors-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('a port in use: the address, and api.port when it is the API port', async () => {
    const first = createServer()
    await new Promise<void>(resolve => first.listen(0, '127.0.0.1', resolve))
    const port = (first.address() as { port: number }).port
    const second = createServer()
    const err = await caught(async () => { await new Promise<void>((resolve, reject) => { second.once('error', reject); second.listen(port, '127.0.0.1', resolve) }) })
    first.close()
    assert.equal(describeFailure(err, { api: { host: '127.0.0.1', port } }), `api.port: 127.0.0.1:${port} is already in use by another process`)
    assert.equal(describeFailure(wrapped('api', err)), `127.0.0.1:${port} is already in use by another process`)
  })

  it('a binding cache held by another opener: the dataDir is in use by another MAAR', async () => {
    const dataDir = join(dir, 'data')
    const holder = await BindingCache.open(join(dataDir, 'binding-cache'))
    try {
      const err = await caught(async () => { await BindingCache.open(join(dataDir, 'binding-cache')) })
      const line = `dataDir ${dataDir} is in use by another MAAR (its binding cache is locked)`
      assert.equal(describeFailure(err, { dataDir }), line)
      assert.equal(describeFailure(wrapped(`binding cache ${dataDir}/binding-cache`, err), { dataDir }), line)
      assert.match(describeFailure(err), /binding-cache(\/LOCK)? is locked: in use by another process/)
    } finally {
      await holder.close()
    }
  })

  it('a dataDir that is a file, or under one', async () => {
    const file = join(dir, 'a-file')
    await writeFile(file, 'x')
    const exists = await caught(async () => { await mkdir(file, { recursive: true }) })
    assert.equal(describeFailure(exists, { dataDir: file }), `dataDir ${file} is not a directory (EEXIST on ${file})`)
    const under = await caught(async () => { await mkdir(join(file, 'binding-cache'), { recursive: true }) })
    assert.match(describeFailure(wrapped('binding cache', under), { dataDir: file }), new RegExp(`^dataDir ${file} is not a directory \\((ENOTDIR|EEXIST) `))
  })

  it('anything else: the first line of its message; the user\'s errors as they are', () => {
    assert.equal(describeFailure(new Error('MAAR start: boom\n  at somewhere')), 'MAAR start: boom')
    assert.equal(describeFailure(new CliError('--config is required')), '--config is required')
    assert.equal(describeFailure(new CommandFailure('listen: x', new Error('y'))), 'listen: x')
    assert.equal(describeFailure('a string'), 'a string')
  })
})
