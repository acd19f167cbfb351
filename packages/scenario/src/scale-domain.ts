/**
 * The scale engine as a scenario's domain (README "Scenarios", doc/ARCHITECTURE.md "Scenarios"):
 * the same complete MAARs as localEngine (startMaar through createLocalMesh), hosted as the scale
 * engine hosts hundreds in one process (packages/scale maar-mesh.ts: memory transport, quiet
 * kad-dht upkeep, 60 s membership proofs, binding caches on memory-level), and for a CMD
 * contender the CMD startLocalCmd builds, on the same memory transport and upkeep (scale-cmd.ts),
 * with every peer's signalling delayed and captured exactly as on the local engine. The
 * dependency runs one way: scenario uses scale, scale knows nothing of scenarios.
 */
import { startScaleCmd, startScaleMesh } from '@dmm-mesh/scale'
import { meshEngine } from './domain.js'
import type { DomainEngine } from './domain.js'
import { scaleMisfit } from './scenario-schema.js'

const onScale = meshEngine(startScaleMesh, startScaleCmd)

export const scaleEngine: DomainEngine = {
  async start (spec) {
    // A federation needs createLocalFederation's domains.
    const why = spec.federation !== undefined ? 'federation scenarios run on the local engine (set engine: local)' : scaleMisfit(spec.contender)
    if (why !== undefined) throw new Error(why)
    return await onScale.start(spec)
  }
}
