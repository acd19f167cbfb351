/**
 * `dmm federation make|show|verify|revoke` as separate OS processes (doc/ARCHITECTURE.md
 * "Federation"): a signed agreement verifies against the domain's config; a tampered, foreign,
 * expired or unreadable one is refused with a line saying which check failed.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dmm } from './daemons.js'

describe('dmm federation (separate processes)', function () {
  let root: string
  const keys: Record<string, string> = {}
  /** `dmm federation make` of "a accepts b"; `more` overrides options by name. */
  const make = async (out: string, more: Record<string, string> = {}): Promise<Awaited<ReturnType<typeof dmm>>> => {
    const options: Record<string, string> = {
      'operator-key': join(root, 'a.key'), id: 'a-accepts-b', 'issuer-domain': 'a.example', 'subject-domain': 'b.example', 'subject-key': keys.b ?? '',
      pools: '2001:db8:200::/40', addresses: '2001:db8:ffff:200::/56', out: join(root, out), ...more
    }
    return await dmm(['federation', 'make', ...Object.entries(options).flatMap(([k, v]) => [`--${k}`, v])])
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'dmm-federation-cli-'))
    for (const who of ['a', 'b', 'c']) {
      const run = await dmm(['keygen', '--out', join(root, `${who}.key`)])
      assert.equal(run.code, 0, run.stderr)
      keys[who] = (JSON.parse(run.stdout) as { publicKey: string }).publicKey
    }
  })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  it('make, show and verify an agreement, also against the issuer\'s config', async () => {
    const made = await make('ab.json', { policy: 'bounded', seconds: '600' })
    assert.equal(made.code, 0, made.stderr)
    const shown = await dmm(['federation', 'show', join(root, 'ab.json')])
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stdout, /a\.example accepts b\.example/)
    assert.match(shown.stdout, /bounded: a\.example's prefixes kept through tunnels for 600 s/)
    const config = join(root, 'a.yaml')
    await writeFile(config, `name: a1\nidentity: a.key\ncertificate: a.cert\ndomain: { name: a.example, operatorPublicKey: "${keys.a ?? ''}" }\nlisten: [/ip4/127.0.0.1/tcp/0]\naddress: 2001:db8:ffff:100::1\npools: [2001:db8:101::/48]\ndataDir: data\n`)
    const verified = await dmm(['federation', 'verify', join(root, 'ab.json'), '--config', config])
    assert.equal(verified.code, 0, verified.stderr)
    assert.match(verified.stdout, /valid: a\.example accepts b\.example \(a-accepts-b\).*keys match a\.example's config/)
  })

  it('refuses, exit 1, a tampered agreement and one whose keys are not the config\'s, saying which', async () => {
    await make('ab2.json')
    const file = join(root, 'ab2.json')
    const text = await readFile(file, 'utf8')
    await writeFile(join(root, 'widened.json'), text.replace('2001:db8:200::/40', '2001:db8::/32'))
    const tampered = await dmm(['federation', 'verify', join(root, 'widened.json')])
    assert.equal(tampered.code, 1)
    assert.match(tampered.stderr, /bad-signature: a-accepts-b: the signature does not verify with the issuer's key/)
    const config = join(root, 'c.yaml')
    await writeFile(config, `name: c1\nidentity: c.key\ncertificate: c.cert\ndomain: { name: a.example, operatorPublicKey: "${keys.c ?? ''}" }\nlisten: [/ip4/127.0.0.1/tcp/0]\naddress: 2001:db8:ffff:300::1\npools: [2001:db8:301::/48]\ndataDir: data\n`)
    const foreign = await dmm(['federation', 'verify', file, '--config', config])
    assert.equal(foreign.code, 1)
    assert.match(foreign.stderr, /wrong-issuer: a-accepts-b names a\.example as issuer with another key than this domain's operator key/)
  })

  it('bad input: unreadable JSON names its line, a bad field its name, a wrong key file its field; exit 2, no stack', async () => {
    await writeFile(join(root, 'broken.json'), '{\n  "dmmFederationAgreement": 1,\n  "agreement": {}\n  "signature": ""\n}\n')
    const broken = await dmm(['federation', 'verify', join(root, 'broken.json')])
    assert.equal(broken.code, 2)
    assert.match(broken.stderr, /broken\.json:4: not JSON/)
    assert.doesNotMatch(broken.stderr, /\n\s+at /)
    const badPool = await make('bad.json', { pools: '2001:db8:200::1/40' })
    assert.equal(badPool.code, 2)
    assert.match(badPool.stderr, /agreement\.scope\.pools\[0\]: "2001:db8:200::1\/40": .*host bits set/)
    const bounded = await make('bad.json', { policy: 'bounded' })
    assert.equal(bounded.code, 2)
    assert.match(bounded.stderr, /--policy bounded needs --seconds/)
    const notKey = await make('x.json', { 'operator-key': join(root, 'ab2.json') })
    assert.equal(notKey.code, 2)
    assert.match(notKey.stderr, /--operator-key .*ab2\.json: key file .*not a key file/)
    const missing = await dmm(['federation', 'show', join(root, 'nope.json')])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /nope\.json: cannot read: ENOENT/)
  })

  it('revoke writes a revocation signed by the issuer; the agreement still verifies on its own', async () => {
    await make('ab3.json')
    const revoked = await dmm(['federation', 'revoke', '--operator-key', join(root, 'a.key'), '--agreement', join(root, 'ab3.json'), '--out', join(root, 'ab3.revoked.json')])
    assert.equal(revoked.code, 0, revoked.stderr)
    const file = JSON.parse(await readFile(join(root, 'ab3.revoked.json'), 'utf8')) as { revocation: { agreement: string } }
    assert.equal(file.revocation.agreement, 'a-accepts-b')
  })

  it('a MAAR config\'s federation section: a bad gateway is named by line; a tampered agreement stops dmm maar naming the field, exit 2', async () => {
    await make('ab4.json')
    const config = (extra: string[]): string => [
      'name: a1', 'identity: a.key', 'certificate: a1.cert', `domain: { name: a.example, operatorPublicKey: "${keys.a ?? ''}" }`,
      'listen: [/ip4/127.0.0.1/tcp/0]', 'address: 2001:db8:ffff:100::1', 'pools: [2001:db8:101::/48]', 'dataDir: data-a1', 'api: { host: 127.0.0.1, port: 0 }', ...extra, ''
    ].join('\n')
    const cert = await dmm(['cert', '--operator-key', join(root, 'a.key'), '--maar-key', join(root, 'a.key'), '--domain', 'a.example', '--pools', '2001:db8:101::/48', '--address', '2001:db8:ffff:100::1', '--out', join(root, 'a1.cert')])
    assert.equal(cert.code, 0, cert.stderr)
    await writeFile(join(root, 'gw.yaml'), config(['federation:', '  agreements: [ab4.json]', '  gateways: [/ip4/127.0.0.1/tcp/4001]']))
    const checked = await dmm(['config', 'check', join(root, 'gw.yaml')])
    assert.equal(checked.code, 2)
    assert.match(checked.stderr, /gw\.yaml:12: federation\.gateways\[0\]: must end with \/p2p\/<peer id>/)
    const text = await readFile(join(root, 'ab4.json'), 'utf8')
    await writeFile(join(root, 'ab4-tampered.json'), text.replace('"any"', '["12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"]'))
    await writeFile(join(root, 'tampered.yaml'), config(['federation:', '  agreements: [ab4-tampered.json]']))
    const run = await dmm(['maar', '--config', join(root, 'tampered.yaml')])
    assert.equal(run.code, 2, run.stderr)
    assert.match(run.stderr, /dmm: federation\.agreements\[0\] .*ab4-tampered\.json: federation agreement bad-signature: a-accepts-b: the signature does not verify/)
  })

  it('dmm quickstart --domains 2 moves an MN across the border and back, every address reachable (exit 0); a bad --path is refused first', async () => {
    const run = await dmm(['quickstart', '--domains', '2'], 60_000)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /step 3: alice@a\.example attaches to b1 \(b\.example\): a cross-border move/)
    assert.match(run.stdout, /lookup [\d.]+ ms \(border\)/)
    assert.match(run.stdout, /CN > a1 > tunnel->b1 > b1 > mn:alice@a\.example/)
    assert.match(run.stdout, /every address the MN holds reachable through its anchor at every step, across the borders/)
    const bad = await dmm(['quickstart', '--domains', '2', '--path', 'a1,z9'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--path names z9: the MAARs are a1\.\.a2, b1\.\.b2/)
  })
})
