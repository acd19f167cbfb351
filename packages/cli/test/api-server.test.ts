/**
 * The management API refuses what it cannot take as sent: wrong JSON types are not coerced into
 * fields, unknown fields are not ignored, and every refusal is a 400 naming the field. A real
 * MAAR behind it (libp2p, LevelDB, memory data plane).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalMesh } from '@dmm-mesh/maar'
import type { LocalMesh } from '@dmm-mesh/maar'
import { listenApi, startApiServer } from '../src/api-server.js'
import type { Server } from 'node:http'

const GOOD = { mnId: 'alice@dmm.example', accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' }

describe('management API', function () {
  this.timeout(30_000)
  let dir: string
  let mesh: LocalMesh
  let server: Server
  let url: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-api-'))
    mesh = await createLocalMesh({ count: 2, dataDir: dir })
    const maar = mesh.maars[0]?.maar
    assert.ok(maar)
    ;({ server, url } = await startApiServer(maar, '127.0.0.1', 0))
  })

  after(async () => {
    server.close()
    await mesh.stop()
    await rm(dir, { recursive: true, force: true })
  })

  async function post (path: string, body: unknown): Promise<{ status: number, json: any }> {
    const res = await fetch(new URL(path, url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, json: await res.json() }
  }

  async function refused (path: string, body: unknown, field: RegExp): Promise<void> {
    const { status, json } = await post(path, body)
    assert.equal(status, 400, `${path} ${JSON.stringify(body)} -> ${status} ${JSON.stringify(json)}`)
    assert.match(json.error, field)
  }

  it('refuses attach fields of the wrong JSON type instead of coercing them', async () => {
    await refused('/attach', { ...GOOD, mnId: true }, /^mnId must be a non-empty string, got true/)
    await refused('/attach', { ...GOOD, mnId: 7 }, /^mnId must be a non-empty string, got 7/)
    await refused('/attach', { ...GOOD, accessLink: {} }, /^accessLink must be a non-empty string, got \{\}/)
    await refused('/attach', { ...GOOD, accessLink: true }, /^accessLink must be a non-empty string, got true/)
    await refused('/attach', { ...GOOD, linkLayerId: 7 }, /^linkLayerId must be a non-empty string, got 7/)
    await refused('/attach', { mnId: GOOD.mnId, accessLink: 'access0' }, /^linkLayerId must be a non-empty string$/)
    await refused('/attach', { ...GOOD, accessTechnology: '7' }, /^accessTechnology must be an integer, got "7"/)
    await refused('/attach', { ...GOOD, accessTechnology: true }, /^accessTechnology must be an integer, got true/)
    await refused('/attach', { ...GOOD, accessTechnology: {} }, /^accessTechnology must be an integer, got \{\}/)
    await refused('/attach', { ...GOOD, accessTechnology: 2.5 }, /^accessTechnology must be an integer, got 2.5/)
    // Nothing of the refused attaches reached the binding cache.
    assert.deepEqual(await (await fetch(new URL('/bindings', url))).json(), [])
  })

  it('refuses unknown fields, naming them', async () => {
    await refused('/attach', { ...GOOD, accesLink: 'typo' }, /^unknown field "accesLink"/)
    await refused('/detach', { mnId: GOOD.mnId, force: true }, /^unknown field "force"/)
    await refused('/deregister', { mnId: GOOD.mnId, reason: 'x' }, /^unknown field "reason"/)
    await refused('/detach', { mnId: 7 }, /^mnId must be a non-empty string, got 7/)
    await refused('/deregister', {}, /^mnId must be a non-empty string$/)
  })

  it('refuses bodies that are not one JSON object, empty strings and nulls, by schema', async () => {
    await refused('/attach', [GOOD], /^body must be a JSON object/)
    await refused('/attach', 'alice', /^body must be a JSON object/)
    await refused('/attach', { ...GOOD, mnId: '' }, /^mnId must be a non-empty string, got ""$/)
    await refused('/attach', { ...GOOD, accessTechnology: null }, /^accessTechnology must be an integer, got null$/)
    await refused('/detach', { mnId: null }, /^mnId must be a non-empty string, got null$/)
    await refused('/attach', { ...GOOD, accesLink: 'typo' }, /\(known: mnId, accessLink, linkLayerId, accessTechnology\)$/)
    const res = await fetch(new URL('/attach', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"mnId": ' })
    assert.equal(res.status, 400)
    assert.match(((await res.json()) as { error: string }).error, /^body must be a JSON object/)
  })

  it('takes a well-typed attach, with an integer access technology', async () => {
    const { status, json } = await post('/attach', { ...GOOD, accessTechnology: 4 })
    assert.equal(status, 200, JSON.stringify(json))
    assert.equal(json.kind, 'first-attach')
    const bindings = await (await fetch(new URL('/bindings', url))).json() as Array<{ access?: { accessTechnology: number } }>
    assert.equal(bindings[0]?.access?.accessTechnology, 4)
  })

  it('holds its port from listenApi on, answering 503 until it serves a MAAR', async () => {
    const early = await listenApi('127.0.0.1', 0)
    try {
      const res = await fetch(new URL('/status', early.url))
      assert.equal(res.status, 503)
      assert.match(((await res.json()) as { error: string }).error, /starting/)
      const maar = mesh.maars[0]?.maar
      assert.ok(maar)
      early.serve(maar)
      const status = await (await fetch(new URL('/status', early.url))).json() as { name: string }
      assert.equal(status.name, maar.name)
    } finally {
      early.server.close()
    }
  })
})
