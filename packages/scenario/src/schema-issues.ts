/**
 * Zod issues as the CLI and the API report them: the field as a path (`pools[0]`,
 * `dataplane.driver`) and one reason. An unknown field is named by its own path, not its parent's.
 */
import type { core } from 'zod'

export type Issue = core.$ZodIssue

/** The path of the field an issue is about (an unknown field: the field itself). */
export function issuePath (issue: Issue): PropertyKey[] {
  return issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path
}

/** `dataplane.driver`, `pools[0]`, or `(file)` for the document itself. */
export function fieldName (path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(file)'
  return path.map((k, i) => typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`).join('')
}

/** The message of an unknown-field refusal, listing what the object knows. */
export function unknownFieldMessage (known: readonly string[]): string {
  return `unknown field (known: ${known.join(', ')})`
}
