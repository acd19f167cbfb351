/**
 * `dmm cmd --config FILE`: runs one CMD as a process until SIGINT/SIGTERM, logging JSON lines on
 * stderr, re-reading its log level and federation section from the config file on SIGHUP. With
 * `api`, GET /status and GET /sessions answer on loopback.
 */
import { createServer } from 'node:http'
import { join } from 'node:path'
import { TrustStore, readCertificateFile, readKeyFile } from '@dmm-mesh/discovery'
import { CmdStartError, startCmd } from '@dmm-mesh/cmd'
import { FederationAgreements } from '@dmm-mesh/federation'
import type { PcapFileCapture } from '@dmm-mesh/maar'
import { createDaemonLog } from '../observability/log.js'
import { deregistrationOf, readCmdConfig } from '../config.js'
import type { CmdConfig } from '../config.js'
import { CliError } from '../errors.js'
import { openCapture } from './maar.js'
import { loadFederation } from './federation.js'
import { reloadOnHup } from './reload-on-hup.js'

export interface RunCmdOptions {
  /** The config file, read again on SIGHUP (reload-on-hup.ts). */
  configPath?: string
}

export async function runCmd (config: CmdConfig, options: RunCmdOptions = {}): Promise<void> {
  const { log, setLevel } = createDaemonLog({ scope: config.name, level: config.log.level, format: config.log.format })
  const nodeLog = log.child('node')
  const key = await readKeyFile(config.identity).catch(err => { throw new CliError(`identity ${config.identity}: ${err instanceof Error ? err.message : String(err)}`) })
  const certificate = await readCertificateFile(config.certificate).catch(err => { throw new CliError(`certificate ${config.certificate}: ${err instanceof Error ? err.message : String(err)}`) })
  const trust = new TrustStore([{ domain: config.domain.name, operatorPublicKey: config.domain.operatorPublicKey }])
  // doc/ARCHITECTURE.md "CMD domains": the CMD is its domain's border gateway, loading the
  // agreements as a MAAR does (read at start and again on SIGHUP).
  const agreements = config.federation === undefined ? undefined : new FederationAgreements({ domain: config.domain.name, operatorPublicKey: config.domain.operatorPublicKey })
  if (agreements !== undefined && config.federation !== undefined) await loadFederation(config.federation, agreements)
  let gateways = config.federation?.gateways ?? []
  const stopReloading = reloadOnHup({
    path: options.configPath, read: readCmdConfig, log, setLevel,
    ...(agreements !== undefined ? { federation: { agreements, trust, setGateways: next => { gateways = next } } } : {})
  })
  const capture: PcapFileCapture | undefined = config.capture === undefined ? undefined : openCapture(config.capture, log)
  let running
  try {
    running = await startCmd({
      init: { name: config.name, address: config.address, mode: config.mode, relayTimeoutMs: config.relayTimeoutMs, timestampValidityWindowMs: config.timestampWindow, deregistration: deregistrationOf(config.deregistration) },
      privateKey: key,
      certificate,
      trust,
      listen: config.listen,
      bootstrap: config.bootstrap,
      dataDir: join(config.dataDir, 'sessions'),
      log,
      nodeLog: line => { nodeLog.info(line) },
      ...(agreements !== undefined ? { federation: { agreements, gateways: () => gateways } } : {}),
      ...(capture !== undefined ? { capture } : {})
    })
  } catch (err) {
    capture?.close()
    stopReloading()
    if (!(err instanceof CmdStartError)) throw err
    if (err.resource === 'certificate') throw new CliError(`certificate ${config.certificate}: ${err.detail}`)
    if (err.resource === 'address') throw new CliError(err.message)
    throw err
  }
  const { cmd } = running
  let apiUrl: string | undefined
  const server = config.api === undefined ? undefined : createServer((req, res) => {
    const body = req.url === '/status'
      ? { name: config.name, peerId: cmd.peerId, mode: cmd.mode, multiaddrs: cmd.multiaddrs(), sessions: cmd.sessions().length }
      : req.url === '/sessions' ? cmd.sessions() : undefined
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body ?? { error: `no such resource ${req.url ?? ''}` }))
  })
  if (server !== undefined && config.api !== undefined) {
    const { host, port } = config.api
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve) }).catch(async err => {
      stopReloading()
      await running.stop()
      throw err
    })
    const address = server.address()
    apiUrl = typeof address === 'object' && address !== null ? `http://${host}:${address.port}` : undefined
  }
  process.stdout.write(`${JSON.stringify({ ready: true, name: config.name, role: 'cmd', mode: cmd.mode, peerId: cmd.peerId, multiaddrs: cmd.multiaddrs(), ...(apiUrl !== undefined ? { api: apiUrl } : {}) })}\n`)
  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  log.info('stopping')
  server?.close()
  await running.stop()
  capture?.close()
  stopReloading()
}
