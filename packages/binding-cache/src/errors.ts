/** A stored value that does not decode; names the LevelDB key so an operator can find it. */
export class CorruptEntryError extends Error {
  constructor (readonly key: string, readonly reason: string) {
    super(`corrupt binding-cache value at key ${JSON.stringify(key)}: ${reason}`)
    this.name = 'CorruptEntryError'
  }
}

/** Every sub-prefix of every pool is allocated. */
export class PoolExhaustedError extends Error {
  constructor (readonly pools: string[], readonly size: number) {
    super(`prefix pool exhausted: all ${size} prefixes of ${pools.join(', ')} are allocated`)
    this.name = 'PoolExhaustedError'
  }
}

/** A value handed to the cache (an entry or a prefix) that is not valid; nothing was written. */
export class InvalidEntryError extends Error {
  constructor (readonly what: string, reason: string) {
    super(`invalid ${what}: ${reason}`)
    this.name = 'InvalidEntryError'
  }
}

/** An allocation of a prefix already delegated to another MN; the whole commit was refused. */
export class AllocationConflictError extends Error {
  constructor (readonly prefix: string, readonly holder: string, readonly requester: string) {
    super(`prefix ${prefix} is already allocated to ${JSON.stringify(holder)}, refused for ${JSON.stringify(requester)}`)
    this.name = 'AllocationConflictError'
  }
}

/** A pool list the PrefixPool cannot use (bad prefix text, overlap, bad sub-prefix length). */
export class InvalidPoolError extends Error {
  constructor (readonly pool: string, reason: string) {
    super(`prefix pool ${JSON.stringify(pool)}: ${reason}`)
    this.name = 'InvalidPoolError'
  }
}

/** An allocation of a prefix whose owner is in doubt (see audit.ts); the whole commit was refused. */
export class QuarantinedPrefixError extends Error {
  constructor (readonly prefix: string, readonly reason: string, readonly requester: string) {
    super(`prefix ${prefix} is quarantined (${reason}), refused for ${JSON.stringify(requester)}; see dmm cache check`)
    this.name = 'QuarantinedPrefixError'
  }
}

/** The LevelDB directory is held by another process (a running MAAR): its LOCK is taken. */
export class CacheLockedError extends Error {
  constructor (readonly dir: string) {
    super(`binding cache ${dir} is in use (LevelDB LOCK held, a MAAR is running on it); stop that MAAR first`)
    this.name = 'CacheLockedError'
  }
}
