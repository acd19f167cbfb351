/**
 * The engine's view of a slice of MAARs, whether it runs in the engine's process (ScaleSlice) or
 * in a worker process (WorkerSlice, over IPC with the same requests).
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ScaleSlice } from './slice.js'
import type { LookupSample, ScaleIdentity, SliceInit, SliceMemory } from './slice.js'

export const SLICE_OPS = ['start', 'attach', 'lookup', 'settled', 'counters', 'kill', 'memory', 'stop'] as const
export type SliceOp = typeof SLICE_OPS[number]

type Counters = ReturnType<ScaleSlice['counters']>

export interface SliceHandle {
  start: (identity: ScaleIdentity, bootstrap: string[]) => Promise<string[]>
  attach: (mnId: string, index: number, sequence: number) => Promise<void>
  lookup: (mnId: string, index: number) => Promise<LookupSample>
  settled: () => Promise<void>
  counters: () => Promise<Counters>
  kill: (indices: number[]) => Promise<void>
  memory: () => Promise<SliceMemory>
  stop: () => Promise<void>
}

export function localSlice (init: SliceInit): SliceHandle {
  const slice = new ScaleSlice(init)
  return {
    start: async (identity, bootstrap) => await slice.start(identity, bootstrap),
    attach: async (mnId, index, sequence) => { await slice.attach(mnId, index, sequence) },
    lookup: async (mnId, index) => await slice.lookup(mnId, index),
    settled: async () => { await slice.settled() },
    counters: async () => slice.counters(),
    kill: async indices => { await slice.kill(indices) },
    memory: async () => slice.memory(),
    stop: async () => { await slice.stop() }
  }
}

/** A slice in a child process of its own (worker.ts), run with the engine process's node flags and then `flags`. */
export function workerSlice (init: SliceInit, flags: readonly string[] = []): SliceHandle {
  const child: ChildProcess = fork(fileURLToPath(new URL('./worker.js', import.meta.url)), [JSON.stringify(init)], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...flags] })
  let exit: string | undefined
  const pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  let next = 0
  child.on('message', (msg: { id: number, ok: boolean, value?: unknown, error?: string }) => {
    const p = pending.get(msg.id)
    pending.delete(msg.id)
    if (msg.ok) p?.resolve(msg.value)
    else p?.reject(new Error(`worker ${child.pid ?? '?'}: ${msg.error ?? 'failed'}`))
  })
  const fail = (why: string): void => {
    exit ??= why
    for (const p of pending.values()) p.reject(new Error(exit))
    pending.clear()
  }
  child.on('exit', code => { fail(`worker ${child.pid ?? '?'} exited (${String(code)})`) })
  // A send to a worker that has just exited: an error event, which must not end the engine's process.
  child.on('error', err => { fail(`worker ${child.pid ?? '?'}: ${err.message}`) })
  const call = async <T>(op: SliceOp, ...args: unknown[]): Promise<T> => await new Promise<T>((resolve, reject) => {
    // A worker that could not start (e.g. a node flag it refused) has exited already.
    if (exit !== undefined) { reject(new Error(exit)); return }
    const id = next++
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
    child.send({ id, op, args })
  })
  return {
    start: async (identity, bootstrap) => await call('start', identity, bootstrap),
    attach: async (mnId, index, sequence) => { await call('attach', mnId, index, sequence) },
    lookup: async (mnId, index) => await call('lookup', mnId, index),
    settled: async () => { await call('settled') },
    counters: async () => await call('counters'),
    kill: async indices => { await call('kill', indices) },
    memory: async () => await call('memory'),
    stop: async () => {
      await call('stop')
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.disconnect()
      await exited
    }
  }
}
