/**
 * A commit's two durable steps (binding-cache.ts `commitInStages`): the batch on disk, then the
 * delegation ledger's append. A serving MAAR sends its PBUs on the first (doc/ARCHITECTURE.md
 * "A handover"), so a process killed between them must come back owning the prefix: not
 * quarantined, not handed to another MN. Real LevelDB, a child process killed with SIGKILL.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cp, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BindingCache, LEDGER_FILE, PrefixPool } from '../src/index.js'
import type { BindingCacheEntry } from '../src/index.js'
import { attachedEntry, tempDirs } from './fixtures.js'

const POOL = '2001:db8:7::/48'

const entry = (mnId: string, prefix: string): BindingCacheEntry => attachedEntry(mnId, [prefix])

/** Runs `body` in a child process holding `cache` (opened on `dir`), which then kills itself with SIGKILL. */
function runAndKill (dir: string, body: string): void {
  const index = fileURLToPath(new URL('../src/index.js', import.meta.url))
  const script = `
    const { BindingCache } = await import(${JSON.stringify(index)})
    const cache = await BindingCache.open(${JSON.stringify(dir)})
    ${body}
    process.kill(process.pid, 'SIGKILL')`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.equal(child.signal, 'SIGKILL', `child died by SIGKILL (stderr: ${child.stderr})`)
}

describe('BindingCache commit stages (real LevelDB, SIGKILL)', function () {
  const freshDir = tempDirs('dmm-bc-stages')

  it('killed once the batch is on disk, before the ledger append: the prefix is still the MN\'s, not quarantined, never drawn again', async () => {
    const killed = freshDir()
    const first = new PrefixPool([POOL]).nextFree(new Set())
    runAndKill(killed, `
      const { onDisk } = cache.commitInStages({ put: [${JSON.stringify(entry('mn1@x', first))}], allocate: [{ prefix: ${JSON.stringify(first)}, mnId: 'mn1@x' }] })
      await onDisk`)
    // The kill may land before or after the append reached the file; both must recover alike.
    // Without the line is the state a kill a moment earlier leaves.
    const ledgerText = await readFile(join(killed, LEDGER_FILE), 'utf8').catch(() => '')
    const withoutLine = freshDir()
    await cp(killed, withoutLine, { recursive: true })
    await writeFile(join(withoutLine, LEDGER_FILE), ledgerText.split('\n').filter(l => !l.includes(first)).join('\n'))
    for (const dir of [killed, withoutLine]) {
      const cache = await BindingCache.open(dir)
      try {
        assert.deepEqual(cache.report.problems, [], `no problem reported (${dir})`)
        assert.deepEqual([...(await cache.allocations())], [[first, 'mn1@x']], 'the prefix is the MN\'s and only its')
        assert.deepEqual(await cache.get('mn1@x'), entry('mn1@x', first))
        const next = new PrefixPool([POOL]).nextFree(new Set((await cache.allocations()).keys()))
        assert.notEqual(next, first, 'the next MN draws another prefix')
      } finally { await cache.close() }
      assert.ok((await readFile(join(dir, LEDGER_FILE), 'utf8')).includes(JSON.stringify({ op: '+', prefix: first, mnId: 'mn1@x' })), 'the open appended the allocation the ledger lacked')
    }
  })

  it('onDisk resolves before inLedger; both reject for a refused commit, and an unawaited rejection crashes nothing', async () => {
    const cache = await BindingCache.open(freshDir())
    try {
      const p = '2001:db8:7::/64'
      const order: string[] = []
      const stages = cache.commitInStages({ put: [entry('a@x', p)], allocate: [{ prefix: p, mnId: 'a@x' }] })
      await Promise.all([stages.onDisk.then(() => order.push('onDisk')), stages.inLedger.then(() => order.push('inLedger'))])
      assert.deepEqual(order, ['onDisk', 'inLedger'])
      const refused = cache.commitInStages({ put: [entry('b@x', p)], allocate: [{ prefix: p, mnId: 'b@x' }] })
      await assert.rejects(refused.onDisk, /already allocated|allocated to/)
      // inLedger is left unawaited: the process must not see an unhandled rejection.
      await new Promise(resolve => setTimeout(resolve, 20))
      assert.equal((await cache.allocations()).get(p), 'a@x')
    } finally { await cache.close() }
  })

  it('an unsynced commit is written and kept across SIGKILL, and a later synced one keeps both', async () => {
    const dir = freshDir()
    const p = '2001:db8:7::/64'
    runAndKill(dir, `
      await cache.commit({ put: [${JSON.stringify(entry('a@x', p))}], allocate: [{ prefix: ${JSON.stringify(p)}, mnId: 'a@x' }] })
      await cache.commit({ put: [${JSON.stringify({ ...entry('a@x', p), sessionSequence: 2 })}] }, { sync: false })
      await cache.commit({ put: [${JSON.stringify(entry('b@x', '2001:db8:7:1::/64'))}] })`)
    const cache = await BindingCache.open(dir)
    try {
      assert.equal((await cache.get('a@x'))?.sessionSequence, 2)
      assert.ok(await cache.get('b@x'))
      assert.equal((await cache.allocations()).get(p), 'a@x')
    } finally { await cache.close() }
  })
})
