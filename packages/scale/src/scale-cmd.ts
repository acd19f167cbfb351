/**
 * A CMD (draft-bernardos-dmm-pmip §3) beside the scale engine's MAARs (maar-mesh.ts), for the
 * scenario runner's CMD contenders (README "Scenarios", doc/ARCHITECTURE.md "Scenarios"). It is
 * what startLocalCmd builds, the same code as `dmm cmd`: libp2p node, certificate for the role
 * CMD, the session store in LevelDB on disk (one node: no need for memory-level), the Cmd in the
 * given mode. Only its hosting follows the MAARs': libp2p's memory transport (the MAARs dial
 * nothing else), the scale engine's quiet upkeep, membership-proof bound and silent libp2p logger, and a connection cap
 * above the number of MAARs, since every MAAR keeps a connection to it.
 */
import { startLocalCmd } from '@dmm-mesh/cmd'
import type { LocalCmd, LocalCmdOptions } from '@dmm-mesh/cmd'
import { scaleNodeTuning } from './maar-mesh.js'
import { SCALE_MAX_CONNECTIONS } from './options.js'
import type { ScaleMeshOptions } from './maar-mesh.js'

export type ScaleCmdOptions = Omit<LocalCmdOptions, 'listen' | 'node'> & Pick<ScaleMeshOptions, 'maintenance' | 'proofTimeoutMs' | 'libp2pLogs'>

/** Starts a CMD on the memory transport of this process; a restart listens at the same address. */
export async function startScaleCmd (opts: ScaleCmdOptions): Promise<LocalCmd> {
  const { maintenance, proofTimeoutMs, libp2pLogs, ...local } = opts
  // One memory address space per process: the name carries the pid, as the MAARs' do.
  const listen = `/memory/cmd-${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`
  return await startLocalCmd({ ...local, listen, node: { ...scaleNodeTuning({ maintenance, proofTimeoutMs, libp2pLogs }), maxConnections: SCALE_MAX_CONNECTIONS } })
}
