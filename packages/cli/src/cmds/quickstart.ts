/**
 * `dmm quickstart`: the main job on an embedded default. Several MAARs on loopback (real libp2p,
 * real LevelDB in a temporary folder, the in-memory data plane), an MN moving across them, and
 * for each handover a printed account (lookup, signalling, prefixes and anchors) and a
 * hop-by-hop reachability check of every prefix the MN holds, downlink and uplink.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TrustStore, generateKey } from '@dmm-mesh/discovery'
import { LOCAL_CMD_ADDRESS, startLocalCmd } from '@dmm-mesh/cmd'
import type { LocalCmd } from '@dmm-mesh/cmd'
import { createLocalMesh, legacyLocalDomain, maarPlan, signallingFor } from '@dmm-mesh/maar'
import type { HandoverReport, LocalMesh, MaarComponents, MessageCapture } from '@dmm-mesh/maar'
import type { BindingAck, BindingUpdate } from '@dmm-mesh/wire'

export interface QuickstartOptions {
  maars: number
  /** Indexes (1-based) of the MAARs the MN visits, in order. */
  path: number[]
  keep: boolean
  /**
   * dht (default), a CMD in relay, locator or proxy mode, hybrid (a relay CMD, else the DHT), or
   * legacy (classic PMIPv6, draft-bernardos-dmm-pmip Appendix A.5: maar1 the LMA, the others MAGs).
   */
  discovery?: QuickstartDiscovery
  out: (line: string) => void
}

export const DISCOVERY_MODES = ['dht', 'relay', 'locator', 'proxy', 'hybrid', 'legacy'] as const
export type QuickstartDiscovery = typeof DISCOVERY_MODES[number]

/** Every PBU and PBA as its sender recorded it (the capture decorator), named by tunnel address. */
class MessageFlow {
  private readonly sent: Array<{ kind: string, from: string, to: string, timeMs: number }> = []
  readonly names = new Map<string, string>()

  /** The capture of the peer at tunnel address `self`: what it sends (the receiver records it too). */
  capture (self: string): MessageCapture {
    return {
      record: (m: BindingUpdate | BindingAck, from: string, to: string, timeMs: number) => {
        if (from === self) this.sent.push({ kind: m.kind === 'binding-update' ? 'PBU' : 'PBA', from, to, timeMs })
      },
      close: () => {}
    }
  }

  mark (): number { return this.sent.length }

  /** "PBU maar2 > cmd" for each message sent since `mark`. */
  since (mark: number): string[] {
    const name = (a: string): string => this.names.get(a) ?? a
    // In the order sent (a PBU is recorded once its PBA names the peer, with the time it left).
    return this.sent.slice(mark).sort((a, b) => a.timeMs - b.timeMs).map(x => `${x.kind} ${name(x.from)} > ${name(x.to)}`)
  }
}

export const DEFAULT_PATH = [1, 2, 3, 4, 1]

const ms = (v: number): string => `${v.toFixed(1)} ms`

export function describeHandover (r: HandoverReport): string[] {
  const lines = [
    `${r.kind} of ${r.mnId} at ${r.maar}: ${r.localPrefix !== '' ? `local prefix ${r.localPrefix}` : 'no local prefix (a MAG)'}, session sequence ${r.sessionSequence}`,
    `  lookup ${ms(r.lookupMs)} (${r.lookupSource}), PBU/PBA ${ms(r.signallingMs)} with ${r.peers.length} P-MAAR(s)` +
      `${r.referralsFollowed > 0 ? `, ${r.referralsFollowed} found by referral` : ''}, data plane ${ms(r.programMs)}, total ${ms(r.totalMs)}`
  ]
  for (const p of r.peers) lines.push(`  P-MAAR ${p.address}: ${p.status}${p.prefixes.length > 0 ? ` for ${p.prefixes.join(', ')}` : ''}${p.error !== undefined ? ` (${p.error})` : ''}`)
  for (const a of r.anchors) lines.push(`  prefix ${a.prefix.padEnd(22)} anchored at ${a.anchor}${a.native ? ' (native here)' : ' (tunnelled)'}`)
  return lines
}

