/**
 * A federation scenario run by `dmm scenario run` as a separate process (issue 14: "an agreement
 * revoked mid-run"): two DHT domains, shuttles crossing the border, A revoking its agreement
 * accepting B half-way. Every handover is marked with its domains and whether it crossed; before
 * the revocation crossings into B carry A's prefixes without a refusal, after it A refuses them,
 * each refusal naming the agreement; the `--discovery` of a federation file must be a policy.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { HandoverSample, ScenarioReport } from '@dmm-mesh/scenario'
import { dmm } from './daemons.js'

const FIXTURE = resolve(fileURLToPath(import.meta.url), '../../fixtures/scenario-federation.yaml')
const DOMAIN_OF: Record<string, string> = { a1: 'a', a2: 'a', b1: 'b', b2: 'b' }

describe('dmm scenario run on a federation (as a process)', function () {
  this.timeout(240_000)
  let dir: string
  let report: ScenarioReport
  let html: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-scenario-federation-'))
    const out = join(dir, 'out')
    const run = await dmm(['scenario', 'run', FIXTURE, '--out', out], 200_000)
    assert.equal(run.code, 0, run.stderr)
    report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as ScenarioReport
    html = await readFile(join(out, 'report.html'), 'utf8')
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  const handovers = (): HandoverSample[] => report.contenders[0]?.handovers ?? []
  const revokedAt = (): number => {
    const f = report.contenders[0]?.faults.find(f => f.kind === 'agreement-revoked')
    assert.ok(f !== undefined, 'the revocation is not among the faults')
    assert.equal(f.target, 'a-accepts-b')
    return f.t
  }
  const intoB = (h: HandoverSample): boolean => h.crossBorder === true && h.domains?.from === 'a' && h.domains.to === 'b'

  it('marks every handover with its domains, and crossings of the border as such', () => {
    assert.deepEqual(report.contenders.map(c => [c.name, c.error]), [['tunnel', undefined]])
    assert.ok(handovers().length > 0)
    for (const h of handovers()) {
      assert.deepEqual(h.domains, { from: h.from === null ? null : DOMAIN_OF[h.from], to: DOMAIN_OF[h.to] }, JSON.stringify(h))
      assert.equal(h.crossBorder, h.from === null ? undefined : DOMAIN_OF[h.from] !== DOMAIN_OF[h.to], JSON.stringify(h))
    }
    // The shuttles cross, the local MN does not: both kinds are there, and summarised apart.
    const b = report.contenders[0]?.summary.byBorder
    assert.ok(b !== undefined && b.crossBorder.handovers > 0 && b.intraDomain.handovers > 0, JSON.stringify(b))
    assert.equal(b.crossBorder.handovers, handovers().filter(h => h.crossBorder === true).length)
  })

  it('carries A\'s prefixes into B without a refusal before the revocation', () => {
    // Ended before it: a crossing still in flight at the revocation may meet either answer.
    const before = handovers().filter(h => intoB(h) && h.t + h.latencyMs < revokedAt())
    assert.ok(before.length > 0, 'no crossing into B before the revocation')
    for (const h of before) {
      assert.equal(h.outcome, 'accepted', JSON.stringify(h))
      assert.equal(h.refusals, undefined, JSON.stringify(h))
    }
  })

  it('after the revocation, A refuses crossings into B, each refusal naming the agreement', () => {
    const after = handovers().filter(h => intoB(h) && h.t > revokedAt())
    const refused = after.filter(h => (h.refusals?.length ?? 0) > 0)
    assert.ok(refused.length > 0, `no crossing into B was refused after the revocation: ${JSON.stringify(after)}`)
    for (const h of refused) {
      for (const r of h.refusals ?? []) assert.match(r, /agreement a-accepts-b: revoked at /, JSON.stringify(h))
    }
    // A crossing that was not refused is one at a MAAR that still held the MN (nothing signalled across).
    for (const h of after.filter(h => h.refusals === undefined)) assert.equal(h.kind, 'refresh', JSON.stringify(h))
    // B's agreement accepting A stands: crossings back into A are never refused.
    for (const h of handovers().filter(h => h.crossBorder === true && h.domains?.to === 'a')) {
      assert.ok(!(h.refusals ?? []).some(r => r.includes('b-accepts-a')), JSON.stringify(h))
    }
  })

  it('writes the border table and the refusals into report.html', () => {
    assert.match(html, /<table id="border-table">/)
    assert.match(html, /<table id="refusals">.*agreement a-accepts-b: revoked at/s)
    assert.match(html, /data-plot="border-latency-cdf"/)
  })

  it('refuses a discovery mode as a contender of a federation file (exit 2)', async () => {
    const run = await dmm(['scenario', 'run', FIXTURE, '--discovery', 'dht', '--out', join(dir, 'never')])
    assert.equal(run.code, 2)
    assert.match(run.stderr, /--discovery: dht is not a cross-border policy \(tunnel, drop, bounded\), and .*scenario-federation\.yaml has domains/)
  })
})
