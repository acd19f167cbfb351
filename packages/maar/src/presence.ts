/**
 * MNs whose link is up at this MAAR (RFC 5213 §6.9.1.1 attach, §6.9.1.2 detach): their
 * registration is refreshed until they detach or move to another MAAR.
 */
export class Presence {
  private readonly here = new Set<string>()

  arrived (mnId: string): void { this.here.add(mnId) }
  left (mnId: string): void { this.here.delete(mnId) }
  has (mnId: string): boolean { return this.here.has(mnId) }
}
