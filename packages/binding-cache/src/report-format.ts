/** Human-readable lines of a CacheReport: one problem per line, naming its key. */
import type { CacheReport } from './audit.js'

export function formatReport (report: CacheReport): string[] {
  const lines = report.problems.map(p => `${p.kind} ${p.key}: ${p.message}`)
  const q = report.quarantined.size
  lines.push(report.problems.length === 0
    ? 'binding cache is consistent'
    : `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}, ${q} prefix${q === 1 ? '' : 'es'} quarantined (never delegated until dmm cache repair --release-quarantined)`)
  return lines
}
