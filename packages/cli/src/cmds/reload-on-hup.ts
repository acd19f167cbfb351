/**
 * SIGHUP (`systemctl reload`) for `dmm maar` and `dmm cmd`: the config file is read again, its
 * log.level applied over a --log-level given at start, and its federation section loaded
 * (doc/ARCHITECTURE.md "Federation": a dropped or revoked agreement stops new cross-border
 * registrations and border lookups at once). A file that no longer reads or checks changes
 * nothing and says why; agreements that no longer load leave those loaded before in force.
 */
import type { TrustStore } from '@dmm-mesh/discovery'
import type { FederationAgreements } from '@dmm-mesh/federation'
import type { Logger } from '@dmm-mesh/maar'
import type { FederationConfig, LogLevel } from '../config.js'
import { loadFederation } from './federation.js'

/** What a reload reads of either daemon's config. */
export interface ReloadableConfig { log: { level: LogLevel }, federation?: FederationConfig }

export interface HupReload<C extends ReloadableConfig> {
  /** The config file; without one a SIGHUP is ignored, with a warning. */
  path: string | undefined
  read: (path: string) => Promise<C>
  log: Logger
  setLevel: (level: LogLevel) => void
  /** The daemon's agreements, when its config had a federation section at start. */
  federation?: { agreements: FederationAgreements, trust: TrustStore, setGateways: (gateways: string[]) => void }
}

/** Reloads on every SIGHUP until the returned function is called. */
export function reloadOnHup<C extends ReloadableConfig> (r: HupReload<C>): () => void {
  const { path, log } = r
  const onHup = (): void => {
    if (path === undefined) {
      log.warn('SIGHUP ignored: no config file to read again')
      return
    }
    r.read(path).then(async config => {
      r.setLevel(config.log.level)
      log.info('log level set from config on SIGHUP', { logLevel: config.log.level, file: path })
      await reloadFederation(r, config).catch(err => {
        log.warn('SIGHUP: federation agreements not reloaded; those loaded before stay in force', { file: path, error: err instanceof Error ? err.message : String(err) })
      })
    }, err => {
      log.warn('SIGHUP: config not reloaded, log level unchanged', { file: path, error: err instanceof Error ? err.message : String(err) })
    })
  }
  process.on('SIGHUP', onHup)
  return () => { process.off('SIGHUP', onHup) }
}

async function reloadFederation<C extends ReloadableConfig> (r: HupReload<C>, config: C): Promise<void> {
  if (r.federation === undefined) return
  const { agreements, trust, setGateways } = r.federation
  // A config that drops its federation section drops every agreement.
  const federation = config.federation ?? { agreements: [], revocations: [], gateways: [] }
  await loadFederation(federation, agreements)
  agreements.federate(trust)
  setGateways(federation.gateways)
  r.log.info('federation agreements reloaded on SIGHUP', { agreements: agreements.list().map(a => a.id).join(',') })
}
