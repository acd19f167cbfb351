/**
 * Step 2 of a first attach (RFC 8885 §3.1; doc/ARCHITECTURE.md "A handover"): the MAAR draws a
 * prefix from its own pool for the MN and makes it durable in the MN's BCE before any PBU leaves,
 * so a crash never hands the same prefix to two MNs.
 */
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import type { FreePrefixes, PrefixPool } from '@dmm-mesh/binding-cache'
import type { Bindings } from './bindings.js'

/**
 * How a serving MAAR gives an MN it has no binding for its own prefixes: one from its pool
 * (PrefixReservation, every mode but legacy) or none (a MAG of legacy PMIPv6, legacy-lma.ts,
 * whose MN's only prefix is the LMA's). `entryFor` builds the BCE holding them; it is committed.
 */
export interface PrefixDelegation {
  reserve: (mnId: string, entryFor: (prefixes: string[]) => BindingCacheEntry) => Promise<Reservation>
}

/**
 * A reservation on disk (`reserve` resolves once the BCE and its allocation are one synced
 * batch) and `delegated`, once the delegation ledger holds the prefix too. PBUs may leave on
 * the first; the MN is given the prefix (data plane, RA) only after the second
 * (doc/ARCHITECTURE.md "A handover": a crash between them is healed from the database at open).
 */
export interface Reservation { entry: BindingCacheEntry, delegated: Promise<void> }

/** One MAAR-wide lock, so two MNs never draw the same prefix. */
const POOL_LOCK = '\u0000pool'

export class PrefixReservation implements PrefixDelegation {
  /** The pool's free prefixes, kept by the binding cache as commits allocate and release them. */
  private readonly free: FreePrefixes

  constructor (pool: PrefixPool, private readonly bindings: Bindings) {
    this.free = bindings.cache.freePrefixes(pool)
  }

  /** Draws the lowest free prefix and commits `entryFor([prefix])` with its allocation in one batch. */
  async reserve (mnId: string, entryFor: (prefixes: string[]) => BindingCacheEntry): Promise<Reservation> {
    return await this.bindings.locks.run(POOL_LOCK, async () => {
      const prefix = this.free.lowest()
      const entry = entryFor([prefix])
      const { onDisk, inLedger } = this.bindings.commitInStages({ put: [entry], allocate: [{ prefix, mnId }] })
      await onDisk
      return { entry, delegated: inLedger }
    })
  }
}
