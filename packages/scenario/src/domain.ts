/**
 * What the runner needs from a running domain, behind one small interface so that another engine
 * (e.g. one for 1,000 MAARs over several processes) can plug in: attach and de-register MNs, take
 * a MAAR or the CMD down and up, read binding caches, trace packets, wait for background work.
 * `localEngine` is the in-process one: createLocalMesh (real libp2p, LevelDB, the memory data
 * plane) and, for the CMD contenders, startLocalCmd beside it, each peer's signalling delayed and
 * captured (delays.ts, frame-counter.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { LOCAL_CMD_ADDRESS, startLocalCmd } from '@dmm-mesh/cmd'
import type { LocalCmd, LocalCmdOptions } from '@dmm-mesh/cmd'
import type { MemoryNetwork } from '@dmm-mesh/dataplane'
import { TrustStore, generateKey } from '@dmm-mesh/discovery'
import type { RecordRequest } from '@dmm-mesh/discovery'
import { createLocalMesh, legacyLocalDomain, maarPlan, signallingFor } from '@dmm-mesh/maar'
import type { LocalMesh, LocalMeshOptions, Maar, MaarComponents, SignallingTransport } from '@dmm-mesh/maar'
import { PeerNames, shapingFor } from './delays.js'
import type { PairDelay } from './delays.js'
import type { FederationSpec } from './federation-engine.js'
import type { FrameCounter } from './frame-counter.js'
import { CMD_NODE } from './scenario-map.js'
import type { ContenderSpec } from './scenario-schema.js'
import { SCENARIO_DOMAIN } from './trace.js'

export interface DomainSpec {
  contender: ContenderSpec
  /** MAAR names in the scenario's order. */
  maars: string[]
  lifetimeS: number
  relayTimeoutMs: number
  /** A fresh folder for this domain's LevelDB stores (removed by stop()). */
  workDir: string
  delay: PairDelay
  frames: FrameCounter
  /** Each record GET/PUT a MAAR sent (`from`, `to`: node names), once answered or failed. */
  onRecordRequest: (from: string, to: string, request: RecordRequest) => void
  /** A federation scenario's domains and agreements (federation-engine.ts); `contender` is then the policy. */
  federation?: FederationSpec
  /** Decorates the CMD's transport after the delay (a test losing some of its forwards, say). */
  shapeCmdTransport?: (transport: SignallingTransport) => SignallingTransport
}

export interface ScenarioDomain {
  readonly network: MemoryNetwork
  /** Node (MAAR name or `cmd`) at a tunnel address, and back. */
  nodeAt: (address: string) => string | undefined
  addressOf: (node: string) => string
  /** The running MAAR of that name; undefined while it is down. */
  maar: (name: string) => Maar | undefined
  stopMaar: (name: string) => Promise<void>
  startMaar: (name: string) => Promise<void>
  stopCmd: () => Promise<void>
  startCmd: () => Promise<void>
  /** In a federation: the domain of a MAAR; the issuer revoking its agreement (answers its id); border lookups refused at a MAAR since last asked. */
  domainOf?: (maar: string) => string | undefined
  revokeAgreement?: (from: string, to: string) => Promise<string>
  borderRefusals?: (maar: string) => string[]
  /** Until every live node has finished what it started (late PBAs, forwards, publications). */
  settled: () => Promise<void>
  stop: () => Promise<void>
}

export interface DomainEngine { start: (spec: DomainSpec) => Promise<ScenarioDomain> }

/** A contender's MAAR signalling mode and CMD (mode, de-registration variant), draft-bernardos-dmm-pmip §3. */
export function contenderModes (c: ContenderSpec): { cmd?: { mode: 'relay' | 'locator' | 'proxy', deregistration: 'serving' | 'anchors' }, maar: 'dht' | 'cmd' | 'hybrid' | 'legacy' } {
  if (c === 'dht' || c === 'legacy') return { maar: c }
  if (c === 'hybrid') return { maar: 'hybrid', cmd: { mode: 'relay', deregistration: 'serving' } }
  const [mode, variant] = c.split('/') as ['relay' | 'locator' | 'proxy', 'a' | 'b' | undefined]
  return { maar: 'cmd', cmd: { mode, deregistration: variant === 'b' ? 'anchors' : 'serving' } }
}

/** What a DomainEngine over an in-process mesh asks of the mesh's builder. */
export type MeshStart = (opts: Pick<LocalMeshOptions, 'count' | 'dataDir' | 'domain' | 'operatorKey' | 'lifetime' | 'signalling' | 'observe'>) => Promise<LocalMesh>

/** What it asks of the builder of a CMD contender's CMD (startLocalCmd, or the scale engine's startScaleCmd). */
export type CmdStart = (opts: Omit<LocalCmdOptions, 'listen' | 'node'>) => Promise<LocalCmd>

