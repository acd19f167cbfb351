/**
 * One factory for a running MAAR with its real parts: the libp2p node of the private domain, the
 * DHT session directory, the LevelDB binding cache, a data plane, and the Maar itself. The daemon
 * (`dmm maar`) and the in-process mesh (local-mesh.ts) both build MAARs here, so they cannot drift
 * apart. Parts start in dependency order; a failure half way through stops, in reverse order,
 * what had already started, and rejects with a MaarStartError naming the resource at fault.
 */
import { mkdir } from 'node:fs/promises'
import { BindingCache, formatReport } from '@dmm-mesh/binding-cache'
import type { TextLevel } from '@dmm-mesh/binding-cache'
import type { DataPlane } from '@dmm-mesh/dataplane'
import { SessionDirectory, createMeshNode, meshServices, routingTable } from '@dmm-mesh/discovery'
import type { Discovery, MaarCertificate, MeshNodeInit, SessionDirectoryInit, TrustStore } from '@dmm-mesh/discovery'
import { BorderServer, FederatedDiscovery, localRecordBytes } from '@dmm-mesh/federation'
import type { FederationAgreements } from '@dmm-mesh/federation'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { Maar } from './maar.js'
import { StartupSteps } from './startup-steps.js'
import type { MaarComponents, MaarInit } from './maar.js'
import type { Logger } from './logger.js'

export interface StartMaarOptions {
  init: MaarInit
  /** The MAAR's libp2p identity. */
  privateKey: PrivateKey
  /** Its domain certificate, checked against `trust` for this peer id, address and pools. */
  certificate: Uint8Array
  trust: TrustStore
  listen: string[]
  /** Multiaddrs with /p2p/<peer id> of other MAARs. */
  bootstrap: string[]
  /** LevelDB folder of the binding cache (created if missing). */
  cacheDir: string
  /**
   * LevelDB folder of the session records this MAAR holds for the domain (created if missing;
   * discovery's record-journal.ts). Without it they are kept in memory only (the scale engine).
   */
  recordsDir?: string
  /**
   * Keep the binding cache in this abstract-level database instead of LevelDB in `cacheDir`
   * (the caller owns it: it outlives a stop, as a folder would). Only the scale engine uses it:
   * memory-level for hundreds of simulated MAARs (README "Scenarios"); a deployment never does.
   */
  cacheLevel?: TextLevel
  /**
   * libp2p settings beyond the deployed defaults, for many MAARs on few cores (packages/scale):
   * the memory transport, quieter kad-dht and libp2p upkeep, a longer membership proof, a libp2p
   * logger that builds nothing per connection.
   */
  node?: MeshNodeTuning
  /** Made once the certificate is checked (a Linux data plane touches the kernel). */
  dataplane: () => DataPlane | Promise<DataPlane>
  log: Logger
  /** Lines of the libp2p node (bootstrap retries) and of the directory. */
  nodeLog?: (line: string) => void
  directoryLog?: (line: string) => void
  directory?: Partial<Omit<SessionDirectoryInit, 'privateKey' | 'certificate' | 'trust' | 'log'>>
  clock?: MaarComponents['clock']
  metrics?: MaarComponents['metrics']
  capture?: MaarComponents['capture']
  shapeTransport?: MaarComponents['shapeTransport']
  /** How previous anchors are reached (signalling-mode.ts); default: the DHT mode. */
  signalling?: MaarComponents['signalling']
  /** Agreements with other domains, and their gateways asked across the border (doc/ARCHITECTURE.md "Federation"). */
  federation?: MaarFederation
}

export type MeshNodeTuning = Pick<MeshNodeInit, 'transport' | 'dhtMaintenance' | 'dhtTableRefresh' | 'connectionMonitor' | 'proofTimeoutMs' | 'alpha' | 'logger'>

export interface MaarFederation {
  agreements: FederationAgreements
  /** Multiaddrs with /p2p/ of MAARs of federated domains (read at each lookup). */
  gateways: () => string[]
  /** Bound of one gateway's answer (default 2 s). */
  borderTimeoutMs?: number
}

export interface RunningMaar {
  maar: Maar
  node: Libp2p
  directory: SessionDirectory
  cache: BindingCache
  cert: MaarCertificate
  /** The operator keys it trusts: its domain's, and those its agreements federate. */
  trust: TrustStore
  /** What it answers lookups with: the directory, or the directory and the border (federation). */
  discovery: Discovery
  /** Stops every part, in reverse order of start. */
  stop: () => Promise<void>
}

/** A MAAR could not start: `resource` names the part at fault, the message says why. */
export class MaarStartError extends Error {
  constructor (readonly resource: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`${resource}: ${detail}`, options)
    this.name = 'MaarStartError'
  }
}

