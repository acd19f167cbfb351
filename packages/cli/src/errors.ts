/** An error the user caused (bad argument, unreachable API): printed without a stack trace, exit 2. */
export class CliError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CliError'
  }
}
