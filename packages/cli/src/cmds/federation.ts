/**
 * `dmm federation make|show|verify|revoke` (doc/ARCHITECTURE.md "Federation"): an operator signs
 * an agreement accepting another domain, reads one, and checks one against a domain's config.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { readKeyFile } from '@dmm-mesh/discovery'
import {
  AgreementError, decodeAgreementFile, decodeRevocationFile, encodeAgreementFile, encodeRevocationFile, FederationAgreements, signAgreement, signRevocation, verifyAgreement
} from '@dmm-mesh/federation'
import type { CrossBorderPolicy, FederationAgreement, OperatorRef, SignedAgreement, SignedRevocation } from '@dmm-mesh/federation'
import type { FederationConfig } from '../config.js'
import { CliError } from '../errors.js'
import { readMaarConfig } from '../config.js'

export interface MakeOptions {
  operatorKey: string
  id: string
  issuerDomain: string
  subjectDomain: string
  subjectKey: string
  maars: string[] | 'any'
  pools: string[]
  addresses: string[]
  policy: string
  seconds?: number
  days: number
  out: string
}

async function operatorKeyOf (path: string): Promise<{ key: Awaited<ReturnType<typeof readKeyFile>>, publicKey: string }> {
  const key = await readKeyFile(path).catch(err => { throw new CliError(`--operator-key ${path}: ${err instanceof Error ? err.message : String(err)}`) })
  return { key, publicKey: Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64') }
}

function policyOf (name: string, seconds: number | undefined): CrossBorderPolicy {
  if (name === 'bounded') {
    if (seconds === undefined) throw new CliError('--policy bounded needs --seconds N (how long the prefixes are kept across the border)')
    return { prefixes: 'bounded', seconds }
  }
  if (seconds !== undefined) throw new CliError(`--seconds goes with --policy bounded only, not ${name}`)
  if (name !== 'tunnel' && name !== 'drop') throw new CliError(`--policy must be tunnel, drop or bounded, not ${name}`)
  return { prefixes: name }
}

/** Signs "issuer accepts subject" with the issuer's operator key and writes the file. */
export async function makeAgreement (o: MakeOptions): Promise<{ id: string, out: string, notAfter: string }> {
  const { key, publicKey } = await operatorKeyOf(o.operatorKey)
  if (!Number.isFinite(o.days) || o.days <= 0) throw new CliError(`--days must be a positive number, got ${o.days}`)
  const now = Date.now()
  const agreement: FederationAgreement = {
    id: o.id,
    issuer: { domain: o.issuerDomain, operatorPublicKey: publicKey },
    subject: { domain: o.subjectDomain, operatorPublicKey: o.subjectKey },
    scope: { maars: o.maars, pools: o.pools, addresses: o.addresses },
    policy: policyOf(o.policy, o.seconds),
    notBefore: new Date(now).toISOString(),
    notAfter: new Date(now + o.days * 86400_000).toISOString()
  }
  const signed = await signAgreement(agreement, key).catch(err => { throw asCliError(err) })
  await writeFile(o.out, encodeAgreementFile(signed))
  return { id: o.id, out: o.out, notAfter: agreement.notAfter }
}

async function readFederationFile<T> (path: string, decode: (text: string, source: string) => T): Promise<T> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new CliError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  try {
    return decode(text, path)
  } catch (err) {
    throw asCliError(err)
  }
}

export async function readAgreementFile (path: string): Promise<SignedAgreement> {
  return await readFederationFile(path, decodeAgreementFile)
}

/**
 * Reads a MAAR config's agreements and revocations into `into` (replacing what it held only when
 * every file reads and verifies); a problem is a CliError naming the config field and the file.
 */
