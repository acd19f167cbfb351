/**
 * Several domains in one process (doc/ARCHITECTURE.md "Federation"): one createLocalMesh per
 * domain, each with its own operator key, DHT, trust and pools, all on one MemoryNetwork so that
 * a packet can be traced across the border; the agreements between them signed by their
 * issuers, every MAAR of a domain honouring its domain's ones and asking the first MAAR of each
 * federated domain as its gateway. Tests, the quickstart and scenarios build federations here.
 */
import { join } from 'node:path'
import { MemoryNetwork } from '@dmm-mesh/dataplane'
import { generateKey } from '@dmm-mesh/discovery'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { FederationAgreements, signAgreement, signRevocation } from '@dmm-mesh/federation'
import type { CrossBorderPolicy, OperatorRef, SignedAgreement } from '@dmm-mesh/federation'
import type { PrivateKey } from '@libp2p/interface'
import type { LogSink } from './logger.js'
import type { MaarComponents } from './maar.js'
import { createLocalMesh, dialAddress } from './local-mesh.js'
import type { LocalMaar, LocalMesh, LocalMeshOptions, MaarPlan } from './local-mesh.js'
import type { HandoverReport } from './handover-report.js'

export interface LocalDomainSpec {
  /** One letter or word: the domain is `<label>.example`, its MAARs `<label>1`, `<label>2`, … */
  label: string
  count: number
  /**
   * A central peer the domain runs, started before its MAARs: a CMD (cmd's localCmdCentral,
   * doc/ARCHITECTURE.md "CMD domains"). It is the domain's gateway and names the MAARs' signalling.
   */
  central?: LocalCentralFactory
}

/** What a domain's central peer is given: the domain's key, agreements and partners' gateways. */
export interface LocalCentralContext {
  domain: string
  /** The domain's 1-based place in the federation (its pools are 2001:db8:<k>00::/40). */
  index: number
  operatorKey: PrivateKey
  agreements: FederationAgreements
  gateways: () => string[]
  dataDir: string
  log?: LogSink
}

export interface LocalCentral {
  /** Its multiaddr with /p2p/: the gateway other domains ask. */
  address: string
  /** The signalling of the domain's MAARs through it (signalling-mode.ts). */
  signalling: NonNullable<MaarComponents['signalling']>
  /** Resolves when the work it started in the background (relayed PBUs, session writes) is done. */
  settled?: () => Promise<void>
  stop: () => Promise<void>
}

export type LocalCentralFactory = (context: LocalCentralContext) => Promise<LocalCentral>

export interface LocalAgreementSpec {
  /** Labels: `issuer` accepts `subject`. */
  issuer: string
  subject: string
  policy: CrossBorderPolicy
  /** The subject's MAARs in scope, by peer id (default: any). */
  maars?: string[]
  /** Validity (default: from a day ago for a year). */
  notBefore?: number
  notAfter?: number
}

export interface LocalFederationOptions extends Pick<LocalMeshOptions, 'log' | 'lifetime' | 'lifetimeCheckIntervalMs' | 'clock' | 'maarInit' | 'observe'> {
  domains: LocalDomainSpec[]
  agreements: LocalAgreementSpec[]
  dataDir: string
}

export interface LocalDomain {
  label: string
  /** `<label>.example` */
  domain: string
  /** 1-based position in the federation: its pools are 2001:db8:<k>00::/40. */
  index: number
  operatorKey: PrivateKey
  operator: OperatorRef
  agreements: FederationAgreements
  mesh: LocalMesh
  /** Its central peer (a CMD), when the domain runs one. */
  central?: LocalCentral
}

export interface LocalFederation {
  network: MemoryNetwork
  domains: LocalDomain[]
  domain: (label: string) => LocalDomain
  /** The signed agreements, by id `<issuer>-accepts-<subject>`. */
  signed: Map<string, SignedAgreement>
  /** A MAAR by name (`a1`, `b2`). */
  maar: (name: string) => LocalMaar
  /**
   * The MN's link goes down where `move` last put it (a detach there) and comes up at MAAR `name`
   * (the memory network carries it): the attach there, with the publication and the central peers'
   * background work waited for, so that the next step sees this one.
   */
  move: (mnId: string, name: string) => Promise<HandoverReport>
  /**
   * The MAARs, of every domain, whose binding cache holds the MN attached, by name: one while the
   * MN is served, never two (a MAAR left serving next to the new one keeps its link's traffic).
   */
  serving: (mnId: string) => Promise<string[]>
  /** The issuer revokes an agreement (signed revocation, as a config reload would load it). */
  revoke: (id: string, at?: number) => Promise<void>
  stop: () => Promise<void>
}

/** MAAR i of the k-th domain (1-based): pool 2001:db8:<k><i, 2 hex digits>::/48, address 2001:db8:ffff:<k>00::<i>. */
export function federationPlan (label: string, k: number): (i: number) => MaarPlan {
  return i => ({ name: `${label}${i}`, pool: `2001:db8:${k}${i.toString(16).padStart(2, '0')}::/48`, address: `2001:db8:ffff:${k}00::${i.toString(16)}` })
}

/** What domain k's MAARs may claim across the border: its pools and tunnel addresses. */
export function federationScope (k: number): { pools: string[], addresses: string[] } {
  return { pools: [`2001:db8:${k}00::/40`], addresses: [`2001:db8:ffff:${k}00::/56`] }
}

export const agreementId = (issuer: string, subject: string): string => `${issuer}-accepts-${subject}`

