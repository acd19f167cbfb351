/**
 * A mesh of MAARs in one process for a mocha suite: made in a temporary folder before the
 * suite, any MAAR a failed test left stopped started again after each test, everything removed
 * after the suite; MAARs by name (indices of mesh.maars shift while one is stopped) and an MN
 * moved by its link.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { createLocalMesh } from '../src/index.js'
import type { HandoverReport, LocalMaar, LocalMesh, LocalMeshOptions } from '../src/index.js'
import { restartStopped } from './fault-helpers.js'

export interface MeshFixture {
  readonly mesh: LocalMesh
  readonly dir: string
  /** maarN by name. */
  m: (i: number) => LocalMaar
  /** maarN's binding of the MN, if any. */
  binding: (i: number, mnId: string) => Promise<BindingCacheEntry | undefined>
  /** The MN's link comes up at maarN: the attach, and the publication waited for. */
  move: (mnId: string, i: number) => Promise<HandoverReport>
}

export function useMesh (name: string, options: Omit<LocalMeshOptions, 'dataDir'>, linkLayerId: string): MeshFixture {
  let mesh: LocalMesh | undefined
  let dir = ''
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), `dmm-${name}-test-`))
    mesh = await createLocalMesh({ ...options, dataDir: dir })
  })
  afterEach(async () => { await restartStopped(mesh, options.count) })
  after(async () => {
    await mesh?.stop()
    await rm(dir, { recursive: true, force: true })
  })
  const fixture: MeshFixture = {
    get mesh () {
      assert.ok(mesh, 'the mesh is up')
      return mesh
    },
    get dir () { return dir },
    m: i => {
      const found = fixture.mesh.maars.find(x => x.name === `maar${i}`)
      assert.ok(found, `maar${i} is running`)
      return found
    },
    binding: async (i, mnId) => (await fixture.m(i).maar.bindings()).find(e => e.mnId === mnId),
    move: async (mnId, i) => {
      fixture.mesh.network.attachMn(mnId, fixture.m(i).address)
      const report = await fixture.m(i).maar.attach({ mnId, accessLink: 'access0', linkLayerId })
      await fixture.m(i).maar.settled()
      return report
    }
  }
  return fixture
}
