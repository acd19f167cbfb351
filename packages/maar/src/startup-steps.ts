/**
 * Start-up in dependency order with one rule for failures: a step that fails stops, in reverse
 * order, every part that had started, and rejects with an error naming the step (the resource at
 * fault). startMaar and startCmd both start this way.
 */
export class StartupSteps {
  private readonly started: Array<() => Promise<void>> = []

  /** `named(what, detail, cause)`: the error a failed step rejects with, unless it threw one already (`isNamed`). */
  constructor (
    private readonly named: (what: string, detail: string, cause: unknown) => Error,
    private readonly isNamed: (err: unknown) => boolean
  ) {}

  /** Runs one step; a failure names `what` and unwinds what started before it. */
  async step<T> (what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (err) {
      await this.stopAll()
      throw this.isNamed(err) ? err : this.named(what, err instanceof Error ? err.message : String(err), err)
    }
  }

  /** How to stop a part that has started. */
  onStop (stop: () => Promise<void>): void {
    this.started.push(stop)
  }

  /** Stops every started part, last started first; a part that fails to stop does not hold up the others. */
  readonly stopAll = async (): Promise<void> => {
    for (const stop of this.started.reverse()) await stop().catch(() => {})
    this.started.length = 0
  }
}
