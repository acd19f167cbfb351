/** `dmm federation make|show|verify|revoke` (cmds/federation.ts; doc/ARCHITECTURE.md "Federation"). */
import { commaList, positiveInt } from './args.js'
import { printJson, printLine } from './command.js'
import type { DmmCommand } from './command.js'

const text = (describe: string, demandOption = false) => ({ type: 'string', requiresArg: true, demandOption, describe }) as const

interface MakeArgs {
  operatorKey: string, id: string, issuerDomain: string, subjectDomain: string, subjectKey: string,
  maars: string, pools: string, addresses: string, policy: string, seconds?: number, days: number, out: string
}

const make: DmmCommand<MakeArgs> = {
  command: 'make',
  describe: 'Sign an agreement: this operator (the issuer) accepts the subject domain\'s MAARs in a scope, with a policy for its prefixes that cross the border',
  options: {
    'operator-key': text('the issuer\'s (accepting) operator key (dmm keygen)', true),
    id: text('the agreement\'s id, e.g. a-accepts-b-2026', true),
    'issuer-domain': text('the issuer\'s domain name (its MAARs\' config domain.name)', true),
    'subject-domain': text('the accepted domain', true),
    'subject-key': text('the accepted domain\'s operator public key (as its dmm keygen printed it)', true),
    maars: { type: 'string', default: 'any', requiresArg: true, describe: 'any (every MAAR the subject\'s operator certifies) or peer ids, comma-separated' },
    pools: text('prefixes the subject\'s MAARs may delegate, comma-separated', true),
    addresses: text('prefixes the subject\'s MAARs\' tunnel addresses lie in, comma-separated', true),
    policy: { type: 'string', choices: ['tunnel', 'drop', 'bounded'], default: 'tunnel', requiresArg: true, describe: 'the issuer\'s prefixes of an MN that crosses into the subject: tunnel, drop or bounded (--seconds)' },
    seconds: { type: 'number', requiresArg: true, describe: 'with --policy bounded: how long they are kept' },
    days: { type: 'number', default: 365, describe: 'validity' },
    out: text('the agreement file to write', true)
  },
  examples: [['dmm federation make --operator-key a-operator.key --id a-accepts-b --issuer-domain a.example --subject-domain b.example --subject-key CAESI... --pools 2001:db8:200::/40 --addresses 2001:db8:ffff:200::/56 --policy bounded --seconds 600 --out a-accepts-b.json', 'A accepts B; A\'s prefixes kept 10 min across the border']],
  handler: async a => {
    const { makeAgreement } = await import('../cmds/federation.js')
    printJson(await makeAgreement({
      operatorKey: a.operatorKey,
      id: a.id,
      issuerDomain: a.issuerDomain,
      subjectDomain: a.subjectDomain,
      subjectKey: a.subjectKey,
      maars: a.maars === 'any' ? 'any' : commaList(a.maars),
      pools: commaList(a.pools),
      addresses: commaList(a.addresses),
      policy: a.policy,
      ...(a.seconds !== undefined ? { seconds: positiveInt(a.seconds, 'seconds') } : {}),
      days: a.days,
      out: a.out
    }))
    return 0
  }
}

const show: DmmCommand<{ file: string }> = {
  command: 'show <file>',
  describe: 'Print an agreement readably (its signature is not checked: see verify)',
  positionals: { file: { type: 'string', describe: 'the agreement file' } },
  examples: [['dmm federation show a-accepts-b.json', 'who accepts whom, for which MAARs and pools, with which policy, until when']],
  handler: async a => {
    const { describeAgreement, readAgreementFile } = await import('../cmds/federation.js')
    for (const line of describeAgreement((await readAgreementFile(a.file)).agreement)) printLine(line)
    return 0
  }
}

const verify: DmmCommand<{ file: string, config?: string }> = {
  command: 'verify <file>',
  describe: 'Check an agreement\'s signature and validity and, with --config, that its keys are that domain\'s: exit 0 valid, 1 not valid (the line says which check), 2 unreadable',
  positionals: { file: { type: 'string', describe: 'the agreement file' } },
  options: { config: text('a dmm maar config of the issuer\'s or the subject\'s domain') },
  examples: [['dmm federation verify a-accepts-b.json --config /etc/dmm/maar.yaml', 'before listing it in the config\'s federation.agreements']],
  handler: async a => {
    const { domainOfConfig, verifyAgreementFile } = await import('../cmds/federation.js')
    const result = await verifyAgreementFile(a.file, a.config === undefined ? undefined : await domainOfConfig(a.config))
    ;(result.ok ? process.stdout : process.stderr).write(`${result.line}\n`)
    return result.ok ? 0 : 1
  }
}

const revoke: DmmCommand<{ operatorKey: string, agreement: string, out: string }> = {
  command: 'revoke',
  describe: 'Sign a revocation of an agreement with its issuer\'s key: MAARs that load it take no new cross-border registration under it',
  options: {
    'operator-key': text('the issuer\'s operator key', true),
    agreement: text('the agreement file', true),
    out: text('the revocation file to write', true)
  },
  examples: [['dmm federation revoke --operator-key a-operator.key --agreement a-accepts-b.json --out a-accepts-b.revoked.json', 'then list it in federation.revocations and send the MAARs SIGHUP']],
  handler: async a => {
    const { revokeAgreement } = await import('../cmds/federation.js')
    printJson(await revokeAgreement(a))
    return 0
  }
}

export const federationCommand: DmmCommand = {
  command: 'federation',
  describe: 'Federation agreements between domains (make, show, verify, revoke)',
  subcommands: [make, show, verify, revoke]
}
