import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BindingCacheEntry } from '../src/index.js'

/** Inside a mocha `describe`: a fresh directory per call, all under one temp root removed after the suite. */
export function tempDirs (name: string): () => string {
  let root = ''
  let n = 0
  before(async () => { root = await mkdtemp(join(tmpdir(), `${name}-`)) })
  after(async () => { await rm(root, { recursive: true, force: true }) })
  return () => join(root, `db${n++}`)
}

/** An attached entry with no anchors, at sequence 1. */
export function attachedEntry (mnId: string, localPrefixes: string[]): BindingCacheEntry {
  return {
    mnId,
    localPrefixes,
    attached: true,
    remoteAnchors: [],
    lastUpdate: { sequence: 1, timestampMs: 1_700_000_000_000 },
    sessionSequence: 1,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000
  }
}
