import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CONTENDERS, buildTrace, engineOf, isPolicyContender, readScenario } from '../src/index.js'

const SCENARIOS = resolve(fileURLToPath(import.meta.url), '../../../../../scenarios')

describe('shipped scenarios', () => {
  it('every scenarios/*.yaml parses and gives a trace with moves', async () => {
    const files = (await readdir(SCENARIOS)).filter(f => f.endsWith('.yaml'))
    for (const name of ['small-domain', 'campus', 'highway', 'downtown', 'deregistration-variants', 'cmd-outage-hybrid', 'federation-crossings', 'federation-revoked', 'federation-cmd-dht', 'metro-scale', 'metro-scale-cmd']) assert.ok(files.includes(`${name}.yaml`), `${name}.yaml is shipped`)
    for (const f of files) {
      const s = await readScenario(join(SCENARIOS, f))
      assert.equal(`${s.name}.yaml`, f, 'a scenario is named after its file')
      assert.ok(buildTrace(s).events.some(e => e.kind === 'attach'), `${f} moves MNs`)
    }
  })

  it('small-domain compares every mode of the draft and the DHT; the variants file compares §3.5 (a) and (b)', async () => {
    const small = await readScenario(join(SCENARIOS, 'small-domain.yaml'))
    assert.deepEqual([...small.contenders].sort(), ['dht', 'hybrid', 'legacy', 'locator', 'proxy', 'relay'])
    const variants = await readScenario(join(SCENARIOS, 'deregistration-variants.yaml'))
    assert.ok(variants.contenders.some(c => c.endsWith('/a')) && variants.contenders.some(c => c.endsWith('/b')))
    assert.ok(variants.contenders.every(c => (CONTENDERS as readonly string[]).includes(c)))
    const outage = await readScenario(join(SCENARIOS, 'cmd-outage-hybrid.yaml'))
    assert.deepEqual(outage.faults.filter(f => f.kind === 'cmd-down').map(f => f.kind === 'cmd-down' ? f.forS : 0), [10])
    assert.ok(outage.contenders.includes('hybrid'))
  })

  it('metro-scale runs 200 MAARs on the scale engine, the DHT contender only', async () => {
    const metro = await readScenario(join(SCENARIOS, 'metro-scale.yaml'))
    assert.equal(engineOf(metro), 'scale')
    assert.ok(!Array.isArray(metro.maars) && metro.maars.count >= 200)
    assert.deepEqual(metro.contenders, ['dht'])
  })

  it('metro-scale-cmd is metro-scale with a CMD: the DHT against relay and proxy on the same 200 MAARs, walkers and faults', async () => {
    const metro = await readScenario(join(SCENARIOS, 'metro-scale.yaml'))
    const cmd = await readScenario(join(SCENARIOS, 'metro-scale-cmd.yaml'))
    assert.equal(engineOf(cmd), 'scale')
    assert.deepEqual(cmd.contenders, ['dht', 'relay', 'proxy'])
    assert.ok(cmd.cmd !== undefined)
    assert.deepEqual([cmd.maars, cmd.mns, cmd.faults, cmd.durationS, cmd.seed], [metro.maars, metro.mns, metro.faults, metro.durationS, metro.seed])
  })

  it('the federation files cross borders between two domains, one revokes an agreement, one pairs a CMD domain with a DHT domain', async () => {
    const crossings = await readScenario(join(SCENARIOS, 'federation-crossings.yaml'))
    assert.deepEqual(crossings.domains?.map(d => d.discovery), ['dht', 'dht'])
    assert.ok(crossings.contenders.every(c => isPolicyContender(c)))
    const revoked = await readScenario(join(SCENARIOS, 'federation-revoked.yaml'))
    assert.deepEqual(revoked.faults.map(f => f.kind), ['agreement-revoked'])
    const cmdDht = await readScenario(join(SCENARIOS, 'federation-cmd-dht.yaml'))
    assert.deepEqual(cmdDht.domains?.map(d => d.discovery), ['relay', 'dht'])
  })
})