function reason (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export async function startMaar (opts: StartMaarOptions): Promise<RunningMaar> {
  const steps = new StartupSteps((what, detail, cause) => new MaarStartError(what, detail, { cause }), err => err instanceof MaarStartError)
  const step = async <T>(what: string, work: () => Promise<T>): Promise<T> => await steps.step(what, work)
  const { init, trust } = opts
  // Before any connection: a federated peer is then a guest of the membership gate, not refused.
  opts.federation?.agreements.federate(trust)

  const node = await step('libp2p node', async () => await createMeshNode({
    ...opts.node, privateKey: opts.privateKey, certificate: opts.certificate, listen: opts.listen, bootstrap: opts.bootstrap, trust,
    ...(opts.recordsDir !== undefined ? { recordsDir: opts.recordsDir } : {}), ...(opts.nodeLog !== undefined ? { log: opts.nodeLog } : {})
  }))
  steps.onStop(async () => { await node.stop() })
  const peerId = node.peerId.toString()

  const cert = await step('certificate', async () => {
    const cert = await trust.verify(opts.certificate, { peerId }).catch(err => { throw new MaarStartError('certificate', `not valid for this MAAR: ${reason(err)}`) })
    // A CMD's certificate grants no pools and may not serve MNs (draft-bernardos-dmm-pmip §3).
    if (cert.role !== 'maar') throw new MaarStartError('certificate', `issued for the role ${cert.role}, not for a MAAR`)
    if (!trust.certifiesAddress(cert, init.address)) throw new MaarStartError('address', `${init.address} is not one of the certificate's tunnel addresses (${cert.addresses.join(', ')})`)
    if (!trust.covers(cert, init.pools)) throw new MaarStartError('pools', `${init.pools.join(', ')} are not all covered by the certificate (it grants ${cert.pools.join(', ')})`)
    return cert
  })

  const cache = await step(`binding cache ${opts.cacheLevel !== undefined ? '(in memory)' : opts.cacheDir}`, async () => {
    if (opts.cacheLevel !== undefined) return await BindingCache.open(opts.cacheDir, { level: opts.cacheLevel })
    await mkdir(opts.cacheDir, { recursive: true })
    return await BindingCache.open(opts.cacheDir)
  })
  steps.onStop(async () => { await cache.close() })
  // The open audits entries against allocations; what it found is said by key, and the MAAR runs
  // on the good rest (quarantined prefixes are never delegated again).
  for (const line of formatReport(cache.report)) opts.log[cache.report.problems.length === 0 ? 'info' : 'warn'](`binding cache: ${line}`)

  const dataplane = await step('dataplane', async () => await opts.dataplane())

  const directory = new SessionDirectory(node, {
    ...opts.directory, privateKey: opts.privateKey, certificate: opts.certificate, trust, ...(opts.directoryLog !== undefined ? { log: opts.directoryLog } : {})
  })
  await step('session directory', async () => { await directory.start() })
  steps.onStop(async () => { await directory.stop() })

  let discovery: Discovery = directory
  const federation = opts.federation
  if (federation !== undefined) {
    const log = (line: string): void => { opts.log.info(line) }
    const border = new BorderServer(node, { trust, agreements: federation.agreements, certificate: opts.certificate, lookupLocal: async mnId => await localRecordBytes(node, directory, mnId), log })
    await step('border server', async () => { await border.start() })
    steps.onStop(async () => { await border.stop() })
    discovery = new FederatedDiscovery({
      local: directory, node, trust, agreements: federation.agreements, certificate: opts.certificate, gateways: federation.gateways, log,
      ...(federation.borderTimeoutMs !== undefined ? { timeoutMs: federation.borderTimeoutMs } : {})
    })
  }

  const maar = await step('MAAR', async () => new Maar({
    node, discovery, cache, dataplane, trust, certificate: opts.certificate, cert, log: opts.log,
    ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
    ...(opts.metrics !== undefined ? { metrics: opts.metrics } : {}),
    ...(opts.capture !== undefined ? { capture: opts.capture } : {}),
    ...(opts.shapeTransport !== undefined ? { shapeTransport: opts.shapeTransport } : {}),
    ...(opts.signalling !== undefined ? { signalling: opts.signalling } : {}),
    ...(federation !== undefined ? { federation: { agreements: federation.agreements } } : {})
  }, init))
  const table = routingTable(meshServices(node).dht)
  opts.metrics?.gauges({ dhtPeers: () => node.getPeers().length, routingTableSize: () => table.size })
  // maar.stop() also stops the data plane, which maar.start() started.
  steps.onStop(async () => { await maar.stop() })
  await step('MAAR start', async () => { await maar.start() })

  return { maar, node, directory, cache, cert, trust, discovery, stop: steps.stopAll }
}
