/**
 * The largest classes of a V8 heap snapshot (bench/dist/scale-memory.js --snapshot), by self size:
 * streamed, since a snapshot of hundreds of MAARs is larger than a JavaScript string may be.
 *
 *   npx node bench/dist/heap-top.js <file.heapsnapshot> [--top 40] [--per 250] [--retainers 'object Listener'] [--sizes 'native system / JSArrayBufferData']
 *
 * --retainers: the chains that hold the nodes of that class (of at least --min-size bytes each),
 * --depth retainers up, each through its first strong retainer; --sizes: their self sizes.
 */
import { createReadStream } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' }, per: { type: 'string', default: '1' }, retainers: { type: 'string' }, sizes: { type: 'string' }, 'min-size': { type: 'string', default: '0' }, depth: { type: 'string', default: '8' } } })
const file = positionals[0]
if (file === undefined) {
  process.stderr.write('usage: heap-top.js <file.heapsnapshot> [--top 40] [--per N]\n')
  process.exit(2)
}
const per = Number(values.per)

interface Meta { node_fields: string[], node_types: [string[]], edge_fields: string[], edge_types: [string[]] }
let header = ''
let meta: Meta | undefined
let nodes = new Uint32Array(0)
let edges = new Uint32Array(0)
let filled = 0
let edgesFilled = 0
let edgeCount = 0
let phase = 'header' as 'header' | 'nodes' | 'edges' | 'skip' | 'strings' | 'done'
let number = -1
let carry = ''
const strings: string[] = []
/** The parse's phase as the number parser left it (a call, so that TypeScript does not narrow it). */
const phaseNow = (): typeof phase => phase
let inString = false
let escaped = false
let current: number[] = []

/** Numbers of the nodes array, then (when --retainers asks) of the edges array. */
function onNumbers (text: string, from: number): void {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 48 && c <= 57) number = (number < 0 ? 0 : number * 10) + c - 48
    else {
      if (number >= 0) {
        if (phase === 'nodes') nodes[filled++] = number
        else edges[edgesFilled++] = number
        number = -1
      }
      if (c !== 93) continue
      if (phase === 'nodes' && values.retainers !== undefined) {
        const at = text.indexOf('[', i)
        if (at < 0) throw new Error('edges array not in the same chunk as the end of nodes')
        phase = 'edges'
        i = at
        continue
      }
      phase = 'skip'
      carry = text.slice(i)
      return
    }
  }
}

function onStrings (buf: Buffer, from: number): void {
  for (let i = from; i < buf.length; i++) {
    const c = buf[i] as number
    if (!inString) {
      if (c === 34) { inString = true; current = [] } else if (c === 93) { phase = 'done'; return }
      continue
    }
    if (escaped) { escaped = false; current.push(c); continue }
    if (c === 92) { escaped = true; current.push(c); continue }
    if (c === 34) { inString = false; strings.push(JSON.parse(`"${Buffer.from(current).toString('utf8')}"`) as string); continue }
    current.push(c)
  }
}

