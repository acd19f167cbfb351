/**
 * Timestamps of a lookup's steps, for the benchmark that breaks its latency down
 * (bench/lookup-steps.ts, README "Benchmarks"): published on a node:diagnostics_channel, so that
 * nothing is built or timed unless a subscriber listens.
 */
import { channel } from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'

export const LOOKUP_STEPS_CHANNEL = 'dmm-mesh:lookup-steps'

/**
 * lookup-start / lookup-decided at the asker; get-sent, answer-read, validate-start, validated at
 * the asker per member; serve-start (request header read) and serve-queued (answer handed to the
 * stream) at each holder.
 */
export type LookupStepName = 'lookup-start' | 'get-sent' | 'serve-start' | 'serve-queued' | 'answer-read' | 'validate-start' | 'validated' | 'lookup-decided'
export interface LookupStep { step: LookupStepName, at: number, peer?: string }

const steps = channel(LOOKUP_STEPS_CHANNEL)

export function lookupStep (step: LookupStepName, peer?: string): void {
  if (steps.hasSubscribers) steps.publish(peer === undefined ? { step, at: performance.now() } : { step, at: performance.now(), peer })
}
