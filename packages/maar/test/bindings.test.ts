/**
 * Bindings (bindings.ts) on a real LevelDB binding cache and the memory data plane: the data plane
 * gets the whole state first, then only the MNs committed since, and the whole state again after
 * a failed apply (what is programmed is then in doubt).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BindingCache } from '@dmm-mesh/binding-cache'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { MemoryNetwork } from '@dmm-mesh/dataplane'
import type { ApplyOptions, DataPlane, DataPlaneState } from '@dmm-mesh/dataplane'
import { Bindings } from '../src/bindings.js'
import { createLogger, silentSink } from '../src/logger.js'

const SELF = { address: '2001:db8:ffff::1' }
const anchored = (i: number): BindingCacheEntry => ({
  mnId: `mn${i}@dmm.example`,
  localPrefixes: [`2001:db8:1:${i.toString(16)}::/64`],
  attached: false,
  servingMaar: { peerId: '12D3KooWpeer2', address: '2001:db8:ffff::2', multiaddrs: [] },
  remoteAnchors: [],
  lastUpdate: { sequence: 1, timestampMs: 1_700_000_000_000 },
  sessionSequence: 1,
  createdAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_000
})

describe('maar: Bindings gives the data plane the MNs it changed', () => {
  let dir: string
  let cache: BindingCache
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'dmm-bindings-test-')) })
  after(async () => { await cache?.close(); await rm(dir, { recursive: true, force: true }) })

  it('the whole state first, then the MNs committed since, the whole state again after a failure', async () => {
    cache = await BindingCache.open(join(dir, 'cache'))
    const memory = new MemoryNetwork().createDataPlane({ name: 'maar1', address: SELF.address, pools: ['2001:db8:1::/48'] })
    await memory.start()
    const calls: Array<{ mnIds: string[], only?: string[] }> = []
    let failNext = false
    const dataplane: DataPlane = {
      name: memory.name,
      start: async () => { await memory.start() },
      stop: async (opts) => { await memory.stop(opts) },
      current: () => memory.current(),
      apply: async (desired: DataPlaneState, opts?: ApplyOptions) => {
        calls.push({ mnIds: desired.downlinks.map(d => d.mnId), ...(opts?.only !== undefined ? { only: [...opts.only] } : {}) })
        if (failNext) { failNext = false; throw new Error('netlink busy') }
        return await memory.apply(desired, opts)
      }
    }
    const bindings = new Bindings(cache, dataplane, SELF, createLogger('maar1', silentSink))
    await bindings.commit({ put: [anchored(1), anchored(2), anchored(3)] })
    await bindings.program()
    assert.deepEqual(calls.pop(), { mnIds: ['mn1@dmm.example', 'mn2@dmm.example', 'mn3@dmm.example'] }, 'the whole state at first')

    await bindings.commit({ put: [{ ...anchored(2), servingMaar: { peerId: '12D3KooWpeer3', address: '2001:db8:ffff::3', multiaddrs: [] } }] })
    await bindings.program()
    assert.deepEqual(calls.pop(), { mnIds: ['mn2@dmm.example'], only: ['mn2@dmm.example'] })
    await bindings.commit({ delete: ['mn3@dmm.example'] })
    await bindings.program()
    assert.deepEqual(calls.pop(), { mnIds: [], only: ['mn3@dmm.example'] })
    assert.deepEqual(memory.current().downlinks.map(d => `${d.mnId} ${d.remote}`), ['mn1@dmm.example 2001:db8:ffff::2', 'mn2@dmm.example 2001:db8:ffff::3'])

    await bindings.commit({ put: [anchored(4)] })
    failNext = true
    await assert.rejects(bindings.program(), /netlink busy/)
    await bindings.program()
    assert.deepEqual(calls.pop(), { mnIds: ['mn1@dmm.example', 'mn2@dmm.example', 'mn4@dmm.example'] }, 'the whole state after a failure')
    assert.equal(memory.current().downlinks.length, 3)
  })
})
