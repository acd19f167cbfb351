/**
 * A CMD domain in a federation (doc/ARCHITECTURE.md "Federation", "CMD domains";
 * draft-bernardos-dmm-pmip Appendix A.5: "if the CMDs of the operators are enabled to transfer
 * context from one node to another"). The CMD is its domain's gateway, both ways:
 * - it serves `/dmm/border/1.0.0` (federation/src/border.ts) to the MAARs (or CMD) of the domains
 *   its operator accepts: its session store says whether the MN has a session here, and the answer
 *   is the session record the serving MAAR signed (read from the domain's DHT, where CMD-mode
 *   MAARs publish it too), so the other domain believes this operator's key, not the CMD's word;
 * - when a registration finds no session in its store, it asks the gateways of the domains that
 *   accept this one (FederatedDiscovery with an empty own side) and turns the newest record into a
 *   session context: its serving MAAR and anchors become the P-MAARs the CMD forwards the PBU to,
 *   exactly as for a session of its own (cmd.ts); the anchors decide within their agreement.
 */
import { maarRef } from '@dmm-mesh/wire'
import { SessionDirectory } from '@dmm-mesh/discovery'
import type { Discovery, TrustStore } from '@dmm-mesh/discovery'
import { BorderServer, FederatedDiscovery, localRecordBytes } from '@dmm-mesh/federation'
import type { MaarFederation } from '@dmm-mesh/maar'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { CmdSession, CmdSessionStore, SessionAnchor } from './session-store.js'

export interface CmdBorderParts {
  node: Libp2p
  privateKey: PrivateKey
  certificate: Uint8Array
  trust: TrustStore
  store: CmdSessionStore
  log: (line: string) => void
}

export interface CmdBorder {
  /** The MN's session in another domain as a session context, or undefined when none has one. */
  foreignSession: (mnId: string) => Promise<CmdSession | undefined>
  start: () => Promise<void>
  stop: () => Promise<void>
}

/** A domain's own side of the border lookup for a CMD: it asks only when its store has no session. */
const nothingHere: Discovery = {
  start: async () => {},
  stop: async () => {},
  lookup: async () => undefined,
  publish: async () => { throw new Error('a CMD publishes no session record') },
  withdraw: async () => { throw new Error('a CMD withdraws no session record') }
}

export function cmdBorder (parts: CmdBorderParts, federation: MaarFederation): CmdBorder {
  const { node, trust, certificate, store, log } = parts
  const directory = new SessionDirectory(node, { privateKey: parts.privateKey, certificate, trust, log })
  const server = new BorderServer(node, {
    trust, agreements: federation.agreements, certificate, log,
    lookupLocal: async mnId => {
      const session = store.get(mnId)
      if (session === undefined) return undefined
      const bytes = await localRecordBytes(node, directory, mnId)
      // The store knows a session the DHT does not prove yet: say so, the asker defers the attach.
      if (bytes === undefined) throw new Error(`session of ${mnId} (serving ${session.serving.address}) has no published record yet`)
      return bytes
    }
  })
  const across = new FederatedDiscovery({
    local: nothingHere, node, trust, agreements: federation.agreements, certificate, gateways: federation.gateways, log,
    ...(federation.borderTimeoutMs !== undefined ? { timeoutMs: federation.borderTimeoutMs } : {})
  })
  return {
    async start () {
      await directory.start()
      await server.start()
    },
    async stop () {
      await server.stop()
      await directory.stop()
    },
    async foreignSession (mnId) {
      const found = await across.lookup(mnId)
      const serving = found?.record.serving
      if (found === undefined || serving === undefined || serving === null) return undefined
      const anchors: SessionAnchor[] = []
      for (const a of found.record.anchors) {
        const known = anchors.find(x => x.ref.peerId === a.peerId)
        if (known !== undefined) known.prefixes.push(a.prefix)
        else anchors.push({ ref: maarRef(a), prefixes: [a.prefix] })
      }
      log(`session of ${mnId} found across the border: serving ${serving.address}, anchors ${anchors.map(a => a.ref.address).join(',') || 'none'}, sequence ${found.record.sequence}`)
      // Timestamp 0: the other operator's clock orders nothing here; its anchors check the PBU's.
      return { mnId, serving: maarRef(serving), anchors, timestampMs: 0, sequence: 0, sessionSequence: found.record.sequence, lifetime: 0, updatedAt: 0 }
    }
  }
}
