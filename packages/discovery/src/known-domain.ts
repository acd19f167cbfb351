/**
 * Whether this MAAR provably knows every member of its domain (doc/ARCHITECTURE.md
 * "Publication"). A kad-dht walk ends on the key's k closest members; one that ends on fewer
 * than k, every one of them a member this MAAR already knew, shows that the domain holds no
 * member this MAAR does not know. While that holds, the closest members this MAAR knows for any
 * key are the key's closest members, the direct PUTs of a publication reach them, and a walk
 * would only copy the record to the rest of the domain. The proof lasts `validMs` and only while
 * no member this MAAR did not know then joins its view; the next walk renews or ends it.
 */
export class KnownDomain {
  private proof: { members: Set<string>, until: number } | undefined

  constructor (private readonly k: number, private readonly validMs: number, private readonly now: () => number = Date.now) {}

  /** A walk ended on the members `found`, while this MAAR knew the members `known`. */
  walked (found: string[], known: string[]): void {
    const members = new Set(known)
    this.proof = found.length < this.k && found.every(p => members.has(p)) ? { members, until: this.now() + this.validMs } : undefined
  }

  /** True while the last walk's proof holds and `known` names no member it did not. */
  covers (known: string[]): boolean {
    const proof = this.proof
    if (proof === undefined || proof.until <= this.now()) return false
    return known.every(p => proof.members.has(p))
  }
}
