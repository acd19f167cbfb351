/** `dmm cert`: signs a MAAR's domain certificate with the operator key (cmds/keys.ts). */
import { commaList } from './args.js'
import { printJson } from './command.js'
import type { DmmCommand } from './command.js'

interface Args { operatorKey: string, maarKey?: string, peerId?: string, domain: string, pools: string, address: string, days: number, out: string }

const text = (describe: string, demandOption = false) => ({ type: 'string', requiresArg: true, demandOption, describe }) as const

export const certCommand: DmmCommand<Args> = {
  command: 'cert',
  describe: 'Sign a certificate: the MAAR with that peer id belongs to the domain, owns those pools and has those tunnel addresses (the config\'s address must be one of them)',
  options: {
    'operator-key': text('the domain operator key (dmm keygen)', true),
    'maar-key': text('the MAAR\'s identity key, or name it by --peer-id'),
    'peer-id': text('the MAAR\'s peer id, when its key is elsewhere'),
    domain: text('the domain name', true),
    pools: text('prefix pools the MAAR delegates from, comma-separated', true),
    address: text('the MAAR\'s tunnel addresses, comma-separated', true),
    days: { type: 'number', default: 365, describe: 'validity' },
    out: text('the certificate file to write', true)
  },
  examples: [['dmm cert --operator-key operator.key --maar-key maar1.key --domain dmm.example --pools 2001:db8:1::/48 --address 2001:db8:ffff::1 --out maar1.cert', 'certify maar1']],
  handler: async a => {
    const { cert } = await import('../cmds/keys.js')
    printJson(await cert({
      operatorKey: a.operatorKey,
      ...(a.maarKey !== undefined ? { maarKey: a.maarKey } : {}),
      ...(a.peerId !== undefined ? { peerId: a.peerId } : {}),
      domain: a.domain,
      pools: commaList(a.pools),
      addresses: commaList(a.address),
      days: a.days,
      out: a.out
    }))
    return 0
  }
}
