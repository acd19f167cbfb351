/**
 * The CMD's mobility sessions in LevelDB (draft-bernardos-dmm-pmip §3: the CMD keeps, per MN, the
 * serving MAAR — its proxy-CoA — and the P-MAAR list with the prefix each delegated). One key per
 * MN (`session!<MN-ID>`), written with sync so that a restart loses no accepted registration.
 * Opening reads every entry and checks its shape: a corrupt one is reported by key and left out,
 * the rest are served.
 */
import { mkdir } from 'node:fs/promises'
import { Level } from 'level'
import type { MaarRef } from '@dmm-mesh/wire'

export interface SessionAnchor { ref: MaarRef, prefixes: string[] }

export interface CmdSession {
  mnId: string
  /** The MN's serving MAAR (RFC 8885 §3: its tunnel address is the proxy-CoA). */
  serving: MaarRef
  /** Every MAAR anchoring a prefix of the MN, the serving MAAR included, with those prefixes. */
  anchors: SessionAnchor[]
  /** Timestamp and 16-bit sequence of the last accepted PBU (RFC 5213 §5.5). */
  timestampMs: number
  sequence: number
  /** The session sequence that serving MAARs' session records must exceed. */
  sessionSequence: number
  /** Seconds. */
  lifetime: number
  updatedAt: number
}

export interface StoreProblem { key: string, reason: string }

const PREFIX = 'session!'
/** The last sequence of each ended session: the next session of that MN must go above it. */
const ENDED = 'ended!'
const TEXT = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const

export class CmdSessionStore {
  private readonly sessions = new Map<string, CmdSession>()
  private readonly ended = new Map<string, number>()
  readonly problems: StoreProblem[] = []

  private constructor (private readonly db: Level<string, string>) {}

  static async open (dir: string): Promise<CmdSessionStore> {
    await mkdir(dir, { recursive: true })
    const db = new Level<string, string>(dir, TEXT)
    await db.open()
    const store = new CmdSessionStore(db)
    for await (const [key, value] of db.iterator({ gte: PREFIX, lt: PREFIX + '\uffff' })) {
      try {
        const s = decodeSession(value)
        if (PREFIX + s.mnId !== key) throw new Error(`holds the session of ${JSON.stringify(s.mnId).slice(0, 60)}`)
        store.sessions.set(s.mnId, s)
      } catch (err) {
        store.problems.push({ key, reason: err instanceof Error ? err.message : String(err) })
      }
    }
    for await (const [key, value] of db.iterator({ gte: ENDED, lt: ENDED + '\uffff' })) {
      const sequence = Number(value)
      if (int(sequence) && value === String(sequence)) store.ended.set(key.slice(ENDED.length), sequence)
      else store.problems.push({ key, reason: `ended sequence: ${JSON.stringify(value.slice(0, 40))} is not a non-negative integer` })
    }
    return store
  }

  get (mnId: string): CmdSession | undefined {
    return this.sessions.get(mnId)
  }

  all (): CmdSession[] {
    return [...this.sessions.values()]
  }

  async put (s: CmdSession): Promise<void> {
    await this.db.put(PREFIX + s.mnId, JSON.stringify(s), { sync: true })
    this.sessions.set(s.mnId, s)
  }

  async delete (mnId: string): Promise<void> {
    await this.db.del(PREFIX + mnId, { sync: true })
    this.sessions.delete(mnId)
  }

  /**
   * Ends the MN's session, keeping `sequence`, that of its withdrawn session record: a later
   * session starts above it, or its records would be refused as older than the withdrawal.
   */
  async end (mnId: string, sequence: number): Promise<void> {
    await this.db.batch([{ type: 'del', key: PREFIX + mnId }, { type: 'put', key: ENDED + mnId, value: String(sequence) }], { sync: true })
    this.sessions.delete(mnId)
    this.ended.set(mnId, sequence)
  }

  /** The last sequence of the MN's ended session, if one ended. */
  endedSequence (mnId: string): number | undefined {
    return this.ended.get(mnId)
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}

function isRef (v: unknown): v is MaarRef {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  return typeof r.peerId === 'string' && typeof r.address === 'string' && Array.isArray(r.multiaddrs) && r.multiaddrs.every(m => typeof m === 'string')
}

const int = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

/** A stored session, checked field by field; throws saying which field is wrong. */
export function decodeSession (text: string): CmdSession {
  let v: unknown
  try { v = JSON.parse(text) } catch { throw new Error('not JSON') }
  if (typeof v !== 'object' || v === null) throw new Error('not an object')
  const s = v as Record<string, unknown>
  if (typeof s.mnId !== 'string' || s.mnId.length === 0) throw new Error('mnId: not a non-empty string')
  if (!isRef(s.serving)) throw new Error('serving: not a MAAR reference')
  if (!Array.isArray(s.anchors) || !s.anchors.every(a => typeof a === 'object' && a !== null && isRef((a as SessionAnchor).ref) &&
      Array.isArray((a as SessionAnchor).prefixes) && (a as SessionAnchor).prefixes.every(p => typeof p === 'string'))) throw new Error('anchors: not a list of { ref, prefixes }')
  for (const f of ['sequence', 'sessionSequence', 'lifetime', 'updatedAt'] as const) if (!int(s[f])) throw new Error(`${f}: not a non-negative integer`)
  // An RFC 5213 §8.8 timestamp steps by 1/65536 s: a time in ms that may hold a fraction.
  if (typeof s.timestampMs !== 'number' || !Number.isFinite(s.timestampMs) || s.timestampMs < 0) throw new Error('timestampMs: not a non-negative time in ms')
  return s as unknown as CmdSession
}
