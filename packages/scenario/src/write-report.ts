/**
 * Writes a run's report into its folder: `report.json` (report.ts) and `report.html`
 * (report-html.ts, the same report as one self-contained page); the one place report files are
 * written.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ScenarioReport } from './report.js'
import { writeReportHtml } from './report-html.js'

/** The files written, in order. */
export async function writeReport (dir: string, report: ScenarioReport): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const json = join(dir, 'report.json')
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`)
  return [json, await writeReportHtml(dir, report)]
}
