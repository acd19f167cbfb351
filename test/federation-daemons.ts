/**
 * Domains of a federation for the separate-process tests (doc/ARCHITECTURE.md "Federation"): each
 * domain's operator key, its MAARs' keys and certificates (MAAR i of the k-th domain: pool
 * 2001:db8:<k>0<i>::/48, tunnel address 2001:db8:ffff:<k>00::<i>, as federationPlan), the
 * agreements made with `dmm federation make`, config lines, and a SIGHUP reload of the
 * federation section waited for — all through the CLI. Daemons listen on port 0: a domain
 * learns the other's gateways (known once it runs) by a reload, never by guessed ports.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { dmm } from './daemons.js'
import type { Daemon } from './daemons.js'

export interface Member { name: string, address: string, pool: string, config: string }
export interface DomainSetup { label: string, domain: string, publicKey: string, members: Member[] }

/** Runs `dmm ARGS`, asserting exit 0; its stdout. */
export async function ok (args: string[]): Promise<string> {
  const run = await dmm(args)
  assert.equal(run.code, 0, `dmm ${args.join(' ')}: ${run.stderr}`)
  return run.stdout
}

/** Domains labelled `labels` (k-th is `<label>.example`), each with `count` MAARs certified by its own operator key in DIR/<label>-operator.key. */
export async function makeDomains (dir: string, labels: string[], count = 2): Promise<DomainSetup[]> {
  const domains: DomainSetup[] = []
  for (const [k, label] of labels.entries()) {
    const publicKey = (JSON.parse(await ok(['keygen', '--out', join(dir, `${label}-operator.key`)])) as { publicKey: string }).publicKey
    const members: Member[] = []
    for (let i = 1; i <= count; i++) {
      const name = `${label}${i}`
      await ok(['keygen', '--out', join(dir, `${name}.key`)])
      const address = `2001:db8:ffff:${k + 1}00::${i}`
      const pool = `2001:db8:${k + 1}0${i}::/48`
      await ok(['cert', '--operator-key', join(dir, `${label}-operator.key`), '--maar-key', join(dir, `${name}.key`), '--domain', `${label}.example`, '--pools', pool, '--address', address, '--out', join(dir, `${name}.cert`)])
      members.push({ name, address, pool, config: join(dir, `${name}.yaml`) })
    }
    domains.push({ label, domain: `${label}.example`, publicKey, members })
  }
  return domains
}

/**
 * `issuer` accepts `subject` (DIR/<issuer>-accepts-<subject>.json, signed with the issuer's key),
 * scoped to the subject's pools and tunnel addresses (`subjectIndex`: its 1-based place); the file name.
 */
export async function makeAgreement (dir: string, issuer: DomainSetup, subject: DomainSetup, subjectIndex: number): Promise<string> {
  const id = `${issuer.label}-accepts-${subject.label}`
  await ok(['federation', 'make', '--operator-key', join(dir, `${issuer.label}-operator.key`), '--id', id, '--issuer-domain', issuer.domain, '--subject-domain', subject.domain, '--subject-key', subject.publicKey,
    '--pools', `2001:db8:${subjectIndex}00::/40`, '--addresses', `2001:db8:ffff:${subjectIndex}00::/56`, '--out', join(dir, `${id}.json`)])
  return `${id}.json`
}

/** The config lines of MAAR `m` of `d` on loopback port 0 (its federation section apart). */
export function maarLines (d: DomainSetup, m: Member, bootstrap: string[]): string[] {
  return [
    `name: ${m.name}`, `identity: ${m.name}.key`, `certificate: ${m.name}.cert`,
    `domain: { name: ${d.domain}, operatorPublicKey: "${d.publicKey}" }`,
    'listen: [/ip4/127.0.0.1/tcp/0]',
    `bootstrap: [${bootstrap.map(b => `"${b}"`).join(', ')}]`,
    `address: ${m.address}`, `pools: [${m.pool}]`, `dataDir: data/${m.name}`, 'api: { host: 127.0.0.1, port: 0 }'
  ]
}

/** The `federation:` section (one shape in `dmm maar` and `dmm cmd` configs). */
export function federationLines (agreements: string[], gateways: string[], revocations: string[] = []): string[] {
  return ['federation:', `  agreements: [${agreements.join(', ')}]`, `  revocations: [${revocations.join(', ')}]`, `  gateways: [${gateways.map(g => `"${g}"`).join(', ')}]`]
}

/** Sends SIGHUP to each daemon (its config rewritten before) and waits for its `count`-th federation reload. */
export async function reloadFederation (daemons: Daemon[], count: number): Promise<void> {
  for (const d of daemons) d.child.kill('SIGHUP')
  for (const d of daemons) {
    let seen = 0
    for (let i = 0; i < 100 && seen < count; i++) {
      seen = d.stderr().split('federation agreements reloaded on SIGHUP').length - 1
      if (seen < count) await new Promise(resolve => setTimeout(resolve, 100))
    }
    assert.equal(seen, count, `${d.name} reloaded its federation section`)
  }
}
