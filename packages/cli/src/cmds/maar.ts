/**
 * `dmm maar --config FILE`: runs one MAAR as a process until SIGINT/SIGTERM, logging JSON lines
 * (or pretty ones) on stderr, counting for GET /metrics, capturing its PBU/PBA when asked to, and
 * re-reading its log level from the config file on SIGHUP.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { LinuxDataPlane, MemoryNetwork, checkLinuxSupport } from '@dmm-mesh/dataplane'
import { TrustStore, readCertificateFile, readKeyFile } from '@dmm-mesh/discovery'
import { MaarStartError, PcapFileCapture, signallingFor, startMaar } from '@dmm-mesh/maar'
import type { Logger } from '@dmm-mesh/maar'
import type { DataPlane } from '@dmm-mesh/dataplane'
import { FederationAgreements } from '@dmm-mesh/federation'
import { createDaemonLog } from '../observability/log.js'
import { loadFederation } from './federation.js'
import { reloadOnHup } from './reload-on-hup.js'
import { PrometheusMetrics } from '../observability/metrics.js'
import { readMaarConfig } from '../config.js'
import type { MaarConfig } from '../config.js'
import { listenApi } from '../api-server.js'
import { CliError } from '../errors.js'

async function makeDataPlane (config: MaarConfig): Promise<DataPlane> {
  const dp = config.dataplane
  if (dp.driver === 'memory') {
    return new MemoryNetwork().createDataPlane({ name: config.name, address: config.address, pools: config.pools })
  }
  const support = await checkLinuxSupport()
  if (!support.ok) throw new CliError(`dataplane.driver linux cannot run here: ${support.reason ?? 'unknown reason'}`)
  await mkdir(dp.runDir, { recursive: true })
  return new LinuxDataPlane({
    tunnelKind: dp.tunnelKind,
    tunnelAddress: config.address,
    backboneInterface: dp.backboneInterface,
    ownPools: config.pools,
    tableBase: dp.tableBase,
    radvd: { enabled: dp.radvd, runDir: dp.runDir },
    dlif: dp.dlif
  })
}

export interface RunMaarOptions {
  /** The config file, read again on SIGHUP for its log level. */
  configPath?: string
}

/** Runs the MAAR of a config (readMaarConfig, with the command line's overrides) until SIGINT/SIGTERM. */
export async function runMaar (config: MaarConfig, options: RunMaarOptions = {}): Promise<void> {
  const daemonLog = createDaemonLog({ scope: config.name, level: config.log.level, format: config.log.format })
  const log = daemonLog.log
  // doc/ARCHITECTURE.md "Federation": the agreements are read at start and again on SIGHUP.
  const agreements = config.federation === undefined ? undefined : new FederationAgreements({ domain: config.domain.name, operatorPublicKey: config.domain.operatorPublicKey })
  const trust = new TrustStore([{ domain: config.domain.name, operatorPublicKey: config.domain.operatorPublicKey }])
  let gateways = config.federation?.gateways ?? []
  const stopReloading = reloadOnHup({
    path: options.configPath, read: readMaarConfig, log, setLevel: daemonLog.setLevel,
    ...(agreements !== undefined ? { federation: { agreements, trust, setGateways: next => { gateways = next } } } : {})
  })
  const metrics = new PrometheusMetrics()
  const nodeLog = log.child('node')
  const directoryLog = log.child('directory')
  const key = await readKeyFile(config.identity).catch(err => { throw new CliError(`identity ${config.identity}: ${err instanceof Error ? err.message : String(err)}`) })
  const certificate = await readCertificateFile(config.certificate).catch(err => { throw new CliError(`certificate ${config.certificate}: ${err instanceof Error ? err.message : String(err)}`) })
  if (agreements !== undefined && config.federation !== undefined) await loadFederation(config.federation, agreements).catch(err => { stopReloading(); throw err })
  // The API port first: a port in use stops the start before the node joins the mesh.
  const api = await listenApi(config.api.host, config.api.port)
  let running
  let capture: PcapFileCapture | undefined
  try {
    capture = config.capture === undefined ? undefined : openCapture(config.capture, log)
    running = await startMaar({
      init: {
        name: config.name,
        address: config.address,
        pools: config.pools,
        delegatedPrefixLength: config.prefixLength,
        lifetime: config.lifetime,
        timestampValidityWindowMs: config.timestampWindow
      },
      privateKey: key,
      certificate,
      trust,
      listen: config.listen,
      bootstrap: config.bootstrap,
      cacheDir: join(config.dataDir, 'binding-cache'),
      recordsDir: join(config.dataDir, 'session-records'),
      dataplane: async () => await makeDataPlane(config),
      log,
      nodeLog: line => { nodeLog.info(line) },
      directoryLog: line => { directoryLog.info(line) },
      metrics,
      signalling: signallingFor(config.discovery),
      ...(agreements !== undefined ? { federation: { agreements, gateways: () => gateways } } : {}),
      ...(capture !== undefined ? { capture } : {})
    })
  } catch (err) {
    api.server.close()
    capture?.close()
    stopReloading()
    if (!(err instanceof MaarStartError)) throw err
    if (err.cause instanceof CliError) throw err.cause
    if (err.resource === 'certificate') throw new CliError(`certificate ${config.certificate}: ${err.detail}`)
    if (err.resource === 'address' || err.resource === 'pools') throw new CliError(err.message)
    // A resource (port, LevelDB lock, data folder): bin.ts names it from the cause chain.
    throw err
  }
  const { maar } = running
  api.serve(maar)
  // One line on stdout that scripts can wait for.
  process.stdout.write(`${JSON.stringify({ ready: true, name: config.name, peerId: maar.peerId, multiaddrs: maar.multiaddrs(), api: api.url })}\n`)

  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  log.info('stopping')
  api.server.close()
  await running.stop()
  capture?.close()
  stopReloading()
}

export function openCapture (path: string, log: Logger): PcapFileCapture {
  try {
    const capture = new PcapFileCapture(path, log)
    log.info('capturing PBU/PBA', { file: path })
    return capture
  } catch (err) {
    throw new CliError(`capture ${path}: ${err instanceof Error ? err.message : String(err)}`)
  }
}
