/**
 * Runs every benchmark in turn (each prints its figures and writes bench/results/<name>.json).
 *   npm run bench             all of them
 *   npm run bench -- wire     only the named ones
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const ALL = ['wire', 'stack', 'storage', 'dataplane', 'lookup', 'handover', 'cmd-modes', 'netns-handover', 'throughput', 'anchor-rate', 'goals']
// Run only when named: minutes each, and capacity needs root for its CPU quotas.
const ON_REQUEST = ['capacity', 'scale']
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ALL
let failed = 0
for (const name of wanted) {
  const script = join(here, `${name}.js`)
  if (![...ALL, ...ON_REQUEST].includes(name) || !existsSync(script)) {
    process.stderr.write(`bench: no benchmark ${JSON.stringify(name)} (have: ${[...ALL, ...ON_REQUEST].filter(n => existsSync(join(here, `${n}.js`))).join(', ')})\n`)
    failed++
    continue
  }
  process.stdout.write(`\n=== ${name} ===\n`)
  const run = spawnSync(process.execPath, [script], { stdio: 'inherit' })
  if (run.status !== 0) failed++
}
process.exitCode = failed === 0 ? 0 : 1