export async function loadFederation (config: FederationConfig, into: FederationAgreements): Promise<void> {
  const signed: SignedAgreement[] = []
  for (const [i, path] of config.agreements.entries()) {
    const one = await readAgreementFile(path).catch(err => { throw new CliError(`federation.agreements[${i}]: ${err instanceof Error ? err.message : String(err)}`) })
    // Its signature first, so that a bad one is named by its file (validity is checked at each use).
    await verifyAgreement(one, Date.parse(one.agreement.notBefore)).catch(err => { throw new CliError(`federation.agreements[${i}] ${path}: ${err instanceof Error ? err.message : String(err)}`) })
    signed.push(one)
  }
  const revocations: SignedRevocation[] = []
  for (const [i, path] of config.revocations.entries()) {
    revocations.push(await readFederationFile(path, decodeRevocationFile).catch(err => { throw new CliError(`federation.revocations[${i}]: ${err instanceof Error ? err.message : String(err)}`) }))
  }
  try {
    await into.load(signed, revocations)
  } catch (err) {
    if (err instanceof AgreementError) throw new CliError(`federation: ${err.message}`)
    throw err
  }
}

/** The agreement as lines a person reads. */
export function describeAgreement (a: FederationAgreement): string[] {
  const policy = a.policy.prefixes === 'tunnel'
    ? `tunnel: ${a.issuer.domain}'s prefixes stay reachable through inter-domain tunnels`
    : a.policy.prefixes === 'drop'
      ? `drop: no inter-domain tunnels; the MN keeps only ${a.subject.domain}'s prefix`
      : `bounded: ${a.issuer.domain}'s prefixes kept through tunnels for ${a.policy.seconds} s after the MN crossed`
  return [
    `agreement ${a.id}`,
    `  ${a.issuer.domain} accepts ${a.subject.domain}`,
    `  issuer key  ${a.issuer.operatorPublicKey}`,
    `  subject key ${a.subject.operatorPublicKey}`,
    `  MAARs       ${a.scope.maars === 'any' ? `any certified by ${a.subject.domain}'s operator` : a.scope.maars.join(', ')}`,
    `  pools       ${a.scope.pools.join(', ')}`,
    `  addresses   ${a.scope.addresses.join(', ')}`,
    `  policy      ${policy}`,
    `  valid       ${a.notBefore} .. ${a.notAfter}`
  ]
}

/**
 * Checks the signature and validity and, given a domain (its config or name and key), that the
 * agreement is that domain's (as issuer or subject) with its operator key. A file that cannot be
 * read or parsed throws CliError (exit 2); an agreement that does not hold is `ok: false` (exit 1).
 */
export async function verifyAgreementFile (path: string, domain?: OperatorRef): Promise<{ ok: boolean, line: string }> {
  const signed = await readAgreementFile(path)
  try {
    const a = await verifyAgreement(signed)
    if (domain !== undefined) await new FederationAgreements(domain).load([signed])
    return { ok: true, line: `${path}: valid: ${a.issuer.domain} accepts ${a.subject.domain} (${a.id}) until ${a.notAfter}${domain !== undefined ? `; keys match ${domain.domain}'s config` : ''}` }
  } catch (err) {
    if (err instanceof AgreementError) return { ok: false, line: `${path}: ${err.message}` }
    throw err
  }
}

export async function domainOfConfig (configPath: string): Promise<OperatorRef> {
  const config = await readMaarConfig(configPath)
  return { domain: config.domain.name, operatorPublicKey: config.domain.operatorPublicKey }
}

export async function revokeAgreement (o: { operatorKey: string, agreement: string, out: string, at?: string }): Promise<{ revoked: string, out: string, revokedAt: string }> {
  const signed = await readAgreementFile(o.agreement)
  const { key, publicKey } = await operatorKeyOf(o.operatorKey)
  const revokedAt = o.at ?? new Date().toISOString()
  const revocation = await signRevocation({ agreement: signed.agreement.id, issuer: { domain: signed.agreement.issuer.domain, operatorPublicKey: publicKey }, revokedAt }, key).catch(err => { throw asCliError(err) })
  await writeFile(o.out, encodeRevocationFile(revocation))
  return { revoked: signed.agreement.id, out: o.out, revokedAt }
}

function asCliError (err: unknown): Error {
  return err instanceof AgreementError ? new CliError(err.message) : err instanceof Error ? err : new Error(String(err))
}
