/** `dmm keygen --out FILE`: a new Ed25519 key (cmds/keys.ts). */
import { printJson } from './command.js'
import type { DmmCommand } from './command.js'

export const keygenCommand: DmmCommand<{ out: string }> = {
  command: 'keygen',
  describe: 'Write a new Ed25519 key (MAAR identity or domain operator key); print its peer id and its public key (base64) for domain.operatorPublicKey in configs',
  options: { out: { type: 'string', demandOption: true, requiresArg: true, describe: 'the key file to write' } },
  examples: [['dmm keygen --out operator.key && dmm keygen --out maar1.key', 'an operator key and a MAAR identity']],
  handler: async a => {
    const { keygen } = await import('../cmds/keys.js')
    printJson(await keygen(a.out))
    return 0
  }
}
