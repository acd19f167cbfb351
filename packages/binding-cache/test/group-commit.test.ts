/**
 * Group commit: commits that arrive together share one synced LevelDB batch, yet each is checked
 * and refused on its own, and every commit that resolved is on disk (killed with SIGKILL from
 * outside while commits keep coming).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { AllocationConflictError, BindingCache, InvalidEntryError } from '../src/index.js'
import type { BindingCacheEntry } from '../src/index.js'

function entry (mnId: string, prefix: string): BindingCacheEntry {
  return {
    mnId,
    localPrefixes: [prefix],
    attached: true,
    access: { link: 'access0', linkLayerId: '02:00:00:00:00:01', accessTechnology: 3 },
    remoteAnchors: [],
    lastUpdate: { sequence: 1, timestampMs: 1_700_000_000_000.5 },
    sessionSequence: 1,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000
  }
}
const prefixOf = (i: number): string => `2001:db8:1:${(i + 1).toString(16)}::/64`

describe('BindingCache group commit (real LevelDB in a temp dir)', function () {
  let root: string
  before(async () => { root = await mkdtemp(join(tmpdir(), 'dmm-bc-group-')) })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  it('commits issued together all land; a conflicting or invalid one is refused alone', async () => {
    const cache = await BindingCache.open(join(root, 'together'))
    try {
      await cache.commit({ put: [entry('old@x', prefixOf(0))], allocate: [{ prefix: prefixOf(0), mnId: 'old@x' }] })
      const outcomes = await Promise.allSettled([
        ...Array.from({ length: 40 }, async (_, i) => { await cache.commit({ put: [entry(`mn${i + 1}@x`, prefixOf(i + 1))], allocate: [{ prefix: prefixOf(i + 1), mnId: `mn${i + 1}@x` }] }) }),
        cache.commit({ put: [entry('thief@x', prefixOf(0))], allocate: [{ prefix: prefixOf(0), mnId: 'thief@x' }] }),
        cache.commit({ put: [{ ...entry('bad@x', prefixOf(99)), sessionSequence: -1 }] }),
        // Released by one and taken by the next, in the same wave: in that order, as one by one.
        cache.commit({ delete: ['old@x'], release: [prefixOf(0)] }),
        cache.commit({ put: [entry('new@x', prefixOf(0))], allocate: [{ prefix: prefixOf(0), mnId: 'new@x' }] })
      ])
      const rejected = outcomes.map((o, i) => ({ o, i })).filter(({ o }) => o.status === 'rejected')
      assert.deepEqual(rejected.map(({ i }) => i), [40, 41], 'only the thief and the invalid entry are refused')
      assert.ok((rejected[0]?.o as PromiseRejectedResult).reason instanceof AllocationConflictError)
      assert.ok((rejected[1]?.o as PromiseRejectedResult).reason instanceof InvalidEntryError)
    } finally { await cache.close() }
    const again = await BindingCache.open(join(root, 'together'))
    try {
      const owners = await again.allocations()
      for (let i = 1; i <= 40; i++) assert.equal(owners.get(prefixOf(i)), `mn${i}@x`)
      assert.equal(owners.get(prefixOf(0)), 'new@x')
      assert.equal(await again.get('old@x'), undefined)
      assert.equal(await again.get('thief@x'), undefined)
      assert.equal(await again.get('bad@x'), undefined)
      assert.equal((await again.get('mn7@x'))?.lastUpdate.timestampMs, 1_700_000_000_000.5, 'a timestamp with a fraction of a ms is kept')
    } finally { await again.close() }
  })

  it('every commit that resolved survives SIGKILL from outside while commits keep coming', async function () {
    const dir = join(root, 'killed')
    const index = fileURLToPath(new URL('../src/index.js', import.meta.url))
    // Waves of 25 concurrent commits; each resolved one is printed at once.
    const script = `
      const { BindingCache } = await import(${JSON.stringify(index)})
      const cache = await BindingCache.open(${JSON.stringify(dir)})
      const entry = ${entry.toString()}
      const prefixOf = ${prefixOf.toString()}
      for (let wave = 0; ; wave++) {
        await Promise.all(Array.from({ length: 25 }, async (_, j) => {
          const i = wave * 25 + j
          await cache.commit({ put: [entry('mn' + i + '@x', prefixOf(i))], allocate: [{ prefix: prefixOf(i), mnId: 'mn' + i + '@x' }] })
          process.stdout.write(i + '\\n')
        }))
      }`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
    const acked: number[] = []
    const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, signal) => { resolve(signal) }))
    for await (const line of createInterface({ input: child.stdout })) {
      acked.push(Number(line))
      if (acked.length === 300) child.kill('SIGKILL')
    }
    assert.equal(await exited, 'SIGKILL', `child killed while committing (stderr: ${stderr})`)
    assert.ok(acked.length >= 300)
    const cache = await BindingCache.open(dir)
    try {
      const owners = await cache.allocations()
      for (const i of acked) {
        assert.deepEqual(await cache.get(`mn${i}@x`), entry(`mn${i}@x`, prefixOf(i)), `acknowledged commit ${i} lost`)
        assert.equal(owners.get(prefixOf(i)), `mn${i}@x`)
      }
      // Nothing half written: an entry on disk has its allocation, and the other way round.
      const entries = await cache.list()
      for (const e of entries) assert.equal(owners.get(e.localPrefixes[0] ?? ''), e.mnId)
      assert.equal(owners.size, entries.length)
      assert.deepEqual(cache.report.problems, [])
      assert.equal(cache.report.quarantined.size, 0)
    } finally { await cache.close() }
  })
})
