/**
 * The engine of federation scenarios (doc/ARCHITECTURE.md "Federation", "Scenarios"): the
 * scenario's domains as createLocalFederation builds them — each its own operator key, DHT, trust
 * and pools, on one memory network — with an agreement per `agreements` entry carrying the
 * contender's cross-border policy. Scenario MAAR names map onto the federation's (`a1`, `b2`, …)
 * in each domain's order; every peer's signalling is delayed and captured as in localEngine.
 * A border lookup that the other domain refused is only in the serving MAAR's log: the engine
 * keeps those lines per MAAR so that the runner can give a handover the reason.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { federatedCmdAddress, localCmdCentral } from '@dmm-mesh/cmd'
import { agreementId, createLocalFederation, federationPlan } from '@dmm-mesh/maar'
import type { LocalCentralFactory, LocalFederation } from '@dmm-mesh/maar'
import type { CrossBorderPolicy } from '@dmm-mesh/federation'
import { PeerNames, shapingFor } from './delays.js'
import type { DomainEngine, DomainSpec, ScenarioDomain } from './domain.js'
import { domainCmdNode } from './scenario-map.js'
import type { ContenderSpec, DOMAIN_DISCOVERY } from './scenario-schema.js'

type DomainDiscovery = typeof DOMAIN_DISCOVERY[number]

/** What a federation scenario adds to a domain's spec. */
export interface FederationSpec {
  domains: Array<{ name: string, maars: string[], discovery: DomainDiscovery }>
  agreements: Array<{ from: string, to: string, boundedS: number }>
}

/** The agreement's policy for a contender (scenario-schema.ts POLICY_CONTENDERS). */
export function policyOf (contender: ContenderSpec, boundedS: number): CrossBorderPolicy {
  if (contender === 'tunnel' || contender === 'drop') return { prefixes: contender }
  if (contender === 'bounded') return { prefixes: 'bounded', seconds: boundedS }
  throw new RangeError(`${contender} is not a cross-border policy`)
}

/** `[<scope>] border lookup refused by …` as the serving MAAR's FederatedDiscovery logs it. */
const BORDER_REFUSAL = /^\[([a-z]+\d+)[:\]].*?border lookup refused by (.*)$/

export const federationEngine: DomainEngine = {
  async start (spec: DomainSpec): Promise<ScenarioDomain> {
    const fed = spec.federation
    if (fed === undefined) throw new RangeError('federationEngine needs the scenario\'s domains')
    const dir = await mkdtemp(join(spec.workDir, `${spec.contender}-`))
    const peers = new PeerNames()
    // Scenario MAAR name <-> the federation's local name (label + 1-based place in its domain).
    const localOf = new Map<string, string>()
    const domainOf = new Map<string, string>()
    const addressOf = new Map<string, string>()
    for (const [k, d] of fed.domains.entries()) {
      const plan = federationPlan(d.name, k + 1)
      d.maars.forEach((m, i) => {
        const p = plan(i + 1)
        localOf.set(m, p.name)
        domainOf.set(m, d.name)
        addressOf.set(m, p.address)
      })
    }
    const scenarioOf = new Map([...localOf].map(([s, l]) => [l, s]))
    const byAddress = new Map([...addressOf].map(([s, a]) => [a, s]))
    // A CMD domain's CMD (draft-bernardos-dmm-pmip §3; its gateway across the border), delayed and counted as a node of the map.
    const central = (label: string, k: number, mode: Exclude<DomainDiscovery, 'dht'>): LocalCentralFactory => {
      const node = domainCmdNode(label)
      byAddress.set(federatedCmdAddress(k), node)
      return localCmdCentral(mode, {
        relayTimeoutMs: spec.relayTimeoutMs,
        capture: spec.frames.capture(federatedCmdAddress(k)),
        shapeTransport: shapingFor(node, peers, spec.delay).shapeTransport,
        started: cmd => { peers.set(cmd.running.cmd.peerId, node) }
      })
    }
    const refusals = new Map<string, string[]>()
    let federation: LocalFederation
    try {
      federation = await createLocalFederation({
        dataDir: dir,
        lifetime: spec.lifetimeS,
        domains: fed.domains.map((d, k) => ({ label: d.name, count: d.maars.length, ...(d.discovery !== 'dht' ? { central: central(d.name, k + 1, d.discovery) } : {}) })),
        agreements: fed.agreements.map(a => ({ issuer: a.from, subject: a.to, policy: policyOf(spec.contender, a.boundedS) })),
        log: (_level, line) => {
          const m = BORDER_REFUSAL.exec(line)
          const at = m?.[1] === undefined ? undefined : scenarioOf.get(m[1])
          if (at !== undefined && m?.[2] !== undefined) refusals.set(at, [...(refusals.get(at) ?? []), `border lookup refused by ${m[2]}`])
        },
        observe: local => {
          const node = scenarioOf.get(local) ?? local
          const s = shapingFor(node, peers, spec.delay, (r, to) => { spec.onRecordRequest(node, to, r) })
          return { capture: spec.frames.capture(addressOf.get(node) ?? local), shapeTransport: s.shapeTransport, directory: { shaper: s.shaper } }
        }
      })
    } catch (err) {
      await rm(dir, { recursive: true, force: true })
      throw err
    }
    for (const d of federation.domains) for (const m of d.mesh.maars) peers.set(m.maar.peerId, scenarioOf.get(m.name) ?? m.name)
    const place = (name: string): { mesh: LocalFederation['domains'][number]['mesh'], index: number } => {
      const label = domainOf.get(name)
      const d = federation.domains.find(x => x.label === label)
      const local = localOf.get(name)
      if (d === undefined || local === undefined) throw new RangeError(`no MAAR ${name} in the federation`)
      return { mesh: d.mesh, index: Number(local.slice(d.label.length)) - 1 }
    }
    const live = (): Array<{ settled: () => Promise<void> }> => federation.domains.flatMap(d => d.mesh.maars.map(m => m.maar))
    return {
      network: federation.network,
      nodeAt: address => byAddress.get(address),
      addressOf: node => {
        const address = addressOf.get(node)
        if (address === undefined) throw new RangeError(`no MAAR ${node} in the federation`)
        return address
      },
      maar: name => place(name).mesh.maars.find(m => m.name === localOf.get(name))?.maar,
      stopMaar: async name => { const { mesh, index } = place(name); await mesh.stopMaar(index) },
      startMaar: async name => { const { mesh, index } = place(name); await mesh.restartMaar(index) },
      stopCmd: async () => {},
      startCmd: async () => {},
      domainOf: name => domainOf.get(name),
      revokeAgreement: async (from, to) => {
        const id = agreementId(from, to)
        await federation.revoke(id)
        return id
      },
      borderRefusals: name => {
        const lines = refusals.get(name) ?? []
        refusals.delete(name)
        return lines
      },
      settled: async () => {
        await Promise.all(live().map(async m => { await m.settled() }))
        for (const d of federation.domains) await d.central?.settled?.().catch(() => {})
      },
      stop: async () => {
        await federation.stop().catch(() => {})
        await rm(dir, { recursive: true, force: true })
      }
    }
  }
}
