/**
 * The Buffer pool slab of a process hosting many MAARs (options.ts WORKER_BUFFER_POOL_SIZE, README
 * "Scale"): the discovery-only engine's worker processes (worker.ts) and the process running the
 * complete MAARs of a scenario (maar-mesh.ts) set it the same way.
 */
import { WORKER_BUFFER_POOL_SIZE } from './options.js'

/** The size asked for (default WORKER_BUFFER_POOL_SIZE); throws RangeError naming a bad one. */
export function bufferPoolSizeOf (asked: number | undefined): number {
  const size = asked ?? WORKER_BUFFER_POOL_SIZE
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`bufferPoolSize must be a whole number of bytes >= 0, got ${size}`)
  return size
}

/**
 * Sets this process's Buffer.poolSize (process-wide; slabs made from now on have this size, so
 * before the MAARs allocate) and returns what puts the previous size back.
 */
export function useBufferPool (size: number): () => void {
  const before = Buffer.poolSize
  Buffer.poolSize = size
  return () => { Buffer.poolSize = before }
}
