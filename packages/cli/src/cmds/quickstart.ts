/**
 * `dmm quickstart`: the main job on an embedded default. Several MAARs on loopback (real libp2p,
 * real LevelDB in a temporary folder, the in-memory data plane), an MN moving across them, and
 * for each handover a printed account (lookup, signalling, prefixes and anchors) and a
 * hop-by-hop reachability check of every prefix the MN holds, downlink and uplink.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalMesh } from '@dmm-mesh/maar'
import type { HandoverReport, LocalMesh } from '@dmm-mesh/maar'

export interface QuickstartOptions {
  maars: number
  /** Indexes (1-based) of the MAARs the MN visits, in order. */
  path: number[]
  keep: boolean
  out: (line: string) => void
}

export const DEFAULT_PATH = [1, 2, 3, 4, 1]

const ms = (v: number): string => `${v.toFixed(1)} ms`

export function describeHandover (r: HandoverReport): string[] {
  const lines = [
    `${r.kind} of ${r.mnId} at ${r.maar}: local prefix ${r.localPrefix}, session sequence ${r.sessionSequence}`,
    `  lookup ${ms(r.lookupMs)} (${r.lookupSource}), PBU/PBA ${ms(r.signallingMs)} with ${r.peers.length} P-MAAR(s)` +
      `${r.referralsFollowed > 0 ? `, ${r.referralsFollowed} found by referral` : ''}, data plane ${ms(r.programMs)}, total ${ms(r.totalMs)}`
  ]
  for (const p of r.peers) lines.push(`  P-MAAR ${p.address}: ${p.status}${p.prefixes.length > 0 ? ` for ${p.prefixes.join(', ')}` : ''}${p.error !== undefined ? ` (${p.error})` : ''}`)
  for (const a of r.anchors) lines.push(`  prefix ${a.prefix.padEnd(22)} anchored at ${a.anchor}${a.native ? ' (native here)' : ' (tunnelled)'}`)
  return lines
}

/** Checks every address the MN holds, both directions; returns the number of failures. */
export function checkReachability (mesh: LocalMesh, mnId: string, out: (line: string) => void): number {
  let failures = 0
  for (const address of mesh.network.mnAddresses(mnId)) {
    const down = mesh.network.traceFromCn(address)
    const up = mesh.network.traceFromMn(mnId, address)
    const ok = down.delivered && up.delivered
    if (!ok) failures++
    out(`  ${ok ? 'ok  ' : 'FAIL'} CN -> ${address}: ${down.hops.join(' > ')}${down.delivered ? '' : ` [lost: ${down.reason ?? '?'}]`}`)
    out(`       ${address} -> CN: ${up.hops.join(' > ')}${up.delivered ? '' : ` [lost: ${up.reason ?? '?'}]`}`)
  }
  return failures
}

export async function quickstart (opts: QuickstartOptions): Promise<number> {
  const { out } = opts
  const dataDir = await mkdtemp(join(tmpdir(), 'dmm-quickstart-'))
  out(`dmm-mesh quickstart: ${opts.maars} MAARs on loopback, binding caches in ${dataDir}`)
  const t0 = performance.now()
  const mesh = await createLocalMesh({ count: opts.maars, dataDir })
  out(`mesh up in ${ms(performance.now() - t0)}:`)
  for (const m of mesh.maars) out(`  ${m.name} ${m.address} pool ${m.pool} peer ${m.maar.peerId}`)
  const mnId = 'alice@dmm.example'
  let failures = 0
  try {
    for (const [step, index] of opts.path.entries()) {
      const local = mesh.maars[index - 1]
      if (local === undefined) throw new Error(`path names maar${index}, but there are ${opts.maars}`)
      out('')
      out(`step ${step + 1}: ${mnId} attaches to ${local.name}`)
      mesh.network.attachMn(mnId, local.address)
      const report = await local.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
      describeHandover(report).forEach(out)
      failures += checkReachability(mesh, mnId, out)
      // Publication is off the critical path; wait for it so the next step's lookup is current.
      await local.maar.settled()
    }
    const last = mesh.maars[(opts.path.at(-1) ?? 1) - 1]
    if (last !== undefined) {
      out('')
      out(`${mnId} leaves the domain: ${last.name} de-registers the session`)
      const outcomes = await last.maar.deregister(mnId, 'quickstart end')
      for (const o of outcomes) out(`  anchor ${o.address}: ${o.status}, freed ${o.prefixes.join(', ')}`)
      let left = 0
      for (const m of mesh.maars) left += (await m.maar.bindings()).length
      out(`  bindings left in the mesh: ${left}`)
      if (left !== 0) failures++
    }
  } finally {
    await mesh.stop()
    if (!opts.keep) await rm(dataDir, { recursive: true, force: true })
  }
  out('')
  out(failures === 0 ? 'all prefixes reachable through the right anchor at every step' : `${failures} reachability check(s) FAILED`)
  return failures === 0 ? 0 : 1
}
