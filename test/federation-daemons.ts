/**
 * Domains of a federation for the separate-process tests (doc/ARCHITECTURE.md "Federation"): each
 * domain's operator key, its MAARs' keys and certificates (MAAR i of the k-th domain: pool
 * 2001:db8:<k>0<i>::/48, tunnel address 2001:db8:ffff:<k>00::<i>, as federationPlan), a free
 * loopback port each, and the agreements made with `dmm federation make`, all through the CLI.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { dmm } from './daemons.js'

export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

export interface Member { name: string, peerId: string, port: number, address: string, pool: string, config: string }
export interface DomainSetup { label: string, domain: string, publicKey: string, members: Member[] }

/** Runs `dmm ARGS`, asserting exit 0; its stdout. */
export async function ok (args: string[]): Promise<string> {
  const run = await dmm(args)
  assert.equal(run.code, 0, `dmm ${args.join(' ')}: ${run.stderr}`)
  return run.stdout
}

export const dial = (m: Pick<Member, 'port' | 'peerId'>): string => `/ip4/127.0.0.1/tcp/${m.port}/p2p/${m.peerId}`

/** A peer's key in DIR/NAME.key: its peer id. */
export async function keygen (dir: string, name: string): Promise<string> {
  return (JSON.parse(await ok(['keygen', '--out', join(dir, `${name}.key`)])) as { peerId: string, publicKey: string }).peerId
}

/** Domains labelled `labels` (k-th is `<label>.example`), each with `count` MAARs certified by its own operator key. */
export async function makeDomains (dir: string, labels: string[], count = 2): Promise<DomainSetup[]> {
  const domains: DomainSetup[] = []
  for (const [k, label] of labels.entries()) {
    const publicKey = (JSON.parse(await ok(['keygen', '--out', join(dir, `${label}-operator.key`)])) as { publicKey: string }).publicKey
    const members: Member[] = []
    for (let i = 1; i <= count; i++) {
      const name = `${label}${i}`
      const peerId = await keygen(dir, name)
      const address = `2001:db8:ffff:${k + 1}00::${i}`
      const pool = `2001:db8:${k + 1}0${i}::/48`
      await ok(['cert', '--operator-key', join(dir, `${label}-operator.key`), '--maar-key', join(dir, `${name}.key`), '--domain', `${label}.example`, '--pools', pool, '--address', address, '--out', join(dir, `${name}.cert`)])
      members.push({ name, peerId, port: await freePort(), address, pool, config: join(dir, `${name}.yaml`) })
    }
    domains.push({ label, domain: `${label}.example`, publicKey, members })
  }
  return domains
}

/**
 * `issuer` accepts `subject` (DIR/<issuer>-accepts-<subject>.json, signed by the issuer's key),
 * scoped to the subject's pools and tunnel addresses; `subjectIndex` is the subject's 1-based place.
 */
export async function makeAgreement (dir: string, issuer: DomainSetup, subject: DomainSetup, subjectIndex: number, policy: string[] = []): Promise<string> {
  const id = `${issuer.label}-accepts-${subject.label}`
  await ok(['federation', 'make', '--operator-key', join(dir, `${issuer.label}-operator.key`), '--id', id, '--issuer-domain', issuer.domain, '--subject-domain', subject.domain, '--subject-key', subject.publicKey,
    '--pools', `2001:db8:${subjectIndex}00::/40`, '--addresses', `2001:db8:ffff:${subjectIndex}00::/56`, ...policy, '--out', join(dir, `${id}.json`)])
  return `${id}.json`
}

/** The config lines of a MAAR of `d` (without its federation section). */
export function maarLines (d: DomainSetup, m: Member): string[] {
  const first = d.members[0]
  assert.ok(first !== undefined)
  return [
    `name: ${m.name}`, `identity: ${m.name}.key`, `certificate: ${m.name}.cert`,
    `domain: { name: ${d.domain}, operatorPublicKey: "${d.publicKey}" }`,
    `listen: [/ip4/127.0.0.1/tcp/${m.port}]`,
    `bootstrap: [${m === first ? '' : `"${dial(first)}"`}]`,
    `address: ${m.address}`, `pools: [${m.pool}]`, `dataDir: data/${m.name}`, 'api: { host: 127.0.0.1, port: 0 }'
  ]
}

/** The `federation:` section (the same shape in `dmm maar` and `dmm cmd` configs). */
export function federationLines (agreements: string[], gateways: string[], revocations: string[] = []): string[] {
  return ['federation:', `  agreements: [${agreements.join(', ')}]`, `  revocations: [${revocations.join(', ')}]`, `  gateways: [${gateways.map(g => `"${g}"`).join(', ')}]`]
}
