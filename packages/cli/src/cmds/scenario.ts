/**
 * `dmm scenario check FILE` and `dmm scenario run FILE`: a scenario file (packages/scenario) checked
 * as the runner reads it, or run once per contender with report.json written to the out folder.
 * Progress goes to stderr: a bar redrawn in place on a terminal, else one line per contender and
 * phase; the summary goes to stdout.
 */
import { ConfigError, POLICY_CONTENDERS, buildTrace, contenderModes, engineOf, formatProblem, isPolicyContender, readScenario, runScenario, scaleMisfit, writeReport } from '@dmm-mesh/scenario'
import type { ContenderSpec, EngineName, RunProgress, Scenario, ScenarioReport } from '@dmm-mesh/scenario'

export interface Output { out: (line: string) => void, err: (line: string) => void }

/** The scenario, or undefined after every problem was printed as FILE:LINE: field: why. */
async function load (file: string, o: Output): Promise<Scenario | undefined> {
  try {
    return await readScenario(file)
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    for (const p of e.problems) o.err(formatProblem(file, p))
    return undefined
  }
}

export async function checkScenario (file: string, o: Output): Promise<number> {
  const s = await load(file, o)
  if (s === undefined) return 2
  const trace = buildTrace(s)
  const attaches = trace.events.filter(e => e.kind === 'attach').length
  const mns = [...trace.groups.values()].reduce((n, ids) => n + ids.length, 0)
  o.out(`${file}: ok: ${s.name}, ${attaches} attaches of ${mns} MNs over ${s.durationS} s, contenders ${s.contenders.join(', ')}, seed ${s.seed}`)
  return 0
}

export interface RunArgs { file: string, contenders?: ContenderSpec[], seed?: number, out: string | undefined, timeScale?: number, engine?: EngineName }

/** A progress bar redrawn on a terminal; one line per change of contender or phase elsewhere. */
export function progressPrinter (stream: { isTTY?: boolean, write: (s: string) => unknown }): (p: RunProgress) => void {
  let last = ''
  return p => {
    const label = `${p.contender} (${p.index}/${p.of}) ${p.phase}`
    if (stream.isTTY === true) {
      const width = 30
      const done = Math.round(p.fraction * width)
      stream.write(`\r[${'#'.repeat(done)}${'-'.repeat(width - done)}] ${String(Math.round(p.fraction * 100)).padStart(3)}% ${label}\x1b[K`)
      if (p.phase === 'done' || p.phase === 'failed') stream.write('\n')
      return
    }
    if (label !== last) stream.write(`dmm scenario: ${label}\n`)
    last = label
  }
}

export function summaryLines (r: ScenarioReport): string[] {
  const lines = [`${r.scenario.name}: ${r.scenario.maars} MAARs, ${r.scenario.mns} MNs, ${r.scenario.durationMs / 1000} s, seed ${r.scenario.seed}`]
  for (const c of r.contenders) {
    if (c.error !== undefined) { lines.push(`  ${c.name}: ${c.error}`); continue }
    const s = c.summary
    const failedChecks = c.checks.filter(k => !k.passed)
    lines.push(`  ${c.name}: ${s.handovers} handovers (${s.accepted} accepted, ${s.failed} failed), latency p50 ${s.latencyMs.p50} ms p95 ${s.latencyMs.p95} ms, ` +
      `${s.messagesPerHandover} messages and ${s.octetsPerHandover} octets per handover, checks ${failedChecks.length === 0 ? 'passed' : `failed ${failedChecks.length} of ${c.checks.length} times`}`)
  }
  return lines
}

/** Exit 0: every contender ran; 1: one could not (its error is in the report); 2: a bad file. */
export async function runScenarioFile (a: RunArgs, o: Output, progress: (p: RunProgress) => void): Promise<number> {
  const loaded = await load(a.file, o)
  if (loaded === undefined) return 2
  const s: Scenario = a.engine !== undefined ? { ...loaded, engine: a.engine } : loaded
  if (engineOf(s) === 'scale') {
    const why = s.domains !== undefined ? `${a.file} has domains: federation scenarios run on the local engine` : (a.contenders ?? s.contenders).map(scaleMisfit).find(w => w !== undefined)
    if (why !== undefined) {
      o.err(`dmm: --engine: ${why}`)
      return 2
    }
  }
  const federated = s.domains !== undefined
  const misfit = a.contenders?.find(c => isPolicyContender(c) !== federated)
  if (misfit !== undefined) {
    o.err(`dmm: --discovery: ${misfit} ${federated ? `is not a cross-border policy (${POLICY_CONTENDERS.join(', ')}), and ${a.file} has domains` : `is a cross-border policy, and ${a.file} has no domains`}`)
    return 2
  }
  const needsCmd = federated ? undefined : a.contenders?.find(c => contenderModes(c).cmd !== undefined)
  if (needsCmd !== undefined && s.cmd === undefined) {
    o.err(`dmm: --discovery: ${needsCmd} needs a CMD, and ${a.file} places none (add cmd: { x, y })`)
    return 2
  }
  const report = await runScenario({
    scenario: s, progress, ...(a.contenders !== undefined ? { contenders: a.contenders } : {}), ...(a.seed !== undefined ? { seed: a.seed } : {}), ...(a.timeScale !== undefined ? { timeScale: a.timeScale } : {})
  })
  const files = await writeReport(a.out ?? `${s.name}-report`, report)
  for (const line of summaryLines(report)) o.out(line)
  o.out(`written: ${files.join(', ')}`)
  return report.contenders.some(c => c.error !== undefined) ? 1 : 0
}