/** Checks every address the MN holds, both directions; returns the number of failures. */
export function checkReachability (mesh: Pick<LocalMesh, 'network'>, mnId: string, out: (line: string) => void): number {
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
  const discovery = opts.discovery ?? 'dht'
  const flow = new MessageFlow()
  const operatorKey = await generateKey()
  let cmd: LocalCmd | undefined
  let signalling: MaarComponents['signalling']
  if (discovery === 'legacy') {
    signalling = legacyLocalDomain()
  } else if (discovery !== 'dht') {
    // draft-bernardos-dmm-pmip §3: a CMD beside the MAARs, certified by the same operator.
    cmd = await startLocalCmd({
      operatorKey, trust: TrustStore.fromOperatorKeys([{ domain: 'dmm.example', publicKey: operatorKey.publicKey }]),
      mode: discovery === 'hybrid' ? 'relay' : discovery, dataDir: join(dataDir, 'cmd'), capture: flow.capture(LOCAL_CMD_ADDRESS)
    })
    signalling = signallingFor(discovery === 'hybrid' ? { mode: 'hybrid', cmd: cmd.address } : { mode: 'cmd', cmd: cmd.address })
    flow.names.set(LOCAL_CMD_ADDRESS, 'cmd')
  }
  const mesh = await createLocalMesh({
    count: opts.maars, dataDir, operatorKey, observe: name => ({ capture: flow.capture(maarPlan(Number(name.replace('maar', ''))).address) }), ...(signalling !== undefined ? { signalling } : {})
  })
  out(`mesh up in ${ms(performance.now() - t0)} (discovery: ${discovery}):`)
  for (const m of mesh.maars) {
    flow.names.set(m.address, m.name)
    out(`  ${m.name} ${m.address} pool ${m.pool} peer ${m.maar.peerId}`)
  }
  if (cmd !== undefined) out(`  cmd ${LOCAL_CMD_ADDRESS} mode ${cmd.running.cmd.mode} peer ${cmd.running.cmd.peerId}`)
  if (discovery === 'legacy') out('  maar1 is the LMA: it delegates and anchors every prefix; the others are MAGs')
  const mnId = 'alice@dmm.example'
  let failures = 0
  try {
    for (const [step, index] of opts.path.entries()) {
      const local = mesh.maars[index - 1]
      if (local === undefined) throw new Error(`path names maar${index}, but there are ${opts.maars}`)
      out('')
      out(`step ${step + 1}: ${mnId} attaches to ${local.name}`)
      mesh.network.attachMn(mnId, local.address)
      const mark = flow.mark()
      const report = await local.maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
      describeHandover(report).forEach(out)
      // Locator mode: the anchors' own PBAs complete the session just after the CMD's answer.
      await settledSession(local.maar, mnId)
      await cmd?.running.cmd.settled()
      out(`  messages: ${flow.since(mark).join(', ') || 'none'}`)
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
    await cmd?.stop()
    if (!opts.keep) await rm(dataDir, { recursive: true, force: true })
  }
  out('')
  out(failures === 0 ? 'all prefixes reachable through the right anchor at every step' : `${failures} reachability check(s) FAILED`)
  return failures === 0 ? 0 : 1
}

/** Waits (a hang guard of 10 s, not a speed check) until no anchor of the MN is pending here. */
async function settledSession (maar: LocalMesh['maars'][number]['maar'], mnId: string): Promise<void> {
  const end = Date.now() + 10_000
  while (Date.now() < end) {
    const e = (await maar.bindings()).find(x => x.mnId === mnId)
    if (e === undefined || e.remoteAnchors.every(a => a.pendingUntil === undefined)) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
