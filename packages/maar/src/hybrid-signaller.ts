/**
 * Hybrid discovery (issue 10): the CMD when it answers within a bound, the DHT otherwise — a
 * session lookup and a PBU to each P-MAAR (DirectSignaller). A CMD that is down, slow or
 * restarting costs a handover the bound, never the handover. Session records are published to
 * the DHT in every mode, so the fallback finds sessions the CMD registered; a CMD that comes back
 * with a stale session reaches the newer anchors through the referrals of the P-MAARs it asks.
 * When it asks none (its session names only this MAAR: the MN is back where the CMD last saw it),
 * the P-MAARs this MAAR's own binding names are signalled directly (withMissed).
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
    let answered: RegistrationOutcome
    try {
      answered = await this.cmd.register(r, { signal: AbortSignal.timeout(this.timeoutMs) })
    } catch (err) {
      return await this.overDht(r, err)
    }
    return await this.withMissed(r, answered)
  }

  /**
   * The CMD's answer, and the P-MAARs this MAAR knows of that it did not name, signalled directly
   * as in the DHT mode. A move made through the DHT while the CMD was down is missing from the
   * CMD's session (read back from LevelDB): with the MN back at the MAAR that session names
   * serving, the CMD names no P-MAAR, yet this MAAR's binding (it anchored the MN for the MAAR
   * that served meanwhile) names that MAAR, which would otherwise go on serving the MN
   * (doc/ARCHITECTURE.md "The CMD").
   */
  private async withMissed (r: Registration, answered: RegistrationOutcome): Promise<RegistrationOutcome> {
    const missed = r.previous.without(answered.peers.map(p => p.peerId))
    if (missed.size === 0) return answered
    this.log.info('P-MAARs the CMD did not name; signalled directly', { mn: r.mnId, peers: missed.refs().map(p => p.address).join(',') })
    const direct = await this.direct.register({ ...r, previous: missed })
    return {
      ...answered,
      anchors: [...answered.anchors, ...direct.anchors.filter(a => !answered.anchors.some(x => x.prefix === a.prefix))],
      peers: [...answered.peers, ...direct.peers],
      referralsFollowed: answered.referralsFollowed + direct.referralsFollowed,
      pending: [...answered.pending, ...direct.pending],
      knownBefore: answered.knownBefore === true || direct.anchors.length > 0 || direct.pending.length > 0
    }
  }

  /** The CMD did not answer within the bound: the session record from the DHT, a PBU to each P-MAAR. */
  private async overDht (r: Registration, err: unknown): Promise<RegistrationOutcome> {
    this.log.warn('CMD not answering; DHT path', { mn: r.mnId, error: err instanceof Error ? err.message : String(err) })
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
