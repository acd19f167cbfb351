/** Work started off the critical path (publications, withdrawals) that stop() and tests wait for. */
export class BackgroundWork {
  private readonly pending = new Set<Promise<void>>()

  track (p: Promise<void>): void {
    this.pending.add(p)
    void p.finally(() => this.pending.delete(p))
  }

  async settled (): Promise<void> {
    await Promise.allSettled([...this.pending])
  }
}
