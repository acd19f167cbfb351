/** The mesh invariants live with the scenario checks (packages/scenario/src/invariants.ts). */
export { meshViolations } from '@dmm-mesh/scenario'
export type { CacheSnapshot } from '@dmm-mesh/scenario'
