/**
 * YAML files checked by a zod schema, every problem named as `FILE:LINE: field: why` (as compilers
 * print it, so that editors can jump to the line): the `dmm maar` and `dmm cmd` configs
 * (packages/cli/src/config.ts) and the scenario files (scenario-schema.ts) share this, and the
 * small schema builders whose messages say what a field must be.
 */
import { LineCounter, isMap, isNode, isScalar, isSeq, parseDocument } from 'yaml'
import type { Document } from 'yaml'
import { z } from 'zod'
import { fieldName, issuePath, unknownFieldMessage } from './schema-issues.js'

/** One thing wrong in a file: the field's path (`pools[0]`, `dataplane.driver`, `(file)`). */
export interface ConfigProblem {
  field: string
  reason: string
  /** 1-based line of the field in the YAML (of its mapping when the field is missing). */
  line?: number
}

/** `FILE:LINE: field: why`. */
export function formatProblem (file: string | undefined, p: ConfigProblem): string {
  return `${file ?? 'config'}${p.line !== undefined ? `:${p.line}` : ''}: ${p.field}: ${p.reason}`
}

/** A file that does not check: the first problem in file order, and all of them in `problems`. */
export class ConfigError extends Error implements ConfigProblem {
  readonly problems: ConfigProblem[]

  constructor (readonly field: string, readonly reason: string, readonly line?: number, readonly file?: string, others: ConfigProblem[] = [], checkCommand = 'dmm config check') {
    const more = others.length > 0 ? ` (and ${others.length} more: ${checkCommand} ${file ?? 'FILE'} lists them all)` : ''
    super(`${formatProblem(file, { field, reason, line })}${more}`)
    this.name = 'ConfigError'
    this.problems = [{ field, reason, ...(line !== undefined ? { line } : {}) }, ...others]
  }
}

/** A mapping with exactly these fields: a misspelt field is refused, never ignored. */
export function mapping<S extends z.ZodRawShape> (shape: S, what: string): z.ZodObject<S, z.core.$strict> {
  const known = Object.keys(shape)
  return z.strictObject(shape, {
    error: iss => iss.code === 'unrecognized_keys' ? unknownFieldMessage(known) : iss.input === undefined ? `is required: ${what}` : `must be a mapping ${what}`
  })
}

export const text = z.string({ error: iss => iss.input === undefined ? 'is required' : 'must be a non-empty string' })
  .min(1, { error: 'must be a non-empty string' })

export const integer = (min: number, max: number, fallback: number): z.ZodDefault<z.ZodInt> => {
  const error = (iss: { input?: unknown }): string => `must be an integer from ${min} to ${max}, got ${JSON.stringify(iss.input)}`
  return z.int({ error }).min(min, { error }).max(max, { error }).default(fallback)
}

/** A number from `min` to `max` (fractions allowed: km, ms, shares). */
export const numberIn = (min: number, max: number): z.ZodNumber => {
  const error = (iss: { input?: unknown }): string => `must be a number from ${min} to ${max}, got ${JSON.stringify(iss.input)}`
  return z.number({ error }).min(min, { error }).max(max, { error })
}

export const flag = (fallback: boolean): z.ZodDefault<z.ZodBoolean> =>
  z.boolean({ error: iss => `must be true or false, got ${JSON.stringify(iss.input)}` }).default(fallback)

export function oneOf<const T extends readonly [string, ...string[]]> (values: T, fallback: T[number]) {
  const error = (iss: { input?: unknown }): string => `must be ${values.slice(0, -1).join(', ')} or ${values.at(-1) ?? ''}, got ${JSON.stringify(iss.input)}`
  return z.enum(values, { error }).default(fallback as never)
}

export const list = <T extends z.ZodType>(item: T): z.ZodArray<T> => z.array(item, { error: 'must be a non-empty list' })

/**
 * 1-based line of the field at `path`: its key in a mapping, its item in a list; a field that is
 * missing is placed at its nearest ancestor present in the file.
 */
function lineOf (doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number {
  for (let n = path.length; n > 0; n--) {
    const parent = doc.getIn(path.slice(0, n - 1), true)
    const key = path[n - 1]
    let node: unknown
    if (isMap(parent)) node = parent.items.find(p => isScalar(p.key) && p.key.value === key)?.key
    else if (isSeq(parent) && typeof key === 'number') node = parent.items[key]
    const at = isNode(node) ? node.range?.[0] : undefined
    if (at !== undefined) return lines.linePos(at).line
  }
  return 1
}

/**
 * Parses YAML `text` with `schema`; every problem named as FILE:LINE: field: why (ConfigError,
 * whose message points at `checkCommand` when there are more).
 */
export function parseYaml<T> (schema: z.ZodType<T>, text: string, file: string, checkCommand?: string): T {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false })
  const yamlError = doc.errors[0]
  if (yamlError !== undefined) {
    throw new ConfigError('(file)', `not valid YAML: ${yamlError.message.split('\n')[0] ?? ''}`, lines.linePos(yamlError.pos[0]).line, file, [], checkCommand)
  }
  const raw: unknown = doc.toJS()
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('(file)', 'must be a YAML mapping', 1, file, [], checkCommand)
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const problems = parsed.error.issues.map(issue => {
      const path = issuePath(issue)
      return { field: fieldName(path), reason: issue.message, line: lineOf(doc, lines, path) }
    }).sort((a, b) => a.line - b.line)
    const [first, ...others] = problems
    throw new ConfigError(first?.field ?? '(file)', first?.reason ?? 'is invalid', first?.line, file, others, checkCommand)
  }
  return parsed.data
}
