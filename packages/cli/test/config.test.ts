import assert from 'node:assert/strict'
import { parseMaarConfig, ConfigError } from '../src/config.js'

const GOOD = `
name: maar1
identity: keys/maar1.key
certificate: keys/maar1.cert
domain: { name: dmm.example, operatorPublicKey: "CAESIBhto4Ai1bhjC9r2fCDmQJH1hmX+1uMwq0e36nmk3CBW" }
listen: [/ip4/127.0.0.1/tcp/4001]
bootstrap: []
address: 2001:DB8:FFFF:0::1
pools: [2001:db8:1::/48]
dataDir: data/maar1
`

function rejects (yaml: string, field: string, why: RegExp, line?: number): void {
  assert.throws(() => parseMaarConfig(yaml, '/etc/dmm/maar1.yaml'), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `ConfigError, got ${String(err)}`)
    assert.equal(err.field, field)
    assert.match(err.message, why)
    if (line !== undefined) {
      assert.equal(err.line, line, `line of ${field} in:\n${yaml}`)
      assert.ok(err.message.startsWith(`/etc/dmm/maar1.yaml:${line}: ${field}: `), err.message)
    }
    return true
  })
}

/** GOOD with one field per line (block style), so that every field has a line of its own. */
const BLOCK = `name: maar1
identity: keys/maar1.key
certificate: keys/maar1.cert
domain:
  name: dmm.example
  operatorPublicKey: "CAESIBhto4Ai1bhjC9r2fCDmQJH1hmX+1uMwq0e36nmk3CBW"
listen:
  - /ip4/127.0.0.1/tcp/4001
address: 2001:db8:ffff::1
pools:
  - 2001:db8:1::/48
dataDir: data/maar1
api:
  host: 127.0.0.1
  port: 7001
`

