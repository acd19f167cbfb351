/**
 * A seeded pseudo-random generator (mulberry32) so that a scenario's trace is a pure function of
 * its file and seed. Each MN draws from its own stream (seeded by the scenario seed and its id),
 * so adding a group to a file leaves the other MNs' moves unchanged.
 */

export type Random = () => number

/** 32-bit FNV-1a of a text, to seed a stream by name. */
function hash32 (text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/** mulberry32: uniform numbers in [0, 1) from a 32-bit state. */
export function mulberry32 (seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Uniform numbers in [0, 1) from `seed` and a stream name. */
export function seededRandom (seed: number, stream = ''): Random {
  return mulberry32(hash32(`${seed}:${stream}`) ^ seed)
}

/** One item of a non-empty list, uniformly. */
export function pick<T> (random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)]
  if (item === undefined) throw new RangeError('pick from an empty list')
  return item
}
