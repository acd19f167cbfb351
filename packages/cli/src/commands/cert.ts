/** `dmm cert`: signs a MAAR's domain certificate with the operator key (cmds/keys.ts). */
import { commaList } from './args.js'
import { printJson } from './command.js'
import type { DmmCommand } from './command.js'

interface Args { operatorKey: string, maarKey?: string, peerId?: string, role: 'maar' | 'cmd', domain: string, pools?: string, address: string, days: number, out: string }

const text = (describe: string, demandOption = false) => ({ type: 'string', requiresArg: true, demandOption, describe }) as const

export const certCommand: DmmCommand<Args> = {
  command: 'cert',
  describe: 'Sign a certificate: the MAAR with that peer id belongs to the domain, owns those pools and has those tunnel addresses (the config\'s address must be one of them); --role cmd certifies a CMD (no pools)',
  options: {
    'operator-key': text('the domain operator key (dmm keygen)', true),
    'maar-key': text('the MAAR\'s identity key, or name it by --peer-id'),
    'peer-id': text('the MAAR\'s peer id, when its key is elsewhere'),
    role: { type: 'string', choices: ['maar', 'cmd'], default: 'maar', requiresArg: true, describe: 'maar, or cmd for a Central Mobility Database (draft-bernardos-dmm-pmip §3)' },
    domain: text('the domain name', true),
    pools: text('prefix pools the MAAR delegates from, comma-separated (none for a CMD)'),
    address: text('the MAAR\'s tunnel addresses, comma-separated', true),
    days: { type: 'number', default: 365, describe: 'validity' },
    out: text('the certificate file to write', true)
  },
  examples: [
    ['dmm cert --operator-key operator.key --maar-key maar1.key --domain dmm.example --pools 2001:db8:1::/48 --address 2001:db8:ffff::1 --out maar1.cert', 'certify maar1'],
    ['dmm cert --role cmd --operator-key operator.key --maar-key cmd.key --domain dmm.example --address 2001:db8:fffe::1 --out cmd.cert', 'certify a CMD']
  ],
  handler: async a => {
    const { cert } = await import('../cmds/keys.js')
    printJson(await cert({
      operatorKey: a.operatorKey,
      ...(a.maarKey !== undefined ? { maarKey: a.maarKey } : {}),
      ...(a.peerId !== undefined ? { peerId: a.peerId } : {}),
      role: a.role,
      domain: a.domain,
      pools: a.pools === undefined ? [] : commaList(a.pools),
      addresses: commaList(a.address),
      days: a.days,
      out: a.out
    }))
    return 0
  }
}