describe('dmm maar config', () => {
  it('parses a good config with defaults, canonical addresses and paths relative to the file', () => {
    const c = parseMaarConfig(GOOD, '/etc/dmm/maar1.yaml')
    assert.equal(c.address, '2001:db8:ffff::1')
    assert.equal(c.identity, '/etc/dmm/keys/maar1.key')
    assert.equal(c.dataDir, '/etc/dmm/data/maar1')
    assert.equal(c.prefixLength, 64)
    assert.equal(c.lifetime, 3600)
    assert.equal(c.timestampWindow, 300, 'RFC 5213 TimestampValidityWindow default')
    assert.deepEqual(c.dataplane, { driver: 'memory' })
    assert.deepEqual(c.api, { host: '127.0.0.1', port: 0 })
  })

  it('reads the linux data-plane section', () => {
    const c = parseMaarConfig(GOOD + 'dataplane: { driver: linux, backboneInterface: bb0, tunnelKind: ip6tnl, dlif: true }\n', '/x/y.yaml')
    assert.equal(c.dataplane.driver, 'linux')
    if (c.dataplane.driver === 'linux') {
      assert.equal(c.dataplane.tunnelKind, 'ip6tnl')
      assert.equal(c.dataplane.dlif, true)
      assert.equal(c.dataplane.radvd, true)
    }
  })

  it('names the wrong field and says why', () => {
    rejects('name: [', '(file)', /not valid YAML/)
    rejects('- a\n- b\n', '(file)', /mapping/)
    rejects(GOOD.replace('name: maar1\n', ''), 'name', /required/)
    rejects(GOOD + 'colour: blue\n', 'colour', /unknown field/)
    rejects(GOOD.replace('2001:DB8:FFFF:0::1', '2001:db8::g'), 'address', /bad group/)
    rejects(GOOD.replace('[2001:db8:1::/48]', '[2001:db8:1::1/48]'), 'pools[0]', /host bits/)
    rejects(GOOD.replace('[2001:db8:1::/48]', '[]'), 'pools', /non-empty list/)
    rejects(GOOD + 'lifetime: 10\n', 'lifetime', /multiple of 4/)
    rejects(GOOD + 'prefixLength: 200\n', 'prefixLength', /1 to 128/)
    rejects(GOOD + 'timestampWindow: -5\n', 'timestampWindow', /0 to 60000/)
    rejects(GOOD.replace('/ip4/127.0.0.1/tcp/4001', '127.0.0.1:4001'), 'listen[0]', /not a multiaddr/)
    rejects(GOOD + 'dataplane: { driver: ebpf }\n', 'dataplane.driver', /memory or linux/)
    rejects(GOOD + 'dataplane: { driver: linux }\n', 'dataplane.backboneInterface', /required/)
    rejects(GOOD + 'dataplane: { driver: linux, backboneInterface: bb0, tunnelKind: gre }\n', 'dataplane.tunnelKind', /seg6 or ip6tnl/)
    rejects(GOOD + 'api: { host: 0.0.0.0 }\n', 'api.host', /loopback/)
    rejects(GOOD + 'api: { port: 70000 }\n', 'api.port', /0 to 65535/)
    rejects(GOOD.replace(/domain: .*\n/, 'domain: { name: dmm.example }\n'), 'domain.operatorPublicKey', /required/)
  })

  it('names the YAML line of the wrong field: bad type, unknown field, bad IPv6, nested fields', () => {
    assert.equal(parseMaarConfig(BLOCK, '/etc/dmm/maar1.yaml').api.port, 7001)
    rejects(BLOCK.replace('port: 7001', 'port: "7001"'), 'api.port', /must be an integer from 0 to 65535, got "7001"/, 15)
    rejects(BLOCK.replace('name: maar1', 'name: [maar1]'), 'name', /non-empty string/, 1)
    rejects(BLOCK.replace('dataDir: data/maar1', 'dataDir: data/maar1\ncolour: blue'), 'colour', /unknown field \(known: name, /, 13)
    rejects(BLOCK.replace('  port: 7001', '  port: 7001\n  tls: true'), 'api.tls', /unknown field \(known: host, port\)/, 16)
    rejects(BLOCK.replace('2001:db8:ffff::1', '2001:db8:ffff::g'), 'address', /bad group/, 9)
    rejects(BLOCK.replace('  - 2001:db8:1::/48', '  - 2001:db8:1::/48\n  - 2001:db8:2::1/48'), 'pools[1]', /host bits/, 12)
    rejects(BLOCK.replace('/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/70000'), 'listen[0]', /not a valid multiaddr/, 8)
    rejects(BLOCK.replace('"CAESIBhto4Ai1bhjC9r2fCDmQJH1hmX+1uMwq0e36nmk3CBW"', 'CAESIA=='), 'domain.operatorPublicKey', /not a public key/, 6)
    rejects(BLOCK.replace('  name: dmm.example\n', ''), 'domain.name', /required/, 4)
    rejects(BLOCK.replace('  host: 127.0.0.1', '  host: 0.0.0.0'), 'api.host', /loopback/, 14)
    rejects(BLOCK + 'prefixLength: 40\n', 'pools[0]', /longer than prefixLength \/40/, 11)
    rejects(BLOCK + 'dataplane:\n  driver: linux\n  backboneInterface: bb0\n  tableBase: 2\n', 'dataplane.tableBase', /3 to 4294967280/, 19)
    rejects(BLOCK + 'log:\n  level: verbose\n', 'log.level', /debug, info, warn or error, got "verbose"/, 17)
    rejects(BLOCK.replace('dataDir: data/maar1\n', ''), 'dataDir', /required/, 1)
    rejects(BLOCK.replace('identity: keys/maar1.key', 'identity: keys/maar1.key: x'), '(file)', /not valid YAML/, 2)
    rejects(BLOCK + 'name: maar2\n', '(file)', /not valid YAML: Map keys must be unique/, 16)
  })

  it('reads log and capture, with their defaults, capture relative to the file', () => {
    const plain = parseMaarConfig(BLOCK, '/etc/dmm/maar1.yaml')
    assert.deepEqual(plain.log, { level: 'info', format: 'json' })
    assert.equal(plain.capture, undefined)
    const set = parseMaarConfig(BLOCK + 'log: { level: debug, format: pretty }\ncapture: pcap/maar1.pcap\n', '/etc/dmm/maar1.yaml')
    assert.deepEqual(set.log, { level: 'debug', format: 'pretty' })
    assert.equal(set.capture, '/etc/dmm/pcap/maar1.pcap')
    rejects(BLOCK + 'log: { format: xml }\n', 'log.format', /json or pretty/, 16)
    rejects(BLOCK + 'capture: ""\n', 'capture', /non-empty string/, 16)
  })

  it('refuses listen and bootstrap multiaddrs that do not parse, ports out of range included', () => {
    rejects(GOOD.replace('/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/70000'), 'listen[0]', /not a valid multiaddr.*65535/)
    rejects(GOOD.replace('/ip4/127.0.0.1/tcp/4001', '/ip4/300.0.0.1/tcp/4001'), 'listen[0]', /not a valid multiaddr/)
    rejects(GOOD.replace('bootstrap: []', 'bootstrap: [/ip6/::1/tcp/99999]'), 'bootstrap[0]', /not a valid multiaddr/)
    rejects(GOOD + 'api: { port: -1 }\n', 'api.port', /0 to 65535/)
    rejects(GOOD + 'api: { port: "7001" }\n', 'api.port', /0 to 65535/)
  })

  it('refuses an operator public key that is not an Ed25519 public key', () => {
    const withKey = (k: string): string => GOOD.replace(/operatorPublicKey: "[^"]*"/, `operatorPublicKey: "${k}"`)
    rejects(withKey('CAESIA=='), 'domain.operatorPublicKey', /not a public key/)
    rejects(withKey('not base64!'), 'domain.operatorPublicKey', /base64/)
    rejects(withKey('CAESIBhto4Ai1bhjC9r2fCDmQJH1hmX+1uMwq0e36nmk3CB'), 'domain.operatorPublicKey', /base64/)
    rejects(withKey('CAISIQLIRE+FQ7anqFp1cRxhntVLvJHvas85OPqDXT7nYkybuQ=='), 'domain.operatorPublicKey', /Ed25519.*secp256k1/)
  })
})

describe('discovery modes in the dmm maar config, and the dmm cmd config (issue 10)', () => {
  const CMD = '/ip4/127.0.0.1/tcp/4100/p2p/12D3KooWFfhgEApZP3j3o5HWs4TPXkS9Ggn2ZAVLnMXctaWXjuTv'

  it('defaults to the DHT; reads cmd and hybrid with the CMD\'s address', () => {
    assert.deepEqual(parseMaarConfig(GOOD, '/etc/dmm/maar1.yaml').discovery, { mode: 'dht' })
    assert.deepEqual(parseMaarConfig(GOOD + `discovery: { mode: cmd, cmd: "${CMD}" }\n`, '/x.yaml').discovery, { mode: 'cmd', cmd: CMD, deregistration: 'serving' })
    // The CMD's mode named in its place reads as cmd: a MAAR does the same in all three.
    for (const m of ['relay', 'locator', 'proxy']) {
      assert.deepEqual(parseMaarConfig(GOOD + `discovery: { mode: ${m}, cmd: "${CMD}" }\n`, '/x.yaml').discovery, { mode: 'cmd', cmd: CMD, deregistration: 'serving' })
    }
    // draft-bernardos-dmm-pmip §3.5 variant b: P-MAARs de-register at the CMD.
    assert.deepEqual(parseMaarConfig(GOOD + `discovery: { mode: cmd, cmd: "${CMD}", deregistration: b }\n`, '/x.yaml').discovery, { mode: 'cmd', cmd: CMD, deregistration: 'anchors' })
    assert.throws(() => parseMaarConfig(GOOD + `discovery: { mode: cmd, cmd: "${CMD}", deregistration: c }\n`, '/x.yaml'), /discovery.deregistration: must be a .* or b/)
    assert.deepEqual(parseMaarConfig(GOOD + `discovery: { mode: hybrid, cmd: "${CMD}" }\n`, '/x.yaml').discovery, { mode: 'hybrid', cmd: CMD, timeoutMs: 500 })
  })

  it('refuses an unknown mode, a CMD address without its peer id, and a CMD field in dht mode', () => {
    rejects(GOOD + 'discovery: { mode: central }\n', 'discovery.mode', /mode must be dht, cmd \(or the CMD.s mode: relay, locator, proxy\), hybrid or legacy, got "central"/)
    rejects(GOOD + 'discovery: { mode: cmd, cmd: /ip4/127.0.0.1/tcp/4100 }\n', 'discovery.cmd', /must end with \/p2p\/<peer id> of the CMD/)
    rejects(GOOD + `discovery: { mode: dht, cmd: "${CMD}" }\n`, 'discovery.cmd', /unknown field/)
  })

  it('reads legacy mode with the LMA\'s address, or self on the LMA; refuses an LMA it cannot dial by identity', () => {
    assert.deepEqual(parseMaarConfig(GOOD + `discovery: { mode: legacy, lma: "${CMD}" }\n`, '/x.yaml').discovery, { mode: 'legacy', lma: CMD })
    assert.deepEqual(parseMaarConfig(GOOD + 'discovery: { mode: legacy, lma: self }\n', '/x.yaml').discovery, { mode: 'legacy', lma: 'self' })
    rejects(GOOD + 'discovery: { mode: legacy, lma: /ip4/127.0.0.1/tcp/4100 }\n', 'discovery.lma', /must be self \(on the LMA\) or the LMA's multiaddr ending with \/p2p\/<peer id>/)
    rejects(GOOD + 'discovery: { mode: legacy, lma: maar1 }\n', 'discovery.lma', /got "maar1"/)
    rejects(GOOD + 'discovery: { mode: legacy }\n', 'discovery.lma', /./)
  })

  it('parses a dmm cmd config with its defaults; refuses a bad mode with its line', async () => {
    const { parseCmdConfig } = await import('../src/config.js')
    const yaml = GOOD.replace('pools: [2001:db8:1::/48]\n', '').replace('name: maar1', 'name: cmd')
    const c = parseCmdConfig(yaml, '/etc/dmm/cmd.yaml')
    assert.equal(c.mode, 'relay')
    assert.equal(c.relayTimeoutMs, 1000)
    assert.equal(c.deregistration, 'a')
    assert.equal(c.dataDir, '/etc/dmm/data/maar1')
    assert.throws(() => parseCmdConfig(yaml + 'mode: central\n', '/etc/dmm/cmd.yaml'), /cmd\.yaml:10: mode: must be relay, locator or proxy, got "central"/)
    assert.equal(parseCmdConfig(yaml + 'deregistration: b\n', '/etc/dmm/cmd.yaml').deregistration, 'b')
    assert.throws(() => parseCmdConfig(yaml + 'deregistration: c\n', '/etc/dmm/cmd.yaml'), /deregistration: must be a .* or b/)
  })
})
