/**
 * Runs a scenario: the same trace (trace.ts) once per contender, each in a fresh domain from the
 * engine (domain.ts), replayed in real time (`timeScale` real ms per scenario ms), faults applied
 * as they come, the checks run periodically and at the end, and every PBU/PBA and record request
 * counted. A contender that cannot start records its error; the others still run.
 */
import { hostname, tmpdir } from 'node:os'
import { performance } from 'node:perf_hooks'
import { sessionKey } from '@dmm-mesh/discovery'
import type { HandoverReport } from '@dmm-mesh/maar'
import { runChecks } from './checks.js'
import { localEngine } from './domain.js'
import { federationEngine } from './federation-engine.js'
import { scaleEngine } from './scale-domain.js'
import type { DomainEngine, ScenarioDomain } from './domain.js'
import { chargeMessages, loadSeries, summarizeHandovers } from './figures.js'
import type { Episode, Message } from './figures.js'
import { FrameCounter } from './frame-counter.js'
import type { CheckResult, ContenderReport, HandoverSample, ScenarioReport } from './report.js'
import { CMD_NODE, ScenarioMap } from './scenario-map.js'
import { engineOf } from './scenario-schema.js'
import type { ContenderSpec, EngineName, Scenario } from './scenario-schema.js'
import { buildTrace } from './trace.js'
import type { Trace, TraceEvent } from './trace.js'

export interface RunProgress {
  contender: string
  /** 1-based position of the contender, and how many there are. */
  index: number
  of: number
  phase: 'starting' | 'running' | 'settling' | 'done' | 'failed'
  /** Share of this contender's trace played (0..1). */
  fraction: number
}

export interface RunOptions {
  scenario: Scenario
  /** Default: the file's. */
  seed?: number
  /** Default: the file's, in its order. */
  contenders?: ContenderSpec[]
  /** Default: the file's. */
  timeScale?: number
  engine?: DomainEngine
  /** Where each domain's stores go (default the system's temporary folder). */
  workDir?: string
  progress?: (p: RunProgress) => void
}

const ENGINES_BY_NAME: Record<EngineName, DomainEngine> = { local: localEngine, scale: scaleEngine }

/** Bound on waiting for background work to end: a guard against hangs, not a speed figure. */
const SETTLE_GUARD_MS = 15_000

const sleep = async (ms: number): Promise<void> => { if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms)) }
const reason = (err: unknown): string => err instanceof Error ? err.message : String(err)

