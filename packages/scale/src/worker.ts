/**
 * One worker process of the scale engine (engine.ts): hosts a ScaleSlice and runs the engine's
 * requests on it. Requests come over the IPC channel ({ id, op, args }); each answer is
 * { id, ok, value } or { id, ok: false, error }. The slice's settings come in argv[2] (JSON).
 */
import { ScaleSlice } from './slice.js'
import type { SliceInit } from './slice.js'
import { SLICE_OPS } from './slice-handle.js'
import type { SliceOp } from './slice-handle.js'
import { useBufferPool } from './buffer-pool.js'

interface Request { id: number, op: SliceOp, args: unknown[] }

const init = JSON.parse(process.argv[2] ?? '{}') as SliceInit
// Before any MAAR allocates: slabs made from now on have this size (options.ts WORKER_BUFFER_POOL_SIZE).
if (init.bufferPoolSize !== undefined) useBufferPool(init.bufferPoolSize)
const slice = new ScaleSlice(init)

process.on('message', (msg: Request) => {
  const reply = (answer: Record<string, unknown>): void => { process.send?.({ id: msg.id, ...answer }) }
  if (!SLICE_OPS.includes(msg.op)) {
    reply({ ok: false, error: `unknown op ${String(msg.op)}` })
    return
  }
  const run = slice[msg.op] as (...args: unknown[]) => unknown
  Promise.resolve().then(() => run.apply(slice, msg.args)).then(
    value => { reply({ ok: true, value }) },
    (err: unknown) => { reply({ ok: false, error: err instanceof Error ? err.message : String(err) }) }
  )
})
process.on('disconnect', () => { void slice.stop().finally(() => process.exit(0)) })
