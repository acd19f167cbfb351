/**
 * A whole domain of MAARs in one process on loopback: real libp2p nodes, real LevelDB binding
 * caches in a folder, an operator key and a certificate per MAAR, and the in-memory data plane so
 * that forwarding can be traced hop by hop. The quickstart, the tests and the benchmarks use it.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { MemoryNetwork } from '@dmm-mesh/dataplane'
import { TrustStore, generateKey, issueCertificate } from '@dmm-mesh/discovery'
import type { PrivateKey } from '@libp2p/interface'
import { startMaar } from './create-maar.js'
import type { MaarFederation, RunningMaar, StartMaarOptions } from './create-maar.js'
import type { MaarComponents, MaarInit } from './maar.js'
import { createLogger, silentSink } from './logger.js'
import type { LogSink } from './logger.js'

export interface LocalMeshOptions {
  /** Number of MAARs (maar1 … maarN). */
  count: number
  /** Folder holding one LevelDB directory per MAAR. */
  dataDir: string
  domain?: string
  lifetime?: number
  log?: LogSink
  /** Dial every MAAR to every other (default when count ≤ 20); else each dials `links` earlier ones. */
  fullMesh?: boolean
  links?: number
  lifetimeCheckIntervalMs?: number
  clock?: () => number
  /** More MAAR settings (e.g. `retransmission`, `timestampValidityWindowMs`), for every MAAR. */
  maarInit?: Partial<MaarInit>
  /** Metrics, a capture, a transport decorator and directory settings per MAAR, by name (e.g. a capture file each). */
  observe?: (name: string) => Pick<StartMaarOptions, 'metrics' | 'capture' | 'shapeTransport' | 'directory'>
  /** The domain's operator key (default: a new one), e.g. to certify a CMD for the same domain. */
  operatorKey?: PrivateKey
  /** Every MAAR's signalling (signalling-mode.ts); default: the DHT mode. */
  signalling?: MaarComponents['signalling']
  /** Name, pool and address of MAAR i (default maarPlan): domains of one federation must not overlap. */
  plan?: (i: number) => MaarPlan
  /** The simulated network to join (default a new one): federated domains share one. */
  network?: MemoryNetwork
  /** Every MAAR's agreements and gateways (doc/ARCHITECTURE.md "Federation"); default: none. */
  federation?: MaarFederation
  /**
   * How MAARs are hosted, for the scale engine (packages/scale): the listen address, libp2p
   * tuning, an in-memory binding cache and directory settings per MAAR (default: TCP on
   * loopback, deployed settings, LevelDB under `dataDir`).
   */
  host?: (plan: MaarPlan) => MaarHosting
  /**
   * The running MAARs MAAR `index` (0-based) dials when it starts or restarts (default: every
   * earlier one up to 20 MAARs, else the last `links`; on a restart every running one).
   */
  dialPeers?: (index: number, running: LocalMaar[]) => LocalMaar[]
  /** Told of each MAAR once it runs (at start and restart), e.g. to watch its node's events. */
  started?: (m: LocalMaar) => void
}

export interface MaarHosting extends Pick<StartMaarOptions, 'cacheLevel' | 'node' | 'directory'> {
  listen: string
  /** Session records held in memory only, not in LevelDB beside the binding cache (the scale engine's hundreds of MAARs). */
  recordsInMemory?: boolean
}

export interface MaarPlan { name: string, pool: string, address: string }

export interface LocalMaar extends RunningMaar {
  name: string
  address: string
  pool: string
  key: PrivateKey
  certificate: Uint8Array
  dataDir: string
}

export interface LocalMesh {
  maars: LocalMaar[]
  network: MemoryNetwork
  trust: TrustStore
  operatorKey: PrivateKey
  /** Stops one MAAR (its LevelDB stays), e.g. to test a restart. */
  stopMaar (index: number): Promise<void>
  /** Starts a MAAR again with the same key and data directory. */
  /** Stops MAAR `index` and starts it again on its data; `forgetRecords` removes the session records it held (a new disk). */
  restartMaar (index: number, options?: { forgetRecords?: boolean }): Promise<LocalMaar>
  stop (): Promise<void>
}

/** MAAR i (1-based) owns 2001:db8:i::/48 and has tunnel address 2001:db8:ffff::i. */
export function maarPlan (i: number): MaarPlan {
  const hex = i.toString(16)
  return { name: `maar${i}`, pool: `2001:db8:${hex}::/48`, address: `2001:db8:ffff::${hex}` }
}

