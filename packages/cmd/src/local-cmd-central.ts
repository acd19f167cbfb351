/**
 * A CMD domain in a local federation (maar's createLocalFederation, doc/ARCHITECTURE.md "CMD
 * domains"): the domain's CMD started with its agreements before its MAARs, which then signal
 * through it (the CMD's mode), and which the other domains ask as the domain's gateway.
 */
import { TrustStore } from '@dmm-mesh/discovery'
import { signallingFor } from '@dmm-mesh/maar'
import type { LocalCentralFactory, MessageCapture } from '@dmm-mesh/maar'
import type { CmdMode } from './cmd.js'
import { federatedCmdAddress, startLocalCmd } from './local-cmd.js'
import type { LocalCmd, LocalCmdOptions } from './local-cmd.js'

export interface LocalCmdCentralOptions {
  relayTimeoutMs?: number
  capture?: MessageCapture
  /** Wraps the CMD's signalling transport (e.g. the scenario runner's delays, maar delay-transport.ts). */
  shapeTransport?: LocalCmdOptions['shapeTransport']
  /** Receives the CMD once started (tests reach its session store and transport). */
  started?: (cmd: LocalCmd) => void
}

export function localCmdCentral (mode: CmdMode, opts: LocalCmdCentralOptions = {}): LocalCentralFactory {
  return async ctx => {
    const trust = TrustStore.fromOperatorKeys([{ domain: ctx.domain, publicKey: ctx.operatorKey.publicKey }])
    const cmd = await startLocalCmd({
      operatorKey: ctx.operatorKey, trust, domain: ctx.domain, mode, dataDir: ctx.dataDir, address: federatedCmdAddress(ctx.index),
      federation: { agreements: ctx.agreements, gateways: ctx.gateways },
      ...(ctx.log !== undefined ? { log: ctx.log } : {}),
      ...(opts.relayTimeoutMs !== undefined ? { relayTimeoutMs: opts.relayTimeoutMs } : {}),
      ...(opts.capture !== undefined ? { capture: opts.capture } : {}),
      ...(opts.shapeTransport !== undefined ? { shapeTransport: opts.shapeTransport } : {})
    })
    opts.started?.(cmd)
    return { address: cmd.address, signalling: signallingFor({ mode: 'cmd', cmd: cmd.address }), settled: async () => { await cmd.running.cmd.settled() }, stop: cmd.stop }
  }
}
