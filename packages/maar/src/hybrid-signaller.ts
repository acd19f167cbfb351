/**
 * Hybrid discovery (issue 10): the CMD when it answers within a bound, the DHT otherwise — a
 * session lookup and a PBU to each P-MAAR (DirectSignaller). A CMD that is down, slow or
 * restarting costs a handover the bound, never the handover. Session records are published to
 * the DHT in every mode, so the fallback finds sessions the CMD registered; a CMD that comes back
 * with a stale session reaches the newer anchors through the referrals of the P-MAARs it asks.
 */
import type { Discovery } from '@dmm-mesh/discovery'
import type { BindingAck } from '@dmm-mesh/wire'
import { CmdSignaller } from './cmd-signaller.js'
import type { DirectSignaller } from './direct-signaller.js'
import type { PeerOutcome } from './handover-report.js'
import type { Logger } from './logger.js'
import type { KnownMaar } from './peer-table.js'
import { RetransmitsDirectly } from './over-direct.js'
import type { AnchorSignaller, Deregistration, Registration, RegistrationOutcome } from './signaller.js'

export class HybridSignaller extends RetransmitsDirectly implements AnchorSignaller {
  readonly needsSessionRecord = false

  constructor (
    private readonly cmd: CmdSignaller,
    direct: DirectSignaller,
    private readonly discovery: Pick<Discovery, 'lookup'>,
    private readonly timeoutMs: number,
    private readonly log: Logger
  ) {
    super(direct)
  }

  async register (r: Registration): Promise<RegistrationOutcome> {
    try {
      return await this.cmd.register(r, { signal: AbortSignal.timeout(this.timeoutMs) })
    } catch (err) {
      this.log.warn('CMD not answering; DHT path', { mn: r.mnId, error: err instanceof Error ? err.message : String(err) })
    }
    // Throws when the DHT cannot tell either: the attach is deferred, never guessed.
    const found = await this.discovery.lookup(r.mnId)
    const record = found?.record.serving === null ? undefined : found?.record
    for (const a of record?.anchors ?? []) r.previous.add(a, a.prefix)
    if (record?.serving != null) r.previous.add(record.serving)
    const outcome = await this.direct.register(r)
    // A record found makes it a handover, as in the DHT mode, even when every P-MAAR refused.
    return found === undefined ? outcome : { ...outcome, sessionSequence: found.record.sequence + 1, ...(record !== undefined ? { knownBefore: true } : {}) }
  }

  async acknowledged (pba: BindingAck, from: KnownMaar): Promise<void> {
    await this.cmd.acknowledged(pba, from)
  }

  async deregister (d: Deregistration): Promise<PeerOutcome[]> {
    return await this.cmd.deregister(d)
  }
}
