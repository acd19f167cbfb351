/**
 * `dmm quickstart --domains N` (doc/ARCHITECTURE.md "Federation"): N domains on loopback, each
 * with its own operator key, DHT and MAARs (real libp2p, real LevelDB, the in-memory data plane
 * shared so that packets are traced across the border), mutual agreements signed by each
 * operator, and an MN crossing between them; each step prints the handover, the border lookup,
 * every P-MAAR's answer (a refusal names its agreement) and a hop-by-hop check of every address.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalFederation } from '@dmm-mesh/maar'
import type { LocalFederation, LocalMaar } from '@dmm-mesh/maar'
import type { CrossBorderPolicy } from '@dmm-mesh/federation'
import { CliError } from '../errors.js'
import { describeAgreement } from './federation.js'
import { checkReachability, describeHandover } from './quickstart.js'

export interface FederatedQuickstartOptions {
  domains: number
  /** MAARs per domain. */
  maars: number
  /** MAAR names (`a1`, `b2`, …) the MN visits; default: a round trip through every domain. */
  path?: string[]
  /** What the first domain's agreement says of its prefixes crossing into the others. */
  policy: CrossBorderPolicy
  keep: boolean
  out: (line: string) => void
}

export const DOMAIN_LABELS = ['a', 'b', 'c']

export function defaultFederationPath (domains: number, maars: number): string[] {
  const labels = DOMAIN_LABELS.slice(0, domains)
  return [...labels.flatMap(l => Array.from({ length: Math.min(maars, 2) }, (_, i) => `${l}${i + 1}`)), 'a1']
}

/** Refuses, before anything starts, a path naming a MAAR that will not exist. */
export function checkFederationPath (path: string[], domains: number, maars: number): void {
  const labels = DOMAIN_LABELS.slice(0, domains)
  for (const name of path) {
    const m = /^([a-z])(\d+)$/.exec(name)
    if (m === null || !labels.includes(m[1] ?? '') || Number(m[2]) < 1 || Number(m[2]) > maars) {
      throw new CliError(`--path names ${name}: the MAARs are ${labels.map(l => `${l}1..${l}${maars}`).join(', ')}`)
    }
  }
}

export async function federatedQuickstart (opts: FederatedQuickstartOptions): Promise<number> {
  const { out } = opts
  const labels = DOMAIN_LABELS.slice(0, opts.domains)
  const path = opts.path ?? defaultFederationPath(opts.domains, opts.maars)
  checkFederationPath(path, opts.domains, opts.maars)
  const dataDir = await mkdtemp(join(tmpdir(), 'dmm-quickstart-federation-'))
  out(`dmm-mesh quickstart: ${opts.domains} domains of ${opts.maars} MAARs on loopback, each with its own operator key and DHT; binding caches in ${dataDir}`)
  const agreements = labels.flatMap(issuer => labels.filter(s => s !== issuer).map(subject => ({ issuer, subject, policy: issuer === 'a' ? opts.policy : { prefixes: 'tunnel' as const } })))
  const fed = await createLocalFederation({ domains: labels.map(label => ({ label, count: opts.maars })), agreements, dataDir })
  const mnId = 'alice@a.example'
  let failures = 0
  try {
    for (const d of fed.domains) {
      out(`domain ${d.domain}: ${d.mesh.maars.map(m => `${m.name} ${m.address} pool ${m.pool}`).join('; ')}`)
    }
    for (const s of fed.signed.values()) describeAgreement(s.agreement).forEach(out)
    let previous: LocalMaar | undefined
    for (const [step, name] of path.entries()) {
      const local = maarNamed(fed, name)
      out('')
      out(`step ${step + 1}: ${mnId} attaches to ${local.name} (${domainOf(fed, local)})${previous !== undefined && domainOf(fed, previous) !== domainOf(fed, local) ? ': a cross-border move' : ''}`)
      if (previous !== undefined) await previous.maar.detach(mnId)
      fed.network.attachMn(mnId, local.address)
      const report = await local.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
      describeHandover(report).forEach(out)
      failures += checkReachability(fed, mnId, out)
      await local.maar.settled()
      previous = local
    }
  } finally {
    await fed.stop()
    if (!opts.keep) await rm(dataDir, { recursive: true, force: true })
  }
  out('')
  out(failures === 0 ? 'every address the MN holds reachable through its anchor at every step, across the borders' : `${failures} reachability check(s) FAILED`)
  return failures === 0 ? 0 : 1
}

function maarNamed (fed: LocalFederation, name: string): LocalMaar {
  const found = fed.domains.flatMap(d => d.mesh.maars).find(m => m.name === name)
  if (found === undefined) throw new Error(`--path names ${name}, which is no MAAR here (${fed.domains.flatMap(d => d.mesh.maars).map(m => m.name).join(', ')})`)
  return found
}

function domainOf (fed: LocalFederation, m: LocalMaar): string {
  return fed.domains.find(d => d.mesh.maars.includes(m))?.domain ?? '?'
}