export async function createLocalFederation (opts: LocalFederationOptions): Promise<LocalFederation> {
  if (opts.domains.length < 2 || opts.domains.length > 9) throw new RangeError(`a local federation has 2..9 domains, got ${opts.domains.length}`)
  const network = new MemoryNetwork()
  const keys = new Map<string, { key: PrivateKey, ref: OperatorRef, index: number }>()
  for (const [i, d] of opts.domains.entries()) {
    const key = await generateKey()
    keys.set(d.label, { key, index: i + 1, ref: { domain: `${d.label}.example`, operatorPublicKey: Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64') } })
  }
  const side = (label: string): { key: PrivateKey, ref: OperatorRef, index: number } => {
    const found = keys.get(label)
    if (found === undefined) throw new RangeError(`no domain labelled ${label}`)
    return found
  }
  const signed = new Map<string, SignedAgreement>()
  for (const a of opts.agreements) {
    const issuer = side(a.issuer)
    const subject = side(a.subject)
    const id = agreementId(a.issuer, a.subject)
    signed.set(id, await signAgreement({
      id,
      issuer: issuer.ref,
      subject: subject.ref,
      scope: { maars: a.maars ?? 'any', ...federationScope(subject.index) },
      policy: a.policy,
      notBefore: new Date(a.notBefore ?? Date.now() - 86400_000).toISOString(),
      notAfter: new Date(a.notAfter ?? Date.now() + 365 * 86400_000).toISOString()
    }, issuer.key))
  }

  const domains: LocalDomain[] = []
  const started = new Map<string, LocalMesh>()
  const centrals = new Map<string, LocalCentral>()
  // A domain's gateway: its central peer (a CMD) when it runs one, else its first MAAR.
  const gatewayOf = (label: string): string | undefined => {
    const central = centrals.get(label)
    if (central !== undefined) return central.address
    const first = started.get(label)?.maars[0]
    return first === undefined ? undefined : dialAddress(first)
  }
  const stopStarted = async (): Promise<void> => {
    for (const d of [...opts.domains].reverse()) {
      await started.get(d.label)?.stop()
      await centrals.get(d.label)?.stop()
    }
  }
  try {
    for (const d of opts.domains) {
      const own = side(d.label)
      const agreements = new FederationAgreements(own.ref)
      await agreements.load([...signed.values()].filter(s => s.agreement.issuer.domain === own.ref.domain || s.agreement.subject.domain === own.ref.domain))
      const partners = opts.agreements.filter(a => a.issuer === d.label || a.subject === d.label).map(a => a.issuer === d.label ? a.subject : a.issuer)
      const gateways = (): string[] => [...new Set(partners)].flatMap(p => gatewayOf(p) ?? [])
      const central = await d.central?.({ domain: own.ref.domain, index: own.index, operatorKey: own.key, agreements, gateways, dataDir: join(opts.dataDir, d.label, 'central'), ...(opts.log !== undefined ? { log: opts.log } : {}) })
      if (central !== undefined) centrals.set(d.label, central)
      const mesh = await createLocalMesh({
        ...opts,
        count: d.count,
        dataDir: join(opts.dataDir, d.label),
        domain: own.ref.domain,
        operatorKey: own.key,
        network,
        plan: federationPlan(d.label, own.index),
        federation: { agreements, gateways },
        ...(central !== undefined ? { signalling: central.signalling } : {})
      })
      started.set(d.label, mesh)
      domains.push({ label: d.label, domain: own.ref.domain, index: own.index, operatorKey: own.key, operator: own.ref, agreements, mesh, ...(central !== undefined ? { central } : {}) })
    }
  } catch (err) {
    await stopStarted()
    throw err
  }
  const domain = (label: string): LocalDomain => {
    const found = domains.find(d => d.label === label)
    if (found === undefined) throw new RangeError(`no domain labelled ${label}`)
    return found
  }
  const maar = (name: string): LocalMaar => {
    const found = domains.flatMap(d => d.mesh.maars).find(m => m.name === name)
    if (found === undefined) throw new RangeError(`no MAAR ${name}`)
    return found
  }
  const where = new Map<string, string>()
  return {
    network,
    domains,
    domain,
    signed,
    maar,
    async move (mnId: string, name: string): Promise<HandoverReport> {
      const before = where.get(mnId)
      if (before !== undefined) await maar(before).maar.detach(mnId)
      network.attachMn(mnId, maar(name).address)
      const report = await maar(name).maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:0f' })
      where.set(mnId, name)
      await maar(name).maar.settled()
      if (centrals.size > 0) {
        // A CMD may still be reaching anchors it was referred to (doc/ARCHITECTURE.md "When the
        // record is stale"); their answers then land at the serving MAAR (late PBAs).
        for (const c of centrals.values()) await c.settled?.()
        await maar(name).maar.settled()
      }
      return report
    },
    async serving (mnId: string): Promise<string[]> {
      const all = domains.flatMap(d => d.mesh.maars)
      const attached = await Promise.all(all.map(async m => (await m.maar.bindings()).some(e => e.mnId === mnId && e.attached)))
      return all.filter((_, i) => attached[i] === true).map(m => m.name)
    },
    async revoke (id: string, at = Date.now()): Promise<void> {
      const s = signed.get(id)
      if (s === undefined) throw new RangeError(`no agreement ${id}`)
      const issuer = domains.find(d => d.domain === s.agreement.issuer.domain)
      if (issuer === undefined) throw new RangeError(`issuer of ${id} not in this federation`)
      await issuer.agreements.revoke(await signRevocation({ agreement: id, issuer: issuer.operator, revokedAt: new Date(at).toISOString() }, issuer.operatorKey))
    },
    async stop (): Promise<void> {
      await stopStarted()
    }
  }
}