async function bounded (work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([work.catch(() => {}), new Promise(resolve => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}

export async function runScenario (opts: RunOptions): Promise<ScenarioReport> {
  const { scenario } = opts
  const seed = opts.seed ?? scenario.seed
  const trace = buildTrace(scenario, seed)
  const contenders = opts.contenders ?? scenario.contenders
  const startedAt = new Date().toISOString()
  const reports: ContenderReport[] = []
  for (const [i, contender] of contenders.entries()) {
    const progress = (phase: RunProgress['phase'], fraction: number): void => { opts.progress?.({ contender, index: i + 1, of: contenders.length, phase, fraction }) }
    const engine = opts.engine ?? (scenario.domains !== undefined ? federationEngine : ENGINES_BY_NAME[engineOf(scenario)])
    reports.push(await new ContenderRun(scenario, trace, contender, opts.timeScale ?? scenario.timeScale, progress).run(engine, opts.workDir ?? tmpdir()))
  }
  const mns = [...trace.groups.values()].reduce((n, ids) => n + ids.length, 0)
  return {
    version: 1,
    scenario: { name: scenario.name, file: scenario.file, ...(scenario.description !== undefined ? { description: scenario.description } : {}), seed, maars: new ScenarioMap(scenario).maars.length, mns, durationMs: trace.durationMs },
    run: { startedAt, finishedAt: new Date().toISOString(), host: hostname(), node: process.version, ...(opts.engine === undefined && scenario.domains === undefined ? { engine: engineOf(scenario) } : {}) },
    contenders: reports
  }
}

/** One contender: its domain, the trace replayed on it, and what was seen. */
class ContenderRun {
  private readonly map: ScenarioMap
  private readonly frames = new FrameCounter()
  private readonly records: Message[] = []
  private readonly samples: HandoverSample[] = []
  private readonly episodes: Episode[] = []
  private readonly checks: CheckResult[] = []
  private readonly faults: ContenderReport['faults'] = []
  private readonly departures = { count: 0, messages: 0, octets: 0 }
  private readonly flows: NonNullable<ContenderReport['flows']>
  private readonly flowTimers = new Map<number, NodeJS.Timeout>()
  /** Where each MN in the domain attached last (successfully), and the MNs with an attach in flight. */
  private readonly serving = new Map<string, string>()
  private readonly present = new Set<string>()
  private readonly inFlight = new Set<string>()
  private readonly chains = new Map<string, Promise<void>>()
  private readonly pending = new Set<Promise<void>>()
  private readonly down = new Set<string>()
  private readonly keyToMn = new Map<string, string>()
  /** Bindings held for MNs that had left, by check time. */
  private readonly lingering = new Map<number, number>()
  private t0 = 0

  constructor (
    private readonly scenario: Scenario,
    private readonly trace: Trace,
    private readonly contender: ContenderSpec,
    private readonly timeScale: number,
    private readonly progress: (phase: RunProgress['phase'], fraction: number) => void
  ) {
    this.map = new ScenarioMap(scenario)
    this.flows = scenario.flows.map(f => ({ group: f.group, sent: 0, delivered: 0, lost: 0, reasons: {} }))
    for (const ids of trace.groups.values()) for (const id of ids) this.keyToMn.set(new TextDecoder().decode(sessionKey(id)), id)
  }

  /** Scenario time (ms) now. */
  private now (): number { return (performance.now() - this.t0) / this.timeScale }

  async run (engine: DomainEngine, workDir: string): Promise<ContenderReport> {
    this.progress('starting', 0)
    let domain: ScenarioDomain
    try {
      domain = await engine.start({
        contender: this.contender,
        maars: this.map.names(),
        lifetimeS: this.scenario.lifetimeS,
        relayTimeoutMs: this.scenario.cmd?.relayTimeoutMs ?? 1000,
        workDir,
        delay: (a, b) => this.map.oneWayMs(a, b),
        ...(this.scenario.domains !== undefined ? { federation: { domains: this.scenario.domains, agreements: this.scenario.agreements } } : {}),
        frames: this.frames,
        onRecordRequest: (from, to, r) => {
          const mnId = this.keyToMn.get(r.key)
          this.records.push({ t: this.now(), from, to, octets: 0, record: true, ...(mnId !== undefined ? { mnId } : {}) })
        }
      })
    } catch (err) {
      this.progress('failed', 0)
      return { ...this.report(), error: `could not start: ${reason(err)}` }
    }
    try {
      await this.replay(domain)
      return this.report(domain)
    } catch (err) {
      this.progress('failed', 1)
      return { ...this.report(domain), error: `run failed: ${reason(err)}` }
    } finally {
      for (const timer of this.flowTimers.values()) clearInterval(timer)
      await domain.stop()
    }
  }

  private async replay (domain: ScenarioDomain): Promise<void> {
    this.frames.frames.length = 0
    this.t0 = performance.now()
    const duration = this.trace.durationMs
    const ticker = setInterval(() => { this.progress('running', Math.min(1, this.now() / duration)) }, 1000)
    try {
      for (const e of this.trace.events) {
        await sleep(this.t0 + e.t * this.timeScale - performance.now())
        await this.apply(domain, e)
      }
      await sleep(this.t0 + duration * this.timeScale - performance.now())
    } finally {
      clearInterval(ticker)
    }
    for (const timer of this.flowTimers.values()) clearInterval(timer)
    this.progress('settling', 1)
    await Promise.allSettled([...this.chains.values(), ...this.pending])
    await bounded(domain.settled(), SETTLE_GUARD_MS)
    this.checks.push(...await this.check(domain, duration))
    this.progress('done', 1)
  }

  private async apply (domain: ScenarioDomain, e: TraceEvent): Promise<void> {
    switch (e.kind) {
      case 'attach': this.chain(e.mn, async () => { await this.attach(domain, e.mn, e.maar) }); return
      case 'leave': this.chain(e.mn, async () => { await this.leave(domain, e.mn) }); return
      case 'maar-down':
        this.fault(e.kind, e.maar)
        this.down.add(e.maar)
        await domain.stopMaar(e.maar)
        return
      case 'maar-up':
        this.fault(e.kind, e.maar)
        await domain.startMaar(e.maar)
        this.down.delete(e.maar)
        return
      case 'cmd-down': this.fault(e.kind, CMD_NODE); await domain.stopCmd(); return
      case 'cmd-up': this.fault(e.kind, CMD_NODE); await domain.startCmd(); return
      case 'agreement-revoked':
        if (domain.revokeAgreement === undefined) throw new Error('this engine has no federation agreements to revoke')
        this.fault(e.kind, await domain.revokeAgreement(e.from, e.to))
        return
      case 'flow-start': this.startFlow(domain, e.flow); return
      case 'flow-end': clearInterval(this.flowTimers.get(e.flow)); this.flowTimers.delete(e.flow); return
      case 'check': this.background(async () => { this.checks.push(...await this.check(domain, e.t)) })
    }
  }

  private fault (kind: string, target: string): void { this.faults.push({ t: Math.round(this.now()), kind, target }) }

  /** Runs `work` after the MN's previous events: one MN's moves never overlap. */
  private chain (mnId: string, work: () => Promise<void>): void {
    const next = (this.chains.get(mnId) ?? Promise.resolve()).then(work, work)
    this.chains.set(mnId, next)
  }

  private background (work: () => Promise<void>): void {
    const p = work().catch(() => {})
    this.pending.add(p)
    void p.finally(() => this.pending.delete(p))
  }

  private async attach (domain: ScenarioDomain, mnId: string, to: string): Promise<void> {
    const t = this.now()
    const from = this.serving.get(mnId) ?? null
    const sample: HandoverSample = { t: Math.round(t), mn: mnId, from, to, kind: from === null ? 'first-attach' : 'handover', outcome: 'failed', latencyMs: 0, messages: 0, octets: 0, recordMessages: 0 }
    this.samples.push(sample)
    this.episodes.push({ t, mnId, charge: m => { sample.messages++; sample.octets += m.octets; if (m.record) sample.recordMessages = (sample.recordMessages ?? 0) + 1 } })
    this.inFlight.add(mnId)
    this.present.add(mnId)
    markBorder(sample, domain)
    domain.borderRefusals?.(to)
    const started = performance.now()
    try {
      const maar = domain.maar(to)
      if (maar === undefined) throw new Error(`${to} is down`)
      domain.network.attachMn(mnId, domain.addressOf(to))
      const r: HandoverReport = await maar.attach({ mnId, accessLink: 'access0', linkLayerId: linkLayerId(mnId) })
      sample.kind = r.kind
      sample.outcome = r.complete ? 'accepted' : 'partial'
      sample.latencyMs = Math.round(r.totalMs * 100) / 100
      if (!r.complete) sample.reason = `pending: ${r.peers.filter(p => p.status !== 'ACCEPTED').map(p => `${domain.nodeAt(p.address) ?? p.address} ${p.status}`).join(', ')}`
      // A P-MAAR still to answer (PENDING) or not answering has not refused.
      const refused = r.peers.filter(p => p.status !== 'ACCEPTED' && p.status !== 'UNREACHABLE' && p.status !== 'PENDING').map(p => `${domain.nodeAt(p.address) ?? p.address} ${p.status}${p.error !== undefined ? `: ${p.error}` : ''}`)
      if (refused.length > 0) sample.refusals = refused
      this.serving.set(mnId, to)
    } catch (err) {
      sample.latencyMs = Math.round((performance.now() - started) * 100) / 100
      sample.reason = reason(err).slice(0, 300)
    } finally {
      this.inFlight.delete(mnId)
      const border = domain.borderRefusals?.(to) ?? []
      if (border.length > 0) sample.refusals = [...(sample.refusals ?? []), ...border]
    }
  }

  /** The MN leaves the domain: its serving MAAR de-registers it (draft-bernardos-dmm-pmip §3.5). */
  private async leave (domain: ScenarioDomain, mnId: string): Promise<void> {
    const at = this.serving.get(mnId)
    this.serving.delete(mnId)
    this.present.delete(mnId)
    domain.network.attachMn(mnId, undefined)
    this.departures.count++
    this.episodes.push({ t: this.now(), mnId, charge: m => { this.departures.messages++; this.departures.octets += m.octets } })
    const maar = at === undefined ? undefined : domain.maar(at)
    await maar?.deregister(mnId, 'scenario: the MN left the domain').catch(() => {})
  }

  private startFlow (domain: ScenarioDomain, index: number): void {
    const f = this.scenario.flows[index]
    const figures = this.flows[index]
    if (f === undefined || figures === undefined) return
    const mns = this.trace.groups.get(f.group) ?? []
    this.flowTimers.set(index, setInterval(() => {
      for (const mnId of mns) {
        if (!this.present.has(mnId)) continue
        for (const address of domain.network.mnAddresses(mnId)) {
          const tr = domain.network.traceFromCn(address)
          const dead = tr.hops.find(h => this.down.has(h))
          figures.sent++
          if (tr.delivered && dead === undefined) { figures.delivered++; continue }
          figures.lost++
          const why = dead !== undefined ? 'through a MAAR that is down' : lossReason(tr.reason)
          figures.reasons[why] = (figures.reasons[why] ?? 0) + 1
        }
      }
    }, f.everyMs * this.timeScale))
  }

  /** The checks now; a violation is confirmed once background work has settled (else it was a transient). */
  private async check (domain: ScenarioDomain, t: number): Promise<CheckResult[]> {
    const once = async (): Promise<CheckResult[]> => {
      const round = await runChecks({
        domain, maars: this.map.names(), serving: new Map([...this.serving].filter(([mn]) => !this.inFlight.has(mn))), present: new Set(this.present), run: this.scenario.checks.run, t
      })
      this.lingering.set(t, round.lingering)
      return round.results
    }
    const first = await once()
    if (first.every(c => c.passed)) return first
    await bounded(domain.settled(), SETTLE_GUARD_MS)
    return await once()
  }

  private messages (domain?: ScenarioDomain): Message[] {
    const name = (address: string): string => domain?.nodeAt(address) ?? address
    const pmip = this.frames.frames.filter(f => f.at === f.from).map(f => ({
      t: (f.t - this.t0) / this.timeScale, from: name(f.from), to: name(f.to), octets: f.octets, record: false, ...(f.mnId !== undefined ? { mnId: f.mnId } : {})
    }))
    // A record request and its answer: two messages.
    const records = this.records.flatMap(r => [r, { ...r, from: r.to, to: r.from }])
    return [...pmip, ...records].sort((a, b) => a.t - b.t)
  }

  private report (domain?: ScenarioDomain): ContenderReport {
    const messages = this.messages(domain)
    chargeMessages(messages, this.episodes)
    const withCmd = this.map.cmd !== undefined && this.scenario.domains === undefined && this.contender !== 'dht' && this.contender !== 'legacy'
    const nodes = [...this.map.names(), ...(withCmd ? [CMD_NODE] : []), ...this.map.domainCmds.map(c => c.name)]
    return {
      name: this.contender,
      handovers: this.samples,
      summary: summarizeHandovers(this.samples),
      load: loadSeries(messages, nodes, this.trace.durationMs),
      checks: this.checks,
      faults: this.faults,
      totals: { messages: messages.length, octets: messages.reduce((s, m) => s + m.octets, 0), recordMessages: messages.filter(m => m.record).length },
      departures: this.departures,
      lingering: [...this.lingering].sort(([a], [b]) => a - b).map(([t, bindings]) => ({ t, bindings })),
      flows: this.flows
    }
  }
}

/** In a federation: the domains the handover leaves and enters, and whether it crosses their border. */
function markBorder (sample: HandoverSample, domain: ScenarioDomain): void {
  const to = domain.domainOf?.(sample.to)
  if (to === undefined) return
  const from = sample.from === null ? null : domain.domainOf?.(sample.from) ?? null
  sample.domains = { from, to }
  if (from !== null) sample.crossBorder = from !== to
}

/** A stable locally administered MAC per MN (RFC 7042 §2.1: the U/L bit set), from its id. */
function linkLayerId (mnId: string): string {
  let h = 0
  for (let i = 0; i < mnId.length; i++) h = (Math.imul(h, 31) + mnId.charCodeAt(i)) >>> 0
  const bytes = [0x02, 0x00, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff]
  return bytes.map(b => b.toString(16).padStart(2, '0')).join(':')
}

/** A trace's reason for a loss without the names in it, so that losses of the same kind add up. */
function lossReason (why: string | undefined): string {
  return (why ?? 'lost').replace(/mn:\S+/g, 'the MN').replace(/access link of \S+/, 'access link the packet reached').replace(/[0-9a-f]*:[0-9a-f:]{4,}\S*/g, '<address>')
}
