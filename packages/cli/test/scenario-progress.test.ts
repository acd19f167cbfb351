import assert from 'node:assert/strict'
import { progressPrinter } from '../src/cmds/scenario.js'
import type { RunProgress } from '@dmm-mesh/scenario'

const steps: RunProgress[] = [
  { contender: 'dht', index: 1, of: 2, phase: 'starting', fraction: 0 },
  { contender: 'dht', index: 1, of: 2, phase: 'running', fraction: 0.5 },
  { contender: 'dht', index: 1, of: 2, phase: 'running', fraction: 0.6 },
  { contender: 'dht', index: 1, of: 2, phase: 'done', fraction: 1 }
]

describe('dmm scenario run progress', () => {
  it('redraws one bar in place on a terminal, ending the line when a contender is done', () => {
    let written = ''
    const print = progressPrinter({ isTTY: true, write: s => { written += s } })
    steps.forEach(print)
    assert.equal(written.split('\r').length - 1, 4)
    assert.match(written, /\r\[#{15}-{15}\]  50% dht \(1\/2\) running/)
    assert.match(written, /\r\[#{30}\] 100% dht \(1\/2\) done\x1b\[K\n$/)
  })

  it('prints one line per contender and phase elsewhere (a log, a pipe)', () => {
    let written = ''
    const print = progressPrinter({ isTTY: false, write: s => { written += s } })
    steps.forEach(print)
    assert.deepEqual(written.trim().split('\n'), ['dmm scenario: dht (1/2) starting', 'dmm scenario: dht (1/2) running', 'dmm scenario: dht (1/2) done'])
  })
})