/**
 * A domain engine whose MAARs come from `startMesh` (createLocalMesh, or the scale engine's
 * startScaleMesh: scale-domain.ts) and a CMD contender's CMD from `startCmd`, every peer's
 * signalling delayed and captured.
 */
export function meshEngine (startMesh: MeshStart, startCmd: CmdStart = startLocalCmd): DomainEngine {
  return { start: async spec => await startMeshDomain(spec, startMesh, startCmd) }
}

export const localEngine: DomainEngine = meshEngine(createLocalMesh)

async function startMeshDomain (spec: DomainSpec, startMesh: MeshStart, startCmd: CmdStart): Promise<ScenarioDomain> {
  const dir = await mkdtemp(join(spec.workDir, `${spec.contender.replace('/', '-')}-`))
  const peers = new PeerNames()
  const modes = contenderModes(spec.contender)
  const byAddress = new Map<string, string>()
  const localName = (name: string): string => maarPlan(spec.maars.indexOf(name) + 1).name
  const shaping = (node: string): ReturnType<typeof shapingFor> => shapingFor(node, peers, spec.delay, (r, to) => { spec.onRecordRequest(node, to, r) })
  const operatorKey = await generateKey()
  let cmd: LocalCmd | undefined
  let mesh: LocalMesh | undefined
  try {
    let signalling: MaarComponents['signalling']
    if (modes.cmd !== undefined) {
      cmd = await startCmd({
        operatorKey,
        trust: TrustStore.fromOperatorKeys([{ domain: SCENARIO_DOMAIN, publicKey: operatorKey.publicKey }]),
        domain: SCENARIO_DOMAIN,
        mode: modes.cmd.mode,
        deregistration: modes.cmd.deregistration,
        relayTimeoutMs: spec.relayTimeoutMs,
        dataDir: join(dir, 'cmd'),
        capture: spec.frames.capture(LOCAL_CMD_ADDRESS),
        shapeTransport: t => {
          const delayed = shaping(CMD_NODE).shapeTransport(t)
          return spec.shapeCmdTransport?.(delayed) ?? delayed
        }
      })
      peers.set(cmd.running.cmd.peerId, CMD_NODE)
      byAddress.set(LOCAL_CMD_ADDRESS, CMD_NODE)
      signalling = signallingFor(modes.maar === 'hybrid' ? { mode: 'hybrid', cmd: cmd.address } : { mode: 'cmd', cmd: cmd.address, deregistration: modes.cmd.deregistration })
    } else if (modes.maar === 'legacy') {
      // Classic PMIPv6 (draft-bernardos-dmm-pmip Appendix A.5): the first MAAR is the LMA.
      signalling = legacyLocalDomain()
    }
    const nameOfLocal = (local: string): string => spec.maars[Number(local.replace('maar', '')) - 1] ?? local
    mesh = await startMesh({
      count: spec.maars.length,
      dataDir: join(dir, 'maars'),
      domain: SCENARIO_DOMAIN,
      operatorKey,
      lifetime: spec.lifetimeS,
      ...(signalling !== undefined ? { signalling } : {}),
      observe: local => {
        const s = shaping(nameOfLocal(local))
        return { capture: spec.frames.capture(maarPlan(Number(local.replace('maar', ''))).address), shapeTransport: s.shapeTransport, directory: { shaper: s.shaper } }
      }
    })
    for (const m of mesh.maars) {
      peers.set(m.maar.peerId, nameOfLocal(m.name))
      byAddress.set(m.address, nameOfLocal(m.name))
    }
  } catch (err) {
    await mesh?.stop().catch(() => {})
    await cmd?.stop().catch(() => {})
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  const running = mesh
  const index = (name: string): number => spec.maars.indexOf(name)
  const live = (): Maar[] => running.maars.map(m => m.maar)
  return {
    network: running.network,
    nodeAt: address => byAddress.get(address),
    addressOf: node => node === CMD_NODE ? LOCAL_CMD_ADDRESS : maarPlan(index(node) + 1).address,
    maar: name => running.maars.find(m => m.name === localName(name))?.maar,
    stopMaar: async name => { await running.stopMaar(index(name)) },
    startMaar: async name => { await running.restartMaar(index(name)) },
    stopCmd: async () => { await cmd?.stop() },
    startCmd: async () => { await cmd?.restart() },
    settled: async () => {
      await Promise.all(live().map(async m => { await m.settled() }))
      await (async () => { await cmd?.running.cmd.settled() })().catch(() => {})
    },
    stop: async () => {
      await running.stop().catch(() => {})
      await cmd?.stop().catch(() => {})
      await rm(dir, { recursive: true, force: true })
    }
  }
}
