/**
 * A federation of local domains for a mocha test (doc/ARCHITECTURE.md "Federation"): MAARs by
 * name (`a1`, `b2`), an MN moved by its link, and the reachability of each of its addresses
 * traced hop by hop on the shared memory network.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalFederation } from '../src/index.js'
import type { HandoverReport, LocalFederation, LocalFederationOptions, LocalMaar } from '../src/index.js'

export interface Reach { address: string, anchor: string, delivered: boolean, down: string[], up: string[] }

export interface FederationFixture {
  fed: LocalFederation
  maar: (name: string) => LocalMaar
  /** The MN's link comes up at `name` (after going down where it was): the attach, publication waited for. */
  move: (mnId: string, name: string) => Promise<HandoverReport>
  /** Every address the MN holds, traced CN → MN and MN → CN. */
  reach: (mnId: string) => Reach[]
  stop: () => Promise<void>
}

export async function startFederation (opts: Omit<LocalFederationOptions, 'dataDir'>): Promise<FederationFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'dmm-federation-test-'))
  const fed = await createLocalFederation({ ...opts, dataDir: dir })
  return {
    fed,
    maar: fed.maar,
    move: fed.move,
    reach: mnId => fed.network.mnAddressInfo(mnId).map(a => {
      const down = fed.network.traceFromCn(a.address)
      const up = fed.network.traceFromMn(mnId, a.address)
      const anchor = fed.domains.flatMap(d => d.mesh.maars).find(m => m.address === a.anchor)?.name ?? a.anchor
      return { address: a.address, anchor, delivered: down.delivered && up.delivered, down: down.hops, up: up.hops }
    }),
    stop: async () => {
      await fed.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
