/** `dmm maar --log-level/--capture` win over the config's log.level and capture. */
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { parseMaarConfig } from '../src/config.js'
import { withOverrides } from '../src/commands/maar.js'

const CONFIG = `name: maar1
identity: k
certificate: c
domain: { name: dmm.example, operatorPublicKey: "CAESIBhto4Ai1bhjC9r2fCDmQJH1hmX+1uMwq0e36nmk3CBW" }
listen: [/ip4/127.0.0.1/tcp/4001]
address: 2001:db8:ffff::1
pools: [2001:db8:1::/48]
dataDir: data
log: { level: warn, format: pretty }
capture: from-config.pcap
`

describe('dmm maar options over the config', () => {
  const config = parseMaarConfig(CONFIG, '/etc/dmm/maar1.yaml')

  it('keeps the config when no option is given', () => {
    assert.deepEqual(withOverrides(config, {}), config)
    assert.equal(config.capture, '/etc/dmm/from-config.pcap')
  })

  it('--log-level replaces log.level only; --capture is taken relative to the working directory', () => {
    const c = withOverrides(config, { logLevel: 'debug', capture: 'here.pcap' })
    assert.deepEqual(c.log, { level: 'debug', format: 'pretty' })
    assert.equal(c.capture, resolve('here.pcap'))
    assert.equal(c.name, 'maar1')
  })
})
