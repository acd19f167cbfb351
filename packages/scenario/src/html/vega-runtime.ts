/**
 * The Vega runtime that report.html carries inline, read from node_modules once per process.
 *
 * Why Vega (with Vega-Lite compiling the specs in Node, see figure-specs.ts): its specs are plain
 * JSON, so the figures are built and checked in typed code and travel to the page as data (no
 * plotting code as strings); its one UMD file (`vega.min.js`, ~0.5 MB) needs no network, no
 * module loader and no other library; and a rendered view answers `view.data(name)`, so a test
 * can check that a plot holds the run's data. Observable Plot needs d3 beside it and its specs
 * are code; uPlot has no bars or annotations of its own.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

let cached: string | undefined

/** The source of `vega/build/vega.min.js` (the package's exports map hides it, so go through its entry's folder). */
export function vegaRuntime (): string {
  if (cached !== undefined) return cached
  const file = join(dirname(createRequire(import.meta.url).resolve('vega')), 'vega.min.js')
  const source = readFileSync(file, 'utf8')
  // Inline in a <script>, this text must not end the element early; a later Vega that did would be caught here.
  if (/<\/script|<!--/i.test(source)) throw new Error(`${file} contains "</script" or "<!--" and cannot be inlined in report.html`)
  cached = source
  return source
}
