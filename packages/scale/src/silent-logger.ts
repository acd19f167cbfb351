/**
 * A libp2p logger that logs nothing, for the scale engine's MAARs. libp2p's default one builds a
 * named logger (debug closures and a namespace string) for every connection, stream and muxer
 * even when no DEBUG namespace is enabled: in a heap snapshot of 250 MAARs, 169,000 debug
 * closures and 857,000 pieces of namespace strings (README "Scale").
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'

function nothing (): void {}

const silent: Logger = Object.assign(nothing.bind(null), {
  error: nothing,
  trace: nothing,
  enabled: false,
  newScope: (): Logger => silent
})

export const silentLogger: ComponentLogger = { forComponent: () => silent }

/**
 * The `logger` of a scale-hosted node's MeshNodeInit: silentLogger, or libp2p's own when
 * `libp2pLogs` asks for it (ScaleOptions.libp2pLogs) or the environment sets DEBUG, libp2p's
 * switch for its logs (e.g. DEBUG=libp2p:kad-dht* during `dmm scenario run`): silenced, DEBUG
 * would print nothing.
 */
export function scaleLogger (libp2pLogs: boolean | undefined, env: NodeJS.ProcessEnv = process.env): { logger?: ComponentLogger } {
  return libp2pLogs === true || (env.DEBUG ?? '').trim() !== '' ? {} : { logger: silentLogger }
}
