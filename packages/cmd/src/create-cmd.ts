/**
 * One factory for a running CMD (as create-maar.ts is for a MAAR): the libp2p node of the domain,
 * its certificate checked for the role CMD (a MAAR's cannot act as one), the LevelDB session
 * store, the Cmd. A failure half way through stops what had started and rejects with a
 * CmdStartError naming the resource.
 */
import { createMeshNode } from '@dmm-mesh/discovery'
import type { MaarCertificate, MeshNodeInit, TrustStore } from '@dmm-mesh/discovery'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { StartupSteps } from '@dmm-mesh/maar'
import type { Logger, MaarFederation, MeshNodeTuning, MessageCapture } from '@dmm-mesh/maar'
import { Cmd } from './cmd.js'
import type { CmdComponents, CmdInit } from './cmd.js'
import { CmdSessionStore } from './session-store.js'
import { cmdBorder } from './federated-cmd.js'

export interface StartCmdOptions {
  init: CmdInit
  privateKey: PrivateKey
  certificate: Uint8Array
  trust: TrustStore
  listen: string[]
  bootstrap: string[]
  /** LevelDB folder of the sessions (created if missing). */
  dataDir: string
  log: Logger
  nodeLog?: (line: string) => void
  capture?: MessageCapture
  shapeTransport?: CmdComponents['shapeTransport']
  clock?: () => number
  /** Agreements and the other domains' gateways: the CMD is this domain's gateway (federated-cmd.ts). */
  federation?: MaarFederation
  /**
   * libp2p settings beyond the deployed defaults, as a MAAR's `node` (create-maar.ts): only the
   * scale engine passes them (packages/scale scale-cmd.ts: memory transport, quiet upkeep).
   */
  node?: CmdNodeTuning
}

/** The libp2p settings a host of many simulated nodes may change: a MAAR's, and the cap of connections (every MAAR dials the CMD). */
export type CmdNodeTuning = MeshNodeTuning & Pick<MeshNodeInit, 'maxConnections'>

export interface RunningCmd {
  cmd: Cmd
  node: Libp2p
  store: CmdSessionStore
  cert: MaarCertificate
  stop: () => Promise<void>
}

export class CmdStartError extends Error {
  constructor (readonly resource: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`${resource}: ${detail}`, options)
    this.name = 'CmdStartError'
  }
}

const reason = (err: unknown): string => err instanceof Error ? err.message : String(err)

export async function startCmd (opts: StartCmdOptions): Promise<RunningCmd> {
  const steps = new StartupSteps((what, detail, cause) => new CmdStartError(what, detail, { cause }), err => err instanceof CmdStartError)
  const step = async <T>(what: string, work: () => Promise<T>): Promise<T> => await steps.step(what, work)
  const { trust } = opts
  // Before any connection, as for a MAAR: federated peers are guests of the membership gate.
  opts.federation?.agreements.federate(trust)
  const node = await step('libp2p node', async () => await createMeshNode({
    ...opts.node, privateKey: opts.privateKey, certificate: opts.certificate, listen: opts.listen, bootstrap: opts.bootstrap, trust, ...(opts.nodeLog !== undefined ? { log: opts.nodeLog } : {})
  }))
  steps.onStop(async () => { await node.stop() })
  const cert = await step('certificate', async () => {
    const cert = await trust.verify(opts.certificate, { peerId: node.peerId.toString() }).catch(err => { throw new CmdStartError('certificate', `not valid for this CMD: ${reason(err)}`) })
    if (cert.role !== 'cmd') throw new CmdStartError('certificate', `issued for the role ${cert.role}, not for a CMD (dmm cert --role cmd)`)
    if (!trust.certifiesAddress(cert, opts.init.address)) throw new CmdStartError('address', `${opts.init.address} is not one of the certificate's addresses (${cert.addresses.join(', ')})`)
    return cert
  })
  const store = await step(`session store ${opts.dataDir}`, async () => await CmdSessionStore.open(opts.dataDir))
  steps.onStop(async () => { await store.close() })
  for (const p of store.problems) opts.log.warn('session store: corrupt entry left out', { key: p.key, reason: p.reason })
  const federation = opts.federation
  const border = federation === undefined
    ? undefined
    : cmdBorder({ node, privateKey: opts.privateKey, certificate: opts.certificate, trust, store, log: line => { opts.log.info(line) } }, federation)
  if (border !== undefined) {
    await step('border gateway', async () => { await border.start() })
    steps.onStop(async () => { await border.stop() })
  }
  const cmd = await step('CMD', async () => new Cmd({
    node, trust, certificate: opts.certificate, cert, store, log: opts.log,
    ...(border !== undefined ? { foreignSession: border.foreignSession } : {}),
    ...(opts.capture !== undefined ? { capture: opts.capture } : {}),
    ...(opts.shapeTransport !== undefined ? { shapeTransport: opts.shapeTransport } : {}),
    ...(opts.clock !== undefined ? { clock: opts.clock } : {})
  }, opts.init))
  steps.onStop(async () => { await cmd.stop() })
  await step('CMD start', async () => { await cmd.start() })
  return { cmd, node, store, cert, stop: steps.stopAll }
}
