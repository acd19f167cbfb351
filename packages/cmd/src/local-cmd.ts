/**
 * A CMD in the same process as a local mesh (maar's local-mesh.ts): its own key, a CMD
 * certificate from the mesh's operator key, LevelDB in `dataDir`, loopback. The quickstart and
 * the tests use it; a restart reuses the key, certificate, folder and port.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKey, issueCertificate } from '@dmm-mesh/discovery'
import type { TrustStore } from '@dmm-mesh/discovery'
import { createLogger, silentSink } from '@dmm-mesh/maar'
import type { LogSink, MaarFederation, MessageCapture } from '@dmm-mesh/maar'
import type { PrivateKey } from '@libp2p/interface'
import { startCmd } from './create-cmd.js'
import type { RunningCmd, StartCmdOptions } from './create-cmd.js'
import type { CmdInit, CmdMode } from './cmd.js'

export const LOCAL_CMD_ADDRESS = '2001:db8:fffe::1'

/** The CMD address of the k-th domain of a local federation: each domain's CMD its own (k ≥ 1). */
export const federatedCmdAddress = (k: number): string => `2001:db8:fffe:${k.toString(16)}00::1`

export interface LocalCmdOptions {
  operatorKey: PrivateKey
  trust: TrustStore
  domain?: string
  mode: CmdMode
  dataDir: string
  /** The CMD's address (its certificate names it; default LOCAL_CMD_ADDRESS). */
  address?: string
  relayTimeoutMs?: number
  deregistration?: CmdInit['deregistration']
  log?: LogSink
  capture?: MessageCapture
  /** The domain's agreements and the other domains' gateways (federated-cmd.ts). */
  federation?: MaarFederation
  shapeTransport?: StartCmdOptions['shapeTransport']
  /** Where it listens (default TCP on loopback, a free port); kept across a restart. */
  listen?: string
  /** libp2p settings for the scale engine (StartCmdOptions `node`). */
  node?: StartCmdOptions['node']
}

export interface LocalCmd {
  /** The running CMD (a new one after restart()). */
  readonly running: RunningCmd
  /** Its multiaddr with /p2p/, for the MAARs' `cmd` mode. */
  readonly address: string
  stop: () => Promise<void>
  restart: () => Promise<RunningCmd>
}

export async function startLocalCmd (opts: LocalCmdOptions): Promise<LocalCmd> {
  const key = await generateKey()
  const cmdAddress = opts.address ?? LOCAL_CMD_ADDRESS
  const certificate = await issueCertificate(opts.operatorKey, {
    role: 'cmd', domain: opts.domain ?? 'dmm.example', peerId: peerIdFromPrivateKey(key).toString(), pools: [], addresses: [cmdAddress], notAfter: Date.now() + 365 * 86400_000
  })
  let listen = opts.listen ?? '/ip4/127.0.0.1/tcp/0'
  const launch = async (): Promise<RunningCmd> => {
    const running = await startCmd({
      init: { name: 'cmd', address: cmdAddress, mode: opts.mode, ...(opts.relayTimeoutMs !== undefined ? { relayTimeoutMs: opts.relayTimeoutMs } : {}), ...(opts.deregistration !== undefined ? { deregistration: opts.deregistration } : {}) },
      privateKey: key, certificate, trust: opts.trust, listen: [listen], bootstrap: [], dataDir: opts.dataDir,
      log: createLogger('cmd', opts.log ?? silentSink), ...(opts.capture !== undefined ? { capture: opts.capture } : {}),
      ...(opts.federation !== undefined ? { federation: opts.federation } : {}),
      ...(opts.shapeTransport !== undefined ? { shapeTransport: opts.shapeTransport } : {}),
      ...(opts.node !== undefined ? { node: opts.node } : {})
    })
    // The same port after a restart, as a CMD with a configured listen address has.
    listen = running.node.getMultiaddrs()[0]?.decapsulateCode(421).toString() ?? listen
    return running
  }
  let running: RunningCmd | undefined = await launch()
  const address = running.node.getMultiaddrs()[0]?.toString() ?? ''
  return {
    get running () {
      if (running === undefined) throw new Error('the CMD is stopped')
      return running
    },
    address,
    stop: async () => { await running?.stop(); running = undefined },
    restart: async () => { await running?.stop(); running = await launch(); return running }
  }
}
