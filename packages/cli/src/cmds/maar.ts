/** `dmm maar --config FILE`: runs one MAAR as a process until SIGINT/SIGTERM. */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BindingCache } from '@dmm-mesh/binding-cache'
import { LinuxDataPlane, MemoryNetwork, checkLinuxSupport } from '@dmm-mesh/dataplane'
import { SessionDirectory, TrustStore, createMeshNode, readCertificateFile, readKeyFile } from '@dmm-mesh/discovery'
import { Maar, createLogger, stderrSink } from '@dmm-mesh/maar'
import type { DataPlane } from '@dmm-mesh/dataplane'
import { parseMaarConfig, ConfigError } from '../config.js'
import type { MaarConfig } from '../config.js'
import { startApiServer } from '../api-server.js'
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

export async function runMaar (configPath: string): Promise<void> {
  const config = await loadConfig(configPath)
  const log = createLogger(config.name, stderrSink)
  const key = await readKeyFile(config.identity).catch(err => { throw new CliError(`identity ${config.identity}: ${err instanceof Error ? err.message : String(err)}`) })
  const certificate = await readCertificateFile(config.certificate).catch(err => { throw new CliError(`certificate ${config.certificate}: ${err instanceof Error ? err.message : String(err)}`) })
  const trust = new TrustStore([{ domain: config.domain.name, operatorPublicKey: config.domain.operatorPublicKey }])
  const node = await createMeshNode({ privateKey: key, listen: config.listen, bootstrap: config.bootstrap, trust, log: line => { log.info(line) } })
  let cert
  try {
    cert = await trust.verify(certificate, { peerId: node.peerId.toString() })
  } catch (err) {
    await node.stop()
    throw new CliError(`certificate ${config.certificate} is not valid for this MAAR: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!trust.certifiesAddress(cert, config.address)) {
    await node.stop()
    throw new CliError(`address ${config.address} is not one of the certificate's tunnel addresses (${cert.addresses.join(', ')})`)
  }
  if (!trust.covers(cert, config.pools)) {
    await node.stop()
    throw new CliError(`pools ${config.pools.join(', ')} are not all covered by the certificate (it grants ${cert.pools.join(', ')})`)
  }
  await mkdir(config.dataDir, { recursive: true })
  const cache = await BindingCache.open(join(config.dataDir, 'binding-cache'))
  const dataplane = await makeDataPlane(config)
  const directory = new SessionDirectory(node, { privateKey: key, certificate, trust, log: line => { log.info(line) } })
  const maar = new Maar({
    name: config.name, address: config.address, pools: config.pools, delegatedPrefixLength: config.prefixLength,
    lifetime: config.lifetime, node, directory, cache, dataplane, trust, certificate, cert, log
  })
  await directory.start()
  await maar.start()
  const api = await startApiServer(maar, config.api.host, config.api.port)
  // One line on stdout that scripts can wait for.
  process.stdout.write(`${JSON.stringify({ ready: true, name: config.name, peerId: maar.peerId, multiaddrs: maar.multiaddrs(), api: api.url })}\n`)

  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  log.info('stopping')
  api.server.close()
  await maar.stop()
  await directory.stop()
  await node.stop()
  await cache.close()
}
