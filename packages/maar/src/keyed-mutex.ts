/**
 * Serialises work per key (per MN): an attach and a PBU for the same MN never interleave inside
 * one MAAR, while different MNs proceed in parallel.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>()

  async run<T> (key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    const result = previous.catch(() => {}).then(work)
    const tail = result.catch(() => {})
    this.tails.set(key, tail)
    try {
      return await result
    } finally {
      // Drop the key once nobody queued behind us, so the map does not grow with every MN ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }
}
