/**
 * The top costs of a V8 CPU profile (`node --cpu-prof`): self time by function and by package,
 * and inclusive time of the packages named on the command line.
 *
 *   npx node bench/dist/cpu-top.js <file.cpuprofile> [--top 25]
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[] }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } })
const file = positionals[0]
const top = Number(values.top)
if (file === undefined || !Number.isInteger(top) || top < 1) {
  process.stderr.write('usage: cpu-top.js <file.cpuprofile> [--top 25]\n')
  process.exit(2)
}

/** "libp2p/yamux", "dmm-mesh/maar", "node:internal", "(program)", … from a frame's URL. */
function packageOf (url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : rest[0] ?? url
  }
  const pkg = /packages\/([^/]+)\//.exec(url)
  if (pkg !== null) return `dmm-mesh/${pkg[1] ?? ''}`
  if (url.startsWith('node:')) return url.split('/')[0] ?? url
  return url.split('/').slice(-2).join('/')
}

const profile = JSON.parse(await readFile(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map(n => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const selfUs = new Map<number, number>()
profile.samples.forEach((id, i) => { selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)) })
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)

const byFunction = new Map<string, number>(); const byPackage = new Map<string, number>(); const inclusive = new Map<string, number>()
for (const [id, us] of selfUs) {
  const n = byId.get(id)
  if (n === undefined) continue
  const { functionName, url, lineNumber } = n.callFrame
  const pkg = packageOf(url, functionName)
  const key = `${functionName || '(anonymous)'} ${pkg}${url !== '' ? `:${lineNumber + 1}` : ''}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us)
  // Inclusive per package: each package on the sample's stack counted once.
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const f = byId.get(at)
    if (f === undefined) break
    seen.add(packageOf(f.callFrame.url, f.callFrame.functionName))
  }
  for (const p of seen) inclusive.set(p, (inclusive.get(p) ?? 0) + us)
}
const pct = (us: number): string => `${(100 * us / total).toFixed(1).padStart(5)} %`
const print = (title: string, m: Map<string, number>): void => {
  process.stdout.write(`\n${title}\n`)
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`)
}
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n`)
print('self time by package', byPackage)
print('inclusive time by package (on the stack)', inclusive)
print('self time by function', byFunction)