/** A multiaddr other MAARs can dial: a listen address ending in /p2p/<peer id>. */
export function dialAddress (m: LocalMaar): string {
  const addr = m.maar.multiaddrs()[0] ?? ''
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${m.maar.peerId}`
}

export async function createLocalMesh (opts: LocalMeshOptions): Promise<LocalMesh> {
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 0xfffe) throw new RangeError(`count must be 1..65534, got ${opts.count}`)
  const domain = opts.domain ?? 'dmm.example'
  const sink = opts.log ?? silentSink
  const operatorKey = opts.operatorKey ?? await generateKey()
  const operatorPublicKey = Buffer.from(publicKeyToProtobuf(operatorKey.publicKey)).toString('base64')
  const trust = new TrustStore([{ domain, operatorPublicKey }])
  const network = opts.network ?? new MemoryNetwork()
  const planOf = opts.plan ?? maarPlan
  const maars: Array<LocalMaar | undefined> = []
  const identities: Array<{ key: PrivateKey, certificate: Uint8Array, listen?: string }> = []
  const recordsDirOf = (plan: MaarPlan): string => join(opts.dataDir, `${plan.name}.records`)

  const startOne = async (index: number, key: PrivateKey, certificate: Uint8Array, bootstrap: string[], listen?: string): Promise<LocalMaar> => {
    const plan = planOf(index + 1)
    const dataDir = join(opts.dataDir, plan.name)
    // Called at each start: a host keeps a MAAR's cacheLevel across restarts, as LevelDB on disk would be.
    const { listen: hostListen, directory: hostDirectory, recordsInMemory, ...hosting } = opts.host?.(plan) ?? { listen: '/ip4/127.0.0.1/tcp/0' }
    const observed = opts.observe?.(plan.name)
    const running = await startMaar({
      init: {
        name: plan.name,
        address: plan.address,
        pools: [plan.pool],
        ...(opts.lifetime !== undefined ? { lifetime: opts.lifetime } : {}),
        ...(opts.lifetimeCheckIntervalMs !== undefined ? { lifetimeCheckIntervalMs: opts.lifetimeCheckIntervalMs } : {}),
        ...opts.maarInit
      },
      privateKey: key,
      certificate,
      // Its own TrustStore, as a MAAR in its own process has: what it verified and cached is its own.
      trust: new TrustStore([{ domain, operatorPublicKey }]),
      listen: [listen ?? hostListen],
      bootstrap,
      cacheDir: dataDir,
      ...(recordsInMemory === true ? {} : { recordsDir: recordsDirOf(plan) }),
      dataplane: () => network.createDataPlane({ name: plan.name, address: plan.address, pools: [plan.pool] }),
      log: createLogger(plan.name, sink),
      directoryLog: line => { sink('debug', `[${plan.name}:directory] ${line}`) },
      ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
      ...hosting,
      ...observed,
      ...(hostDirectory !== undefined || observed?.directory !== undefined ? { directory: { ...hostDirectory, ...observed?.directory } } : {}),
      ...(opts.signalling !== undefined ? { signalling: opts.signalling } : {}),
      ...(opts.federation !== undefined ? { federation: opts.federation } : {})
    })
    const identity = identities[index]
    if (identity !== undefined) identity.listen = running.node.getMultiaddrs()[0]?.decapsulateCode(421).toString()
    const local: LocalMaar = { ...running, name: plan.name, address: plan.address, pool: plan.pool, key, certificate, dataDir }
    maars[index] = local
    opts.started?.(local)
    return local
  }

  const fullMesh = opts.fullMesh ?? opts.count <= 20
  const links = opts.links ?? 3
  for (let i = 0; i < opts.count; i++) {
    const plan = planOf(i + 1)
    const key = await generateKey()
    const peerId = peerIdFromPrivateKey(key).toString()
    const certificate = await issueCertificate(operatorKey, { domain, peerId, pools: [plan.pool], addresses: [plan.address], notAfter: Date.now() + 365 * 86400_000 })
    const earlier = maars.slice(0, i).filter((m): m is LocalMaar => m !== undefined)
    identities[i] = { key, certificate }
    const chosen = opts.dialPeers?.(i, earlier) ?? (fullMesh ? earlier : earlier.slice(-links))
    await startOne(i, key, certificate, chosen.map(dialAddress))
  }

  const stopMaar = async (index: number): Promise<void> => {
    const m = maars[index]
    if (m === undefined) return
    maars[index] = undefined
    await m.stop()
  }

  return {
    get maars () { return maars.filter((m): m is LocalMaar => m !== undefined) },
    network,
    trust,
    operatorKey,
    stopMaar,
    async restartMaar (index: number, options: { forgetRecords?: boolean } = {}): Promise<LocalMaar> {
      const identity = identities[index]
      if (identity === undefined) throw new Error(`maar${index + 1} was never started`)
      await stopMaar(index)
      if (options.forgetRecords === true) await rm(recordsDirOf(planOf(index + 1)), { recursive: true, force: true })
      const others = maars.filter((m): m is LocalMaar => m !== undefined)
      const chosen = opts.dialPeers?.(index, others) ?? others
      // Same port as before, as a MAAR with a configured listen address would have.
      return await startOne(index, identity.key, identity.certificate, chosen.map(dialAddress), identity.listen)
    },
    async stop (): Promise<void> {
      for (let i = maars.length - 1; i >= 0; i--) await stopMaar(i)
    }
  }
}
