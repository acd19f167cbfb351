/**
 * Discovery across the border (doc/ARCHITECTURE.md "Federation"): a composite Discovery
 * (discovery/src/discovery.ts) that asks this domain's DHT and, in parallel, the gateways of the
 * domains that accept this one (`/dmm/border/1.0.0`, border.ts), and answers the newest valid
 * record. Session sequences continue across domains (a serving MAAR numbers its registration
 * after the record it read), so "newest" is well defined even when the MN went A → B → A and A's
 * own DHT still holds the record of its first stay. Records from a gateway are validated with the
 * federated operators' keys (TrustStore.federate); what is published stays in this domain.
 *
 * The lookup contract holds across the border: undefined only when this domain proved absence
 * and every gateway answered "none" (or refused: that domain does not let this one use its
 * sessions); otherwise it throws and the attach is deferred.
 */
import { performance } from 'node:perf_hooks'
import { RecordError, isNewer, meshServices, openSessionRecord, recordCertificates, sessionKey } from '@dmm-mesh/discovery'
import type { Discovery, LookupResult, SessionRecord, TrustStore } from '@dmm-mesh/discovery'
import type { Libp2p } from '@libp2p/interface'
import type { FederationAgreements } from './agreements.js'
import { askGateway } from './border.js'

export class BorderLookupIncompleteError extends Error {
  constructor (readonly mnId: string, readonly failures: string[]) {
    super(`lookup of ${JSON.stringify(mnId).slice(0, 80)} across the border is incomplete: ${failures.join('; ')}`)
    this.name = 'BorderLookupIncompleteError'
  }
}

export interface FederatedDiscoveryInit {
  /** This domain's Discovery (the DHT directory). */
  local: Discovery
  node: Libp2p
  trust: TrustStore
  agreements: FederationAgreements
  certificate: Uint8Array
  /** Multiaddrs with /p2p/ of MAARs of federated domains, asked in parallel. */
  gateways: () => string[]
  /** Bound of one gateway's answer, dial included (default 2 s). */
  timeoutMs?: number
  log: (line: string) => void
}

interface BorderOutcome { best?: LookupResult, failures: string[] }

export class FederatedDiscovery implements Discovery {
  constructor (private readonly init: FederatedDiscoveryInit) {}

  async start (): Promise<void> { await this.init.local.start() }
  async stop (): Promise<void> { await this.init.local.stop() }

  async publish (record: SessionRecord, anchorCertificates: Uint8Array[]): Promise<void> {
    await this.init.local.publish(record, anchorCertificates)
  }

  async withdraw (mnId: string, sequence: number): Promise<void> {
    await this.init.local.withdraw(mnId, sequence)
  }

  async lookup (mnId: string, opts: { signal?: AbortSignal } = {}): Promise<LookupResult | undefined> {
    const gateways = this.init.gateways()
    if (gateways.length === 0 || this.init.agreements.accepting().length === 0) return await this.init.local.lookup(mnId, opts)
    const [local, border] = await Promise.all([this.init.local.lookup(mnId, opts), this.acrossBorder(mnId, gateways, opts.signal)])
    if (border.best !== undefined && (local === undefined || isNewer(border.best.record, local.record))) return border.best
    if (local !== undefined) return local
    if (border.failures.length > 0) throw new BorderLookupIncompleteError(mnId, border.failures)
    return undefined
  }

  private async acrossBorder (mnId: string, gateways: string[], outer?: AbortSignal): Promise<BorderOutcome> {
    const t0 = performance.now()
    const key = sessionKey(mnId)
    const failures: string[] = []
    let best: LookupResult | undefined
    await Promise.all(gateways.map(async gateway => {
      const timeout = AbortSignal.timeout(this.init.timeoutMs ?? 2000)
      const signal = outer === undefined ? timeout : AbortSignal.any([timeout, outer])
      try {
        const { answer, gateway: cert, record } = await askGateway(this.init.node, gateway, mnId, this.init.certificate, this.init.trust, signal)
        if (!this.init.agreements.accepting().some(a => a.issuer.domain === cert.domain)) {
          this.init.log(`ignored border answer from ${cert.peerId}: domain ${cert.domain} does not accept this one by an agreement in force`)
          return
        }
        if (answer.refused === true) {
          // That domain does not let this one use its sessions: nothing there to signal.
          this.init.log(`border lookup refused by ${cert.domain} (${cert.peerId}): ${answer.error ?? 'no reason given'}`)
          return
        }
        if (!answer.ok) throw new Error(answer.error ?? 'failed')
        if (record === undefined) return
        const opened = await openSessionRecord(record, this.init.trust, { key })
        if (best === undefined || isNewer(opened.record, best.record)) {
          best = { record: opened.record, signer: opened.signer, source: 'border', elapsedMs: performance.now() - t0, asked: gateways.length, certificates: recordCertificates(record) }
        }
      } catch (err) {
        if (err instanceof RecordError) {
          // A record this domain cannot prove (forged, or naming anchors of a domain it has no
          // agreement with) can give it no anchor to signal: as good as none, and said.
          this.init.log(`dropped border record of ${mnId} from ${gateway}: ${err.message}`)
          return
        }
        const why = err instanceof Error ? err.message : String(err)
        this.init.log(`border lookup of ${mnId} at ${gateway} failed: ${why}`)
        failures.push(`${gateway}: ${why}`)
      }
    }))
    return best === undefined ? { failures } : { best, failures }
  }
}

/**
 * The MN's session record in this domain as the signed bytes its serving MAAR published (what a
 * gateway answers): the directory's lookup leaves the newest copy in the node's session store.
 */
export async function localRecordBytes (node: Libp2p, local: Discovery, mnId: string): Promise<Uint8Array | undefined> {
  const found = await local.lookup(mnId)
  if (found === undefined) return undefined
  const held = meshServices(node).sessions.get(sessionKey(mnId))
  return held !== undefined && held.record.sequence === found.record.sequence ? held.bytes : undefined
}
