/** `dmm maar --config FILE`: runs one MAAR as a process until SIGINT/SIGTERM. */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LinuxDataPlane, MemoryNetwork, checkLinuxSupport } from '@dmm-mesh/dataplane'
import { TrustStore, readCertificateFile, readKeyFile } from '@dmm-mesh/discovery'
import { MaarStartError, createLogger, startMaar, stderrSink } from '@dmm-mesh/maar'
import type { DataPlane } from '@dmm-mesh/dataplane'
import { parseMaarConfig, ConfigError } from '../config.js'
import type { MaarConfig } from '../config.js'
import { listenApi } from '../api-server.js'
import { CliError } from '../errors.js'

export async function loadConfig (path: string): Promise<MaarConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read config ${path}: ${err instanceof Error ? err.message : String(err)}`)
  }
  try {
    return parseMaarConfig(text, path)
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`${path}: ${err.message}`)
    throw err
  }
}

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
    tableBase: dp.tableBase,
    radvd: { enabled: dp.radvd, runDir: dp.runDir },
    dlif: dp.dlif
  })
}

/** Runs the MAAR of a loaded config (loadConfig) until SIGINT/SIGTERM. */
export async function runMaar (config: MaarConfig): Promise<void> {
  const log = createLogger(config.name, stderrSink)
  const key = await readKeyFile(config.identity).catch(err => { throw new CliError(`identity ${config.identity}: ${err instanceof Error ? err.message : String(err)}`) })
  const certificate = await readCertificateFile(config.certificate).catch(err => { throw new CliError(`certificate ${config.certificate}: ${err instanceof Error ? err.message : String(err)}`) })
  const trust = new TrustStore([{ domain: config.domain.name, operatorPublicKey: config.domain.operatorPublicKey }])
  // The API port first: a port in use stops the start before the node joins the mesh.
  const api = await listenApi(config.api.host, config.api.port)
  let running
  try {
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
      dataplane: async () => await makeDataPlane(config),
      log,
      nodeLog: line => { log.info(line) },
      directoryLog: line => { log.info(line) }
    })
  } catch (err) {
    api.server.close()
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
}
