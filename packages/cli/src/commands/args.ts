/** Checks of option values that yargs' types do not make (it turns `--maars abc` into NaN). */
import { CliError } from '../errors.js'

export function positiveInt (value: number, flag: string): number {
  if (!Number.isInteger(value) || value < 1) throw new CliError(`--${flag} must be a positive integer, got ${String(value)}`)
  return value
}

/** `a, b,c` -> ['a', 'b', 'c'] */
export function commaList (value: string): string[] {
  return value.split(',').map(s => s.trim()).filter(s => s !== '')
}

/** The option every management-API command takes. */
export const apiOption = {
  api: { type: 'string', demandOption: true, requiresArg: true, describe: 'URL of the MAAR\'s management API (printed in its ready line)' }
} as const