for await (const chunk of createReadStream(file)) {
  const buf = chunk as Buffer
  if (phase === 'header') {
    header += buf.toString('latin1')
    const at = header.indexOf('"nodes":[')
    if (at < 0) continue
    const json = header.slice(0, header.lastIndexOf('}', at) + 1) + '}'
    const snapshot = (JSON.parse(json) as { snapshot: { meta: Meta, node_count: number } }).snapshot
    meta = snapshot.meta
    nodes = new Uint32Array(snapshot.node_count * meta.node_fields.length)
    edgeCount = (snapshot as unknown as { edge_count: number }).edge_count
    if (values.retainers !== undefined) edges = new Uint32Array(edgeCount * meta.edge_fields.length)
    phase = 'nodes'
    onNumbers(header, at + 9)
    header = ''
    if (phaseNow() !== 'skip') continue
  } else if (phase === 'nodes' || phase === 'edges') {
    onNumbers(buf.toString('latin1'), 0)
    if (phaseNow() !== 'skip') continue
  } else if (phase === 'done') break
  if (phase === 'skip') {
    const text = carry + buf.toString('latin1')
    const at = text.indexOf('"strings":[')
    if (at < 0) { carry = text.slice(-16); continue }
    phase = 'strings'
    onStrings(Buffer.from(text.slice(at + 11), 'latin1'), 0)
    continue
  }
  onStrings(buf, 0)
}
if (meta === undefined) throw new Error(`${file}: no snapshot meta`)
const width = meta.node_fields.length
const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map(f => (meta as Meta).node_fields.indexOf(f)) as [number, number, number]
const types = meta.node_types[0]
const classes = new Map<string, { count: number, bytes: number }>()
let total = 0
function className (n: number): string {
  const type = types[nodes[n + typeAt] as number] ?? '?'
  return type === 'object' || type === 'native' || type === 'closure' || type === 'hidden' ? `${type} ${(strings[nodes[n + nameAt] as number] ?? '?').slice(0, 60)}` : type
}
function tally (map: Map<string, number>, key: string, by = 1): void { map.set(key, (map.get(key) ?? 0) + by) }
function printTop (title: string, map: Map<string, number>): void {
  process.stdout.write(`${title}\n`)
  for (const [k, n] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) process.stdout.write(`${String(n).padStart(10)}  ${k}\n`)
}
if (values.sizes !== undefined) {
  const sizes = new Map<string, number>()
  for (let n = 0; n < filled; n += width) if (className(n) === values.sizes) tally(sizes, String(nodes[n + sizeAt]))
  printTop(`self sizes of ${values.sizes} (size: count)`, sizes)
}
if (values.retainers !== undefined) {
  const edgeWidth = meta.edge_fields.length
  const countAt = meta.node_fields.indexOf('edge_count')
  const [etypeAt, enameAt, toAt] = ['type', 'name_or_index', 'to_node'].map(f => (meta as Meta).edge_fields.indexOf(f)) as [number, number, number]
  const etypes = meta.edge_types[0]
  // Each node's first strong retainer (node index + 1, 0 for none) and the edge's name.
  const parent = new Uint32Array(filled / width)
  const via = new Uint32Array(filled / width)
  for (let n = 0, e = 0; n < filled; n += width) {
    for (let k = 0; k < (nodes[n + countAt] as number); k++, e += edgeWidth) {
      const to = (edges[e + toAt] as number) / width
      const etype = etypes[edges[e + etypeAt] as number] ?? '?'
      if (etype === 'weak' || etype === 'shortcut' || parent[to] !== 0) continue
      parent[to] = n / width + 1
      via[to] = etype === 'element' || etype === 'hidden' ? 0xffffffff : edges[e + enameAt] as number
    }
  }
  const chains = new Map<string, number>()
  const minSize = Number(values['min-size'])
  for (let n = 0; n < filled; n += width) {
    if (className(n) !== values.retainers || (nodes[n + sizeAt] as number) < minSize) continue
    const steps: string[] = []
    for (let at = n / width, d = 0; d < Number(values.depth) && parent[at] !== 0; d++) {
      const name = via[at] === 0xffffffff ? '[]' : (strings[via[at] as number] ?? '?')
      at = (parent[at] as number) - 1
      steps.push(`${className(at * width)}.${name}`)
    }
    tally(chains, steps.join(' < '))
  }
  printTop(`what holds ${values.retainers}${minSize > 0 ? ` of >= ${minSize} bytes` : ''}`, chains)
}
for (let n = 0; n < filled; n += width) {
  const name = className(n)
  const c = classes.get(name) ?? { count: 0, bytes: 0 }
  c.count++
  c.bytes += nodes[n + sizeAt] as number
  total += nodes[n + sizeAt] as number
  classes.set(name, c)
}
const top = [...classes.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top))
process.stdout.write(`${filled / width} nodes, ${Math.round(total / 1e6)} MB self size${per > 1 ? `; per ${per}: KB, count` : ''}\n`)
for (const [name, c] of top) {
  process.stdout.write(`${(c.bytes / 1e6).toFixed(1).padStart(8)} MB ${(100 * c.bytes / total).toFixed(1).padStart(5)} % ${String(c.count).padStart(9)}  ${per > 1 ? `${(c.bytes / per / 1e3).toFixed(1).padStart(7)} KB ${(c.count / per).toFixed(1).padStart(8)}  ` : ''}${name}\n`)
}
