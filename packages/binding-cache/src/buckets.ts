/**
 * The key space of a binding-cache database (lodestar's bucket list): every key is
 * `<bucket>!<id>`, so each bucket is one contiguous LevelDB range and a bucket's entries are
 * listed with a single iterator. Keys and values are UTF-8 text; values are versioned JSON.
 *
 * | bucket | key id        | value                                            |
 * |--------|---------------|--------------------------------------------------|
 * | meta   | `schema`      | `{ v }`: schema version of the database          |
 * | bce    | MN identifier | a BindingCacheEntry (RFC 5213 §5.1 BCE + DMM fields) |
 * | alloc  | prefix text   | `{ v, mnId }`: the MN a pool prefix is delegated to |
 * | quarantine | prefix text | `{ v, reason, lastOwner? }`: owner in doubt, never delegated (./audit.ts) |
 * | incident | ISO time + n | `{ v, file, message }`: what LevelDB dropped at an open, until repaired |
 */
export const Bucket = {
  meta: 'meta',
  bce: 'bce',
  alloc: 'alloc',
  quarantine: 'quarantine',
  incident: 'incident'
} as const
export type Bucket = typeof Bucket[keyof typeof Bucket]

/** Version written in every value; a value with another version is refused, not guessed at. */
export const SCHEMA_VERSION = 1

const SEPARATOR = '!'

export function bucketKey (bucket: Bucket, id: string): string {
  return `${bucket}${SEPARATOR}${id}`
}

/** Iterator bounds covering exactly one bucket ('"' is the character after '!'). */
export function bucketRange (bucket: Bucket): { gte: string, lt: string } {
  return { gte: `${bucket}${SEPARATOR}`, lt: `${bucket}"` }
}

export function idOf (bucket: Bucket, key: string): string {
  return key.slice(bucket.length + SEPARATOR.length)
}
