/**
 * A domain with a CMD in one process: the CMD (startCmd) and MAARs (createLocalMesh) on loopback,
 * real libp2p and LevelDB in a temporary folder, the in-memory data plane traced hop by hop, and
 * every PBU and PBA each peer sends or receives recorded (the capture decorator of capture.ts) so
 * that tests assert who sent what to whom.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TrustStore, generateKey } from '@dmm-mesh/discovery'
import { createLocalMesh, signallingFor } from '@dmm-mesh/maar'
import type { DeregistrationVariant, HandoverReport, LocalMaar, LocalMesh, MaarMetrics, MessageCapture, SignallingMode } from '@dmm-mesh/maar'
import { readPba, readPbu } from '@dmm-mesh/maar'
import type { BindingAck, BindingUpdate } from '@dmm-mesh/wire'
import { LOCAL_CMD_ADDRESS, startLocalCmd } from '../src/index.js'
import type { CmdMode, LocalCmdOptions, RunningCmd } from '../src/index.js'

export const CMD_ADDRESS = LOCAL_CMD_ADDRESS
const DOMAIN = 'dmm.example'

/** One message as a peer saw it: PBU or PBA, tunnel addresses, the decoded fields. */
export interface Seen { at: string, kind: 'PBU' | 'PBA', from: string, to: string, mnId: string, pba?: ReturnType<typeof readPba>, pbu?: ReturnType<typeof readPbu> }

export class Recorder {
  readonly seen: Seen[] = []
  capture (at: string): MessageCapture {
    return {
      record: (message: BindingUpdate | BindingAck, from: string, to: string) => {
        if (message.kind === 'binding-update') {
          // A PBU the receiver refuses (no MN-ID, say) is recorded without its fields.
          let pbu: ReturnType<typeof readPbu> | undefined
          try { pbu = readPbu(message) } catch { pbu = undefined }
          this.seen.push({ at, kind: 'PBU', from, to, mnId: pbu?.mnId ?? '', ...(pbu !== undefined ? { pbu } : {}) })
        } else {
          const pba = readPba(message)
          this.seen.push({ at, kind: 'PBA', from, to, mnId: pba.mnId, pba })
        }
      },
      close: () => {}
    }
  }

  /** Messages of `mnId` recorded by the sender (each message once), optionally since index `from`. */
  sent (mnId: string, since = 0): Seen[] {
    return this.seen.slice(since).filter(s => s.mnId === mnId && s.at === s.from)
  }

  mark (): number { return this.seen.length }
}

/** Polls `cond` until it holds; gives up (and fails) after a minute. */
export async function eventually (what: string, cond: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

export interface CmdDomain {
  readonly mesh: LocalMesh
  readonly cmd: RunningCmd
  readonly recorder: Recorder
  readonly dir: string
  m: (i: number) => LocalMaar
  move: (mnId: string, i: number) => Promise<HandoverReport>
  stopCmd: () => Promise<void>
  startCmd: () => Promise<RunningCmd>
  stop: () => Promise<void>
}

export interface CmdDomainOptions {
  mode: CmdMode
  count: number
  /** How MAARs signal: through the CMD (default) or hybrid. */
  signalling?: 'cmd' | 'hybrid'
  hybridTimeoutMs?: number
  relayTimeoutMs?: number
  /** Draft §3.5 variant, for the CMD and the MAARs (cmd signalling only); default 'serving' (a). */
  deregistration?: DeregistrationVariant
  /** The MAARs' registration lifetime (s), and their lifetime check period (0: tests call checkLifetimes). */
  lifetime?: number
  lifetimeCheckIntervalMs?: number
  log?: (line: string) => void
  /** Decorates the CMD's transport (a test holding back its forwards, say). */
  shapeCmdTransport?: LocalCmdOptions['shapeTransport']
  /** Decorates a MAAR's transport, by MAAR name (maar1, ...). */
  shapeMaarTransport?: (name: string) => LocalCmdOptions['shapeTransport']
  /** A MAAR's metrics, by MAAR name (default: none). */
  maarMetrics?: (name: string) => MaarMetrics | undefined
}

export async function createCmdDomain (opts: CmdDomainOptions): Promise<CmdDomain> {
  const dir = await mkdtemp(join(tmpdir(), `dmm-cmd-${opts.mode}-`))
  const operatorKey = await generateKey()
  const trust = TrustStore.fromOperatorKeys([{ domain: DOMAIN, publicKey: operatorKey.publicKey }])
  const recorder = new Recorder()
  const sink = (level: string, line: string): void => { opts.log?.(`${level} ${line}`) }
  const local = await startLocalCmd({
    operatorKey, trust, domain: DOMAIN, mode: opts.mode, dataDir: join(dir, 'cmd'), log: sink, capture: recorder.capture(CMD_ADDRESS),
    ...(opts.relayTimeoutMs !== undefined ? { relayTimeoutMs: opts.relayTimeoutMs } : {}),
    ...(opts.deregistration !== undefined ? { deregistration: opts.deregistration } : {}),
    ...(opts.shapeCmdTransport !== undefined ? { shapeTransport: opts.shapeCmdTransport } : {})
  })
  let cmd: RunningCmd | undefined = local.running
  const cmdAddress = local.address
  const mode: SignallingMode = opts.signalling === 'hybrid'
    ? { mode: 'hybrid', cmd: cmdAddress, ...(opts.hybridTimeoutMs !== undefined ? { timeoutMs: opts.hybridTimeoutMs } : {}) }
    : { mode: 'cmd', cmd: cmdAddress, ...(opts.deregistration !== undefined ? { deregistration: opts.deregistration } : {}) }
  const mesh = await createLocalMesh({
    count: opts.count, dataDir: join(dir, 'maars'), operatorKey, domain: DOMAIN, signalling: signallingFor(mode),
    ...(opts.lifetime !== undefined ? { lifetime: opts.lifetime } : {}),
    ...(opts.lifetimeCheckIntervalMs !== undefined ? { lifetimeCheckIntervalMs: opts.lifetimeCheckIntervalMs } : {}),
    log: sink, observe: name => {
      const shapeTransport = opts.shapeMaarTransport?.(name)
      const metrics = opts.maarMetrics?.(name)
      return { capture: recorder.capture(`2001:db8:ffff::${name.replace('maar', '')}`), ...(shapeTransport !== undefined ? { shapeTransport } : {}), ...(metrics !== undefined ? { metrics } : {}) }
    }
  })
  const domain: CmdDomain = {
    mesh,
    get cmd () { assert.ok(cmd, 'the CMD runs'); return cmd },
    recorder,
    dir,
    m: i => {
      const found = mesh.maars.find(x => x.name === `maar${i}`)
      assert.ok(found, `maar${i} is running`)
      return found
    },
    move: async (mnId, i) => {
      mesh.network.attachMn(mnId, domain.m(i).address)
      const report = await domain.m(i).maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
      await domain.m(i).maar.settled()
      return report
    },
    stopCmd: async () => { await local.stop(); cmd = undefined },
    startCmd: async () => { cmd = await local.restart(); return cmd },
    stop: async () => {
      await mesh.stop()
      await local.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
  return domain
}
