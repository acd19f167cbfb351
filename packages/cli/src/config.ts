/**
 * The `dmm maar` YAML configuration: one zod schema (maarConfigSchema) checks every field, paths
 * are resolved against the config file's folder, and every error names the field, the YAML line
 * it is on and why (ConfigError).
 */
import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { multiaddr } from '@multiformats/multiaddr'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { canonicalIpv6, parsePrefix } from '@dmm-mesh/wire'
import type { SignallingMode } from '@dmm-mesh/maar'
import { CliError } from './errors.js'
import { ConfigError, flag, integer, list, mapping, oneOf, parseYaml, text } from '@dmm-mesh/scenario'

export { ConfigError, formatProblem } from '@dmm-mesh/scenario'
export type { ConfigProblem } from '@dmm-mesh/scenario'

export interface LinuxDataPlaneConfig {
  tunnelKind: 'seg6' | 'ip6tnl'
  backboneInterface: string
  tableBase: number
  radvd: boolean
  dlif: boolean
  runDir: string
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFormat = 'json' | 'pretty'

/** What every peer of the domain (MAAR or CMD) is configured with (peerFields in the schemas). */
export interface PeerConfig {
  name: string
  /** libp2p Ed25519 identity key file. */
  identity: string
  /** Domain certificate file for this peer (`dmm cert`). */
  certificate: string
  domain: { name: string, operatorPublicKey: string }
  listen: string[]
  bootstrap: string[]
  /** Its address on the backbone; must be in the certificate. */
  address: string
}

export interface MaarConfig extends PeerConfig {
  pools: string[]
  prefixLength: number
  lifetime: number
  /** How far ahead of this MAAR's clock a PBU timestamp may be, ms (RFC 5213 §5.5; default 300). */
  timestampWindow: number
  dataDir: string
  dataplane: { driver: 'memory' } | ({ driver: 'linux' } & LinuxDataPlaneConfig)
  api: { host: string, port: number }
  log: { level: LogLevel, format: LogFormat }
  /** A pcap file the MAAR writes its signalling to, when set. */
  capture?: string
  /** How previous anchors are found and reached (issue 10): dht (default), cmd or hybrid. */
  discovery: SignallingMode
  /** Agreements with other domains (doc/ARCHITECTURE.md "Federation"); paths resolved. */
  federation?: FederationConfig
}

export interface FederationConfig {
  /** Agreement files (`dmm federation make`): this domain's operator as issuer or subject. */
  agreements: string[]
  /** Revocation files (`dmm federation revoke`). */
  revocations: string[]
  /** Multiaddrs with /p2p/ of MAARs of federated domains, asked for sessions across the border. */
  gateways: string[]
}

/** The `dmm cmd` config (draft-bernardos-dmm-pmip §3: the Central Mobility Database). */
export interface CmdConfig extends PeerConfig {
  dataDir: string
  mode: 'relay' | 'locator' | 'proxy'
  relayTimeoutMs: number
  timestampWindow: number
  /** Draft §3.5: (a) only the serving MAAR de-registers; (b) P-MAARs de-register at the CMD. */
  deregistration: 'a' | 'b'
  api?: { host: string, port: number }
  log: { level: LogLevel, format: LogFormat }
  capture?: string
  /** Agreements with other domains: the CMD is its domain's border gateway (doc/ARCHITECTURE.md "CMD domains"). */
  federation?: FederationConfig
}

const message = (err: unknown): string => err instanceof Error ? err.message : String(err)

/** Every entry must parse as a multiaddr (which also keeps tcp/udp ports within 0..65535). */
const multiaddrText = text.superRefine((m, ctx) => {
  if (!m.startsWith('/')) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(m)} is not a multiaddr (e.g. /ip4/127.0.0.1/tcp/4001)` })
    return
  }
  try {
    multiaddr(m)
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(m)} is not a valid multiaddr: ${message(err)}` })
  }
})

/** An IPv6 address, in canonical form (RFC 5952). */
const ipv6 = text.transform((a, ctx) => {
  try {
    return canonicalIpv6(a)
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: message(err) })
    return z.NEVER
  }
})

/** A prefix without host bits, in canonical form. */
const prefix = text.transform((p, ctx) => {
  try {
    const parsed = parsePrefix(p)
    return `${parsed.prefix}/${parsed.prefixLength}`
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: message(err) })
    return z.NEVER
  }
})

/** The operator key as `dmm keygen` prints it: base64 of a protobuf Ed25519 public key. */
const operatorPublicKey = text.superRefine((key, ctx) => {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) {
    ctx.addIssue({ code: 'custom', message: 'must be base64 (the publicKey that dmm keygen prints)' })
    return
  }
  let type: string
  try {
    type = publicKeyFromProtobuf(Buffer.from(key, 'base64')).type
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `is not a public key: ${message(err)}` })
    return
  }
  if (type !== 'Ed25519') ctx.addIssue({ code: 'custom', message: `must be an Ed25519 public key, got ${type}` })
})

const memoryDataPlane = mapping({ driver: z.literal('memory') }, 'with a driver')

const linuxDataPlane = mapping({
  driver: z.literal('linux'),
  tunnelKind: oneOf(['seg6', 'ip6tnl'], 'seg6'),
  backboneInterface: text,
  /** At least 3: the Linux driver's uplink table is tableBase - 2, its served table tableBase - 1 (dataplane linux/driver.ts). */
  tableBase: integer(3, 0xfffffff0, 1000),
  radvd: flag(true),
  dlif: flag(false),
  /** Relative to the config file; default `run` next to it. */
  runDir: text.optional()
}, 'with a driver')

/** The driver defaults to memory (no kernel state); linux programs seg6/ip6tnl routes. */
const dataplane = z.preprocess(
  v => typeof v === 'object' && v !== null && !Array.isArray(v) && !('driver' in v) ? { ...v, driver: 'memory' } : v,
  z.discriminatedUnion('driver', [memoryDataPlane, linuxDataPlane], {
    error: iss => iss.code === 'invalid_union'
      ? `must be memory or linux, got ${JSON.stringify((iss.input as { driver?: unknown } | undefined)?.driver)}`
      : 'must be a mapping with a driver'
  })
)

const LOOPBACK = ['127.0.0.1', '::1', 'localhost']

const api = mapping({
  host: text.default('127.0.0.1').refine(h => LOOPBACK.includes(h), { error: 'the management API listens on loopback only (127.0.0.1, ::1 or localhost)' }),
  port: integer(0, 65535, 0)
}, '{ host, port }')

const log = mapping({
  level: oneOf(['debug', 'info', 'warn', 'error'], 'info'),
  format: oneOf(['json', 'pretty'], 'json')
}, '{ level, format }')

/** A multiaddr that names its peer (/p2p/<peer id>): the CMD is dialled by identity. */
const peerAddress = multiaddrText.refine(m => m.includes('/p2p/'), { error: 'must end with /p2p/<peer id> of the CMD' })

/** The LMA of legacy mode: 'self' on the LMA, else its multiaddr naming its peer. */
const lmaAddress = text.superRefine((m, ctx) => {
  if (m === 'self') return
  if (!m.startsWith('/') || !m.includes('/p2p/')) ctx.addIssue({ code: 'custom', message: `must be self (on the LMA) or the LMA's multiaddr ending with /p2p/<peer id>, got ${JSON.stringify(m)}` })
}).pipe(z.union([z.literal('self'), multiaddrText]))

/**
 * draft-bernardos-dmm-pmip §3.5, the same on the CMD and on every MAAR of the domain: (a) only the
 * serving MAAR de-registers, P-MAARs stop their timer; (b) P-MAARs keep the lifetime and
 * de-register at the CMD, which renews them while the MN is still in the domain.
 */
const deregistrationVariant = z.enum(['a', 'b'], { error: iss => `must be a (only the serving MAAR de-registers) or b (P-MAARs de-register at the CMD), draft-bernardos-dmm-pmip §3.5; got ${JSON.stringify(iss.input)}` }).default('a')

/** The CMD's and the MAARs' names of the two variants. */
export function deregistrationOf (variant: 'a' | 'b'): 'serving' | 'anchors' {
  return variant === 'a' ? 'serving' : 'anchors'
}

/**
 * dht (default), cmd or hybrid (issue 10); the CMD's own mode decides relay, locator or proxy, and
 * a MAAR behaves the same in all three (one PBU to the CMD; PBAs from it or, in locator mode, from
 * the P-MAARs), so `mode: relay | locator | proxy` is read as `cmd` with the CMD of that mode.
 * legacy: classic PMIPv6 (draft-bernardos-dmm-pmip Appendix A.5), every prefix anchored at `lma`.
 */
const discovery = z.discriminatedUnion('mode', [
  mapping({ mode: z.literal('dht') }, '{ mode }'),
  mapping({ mode: z.enum(['cmd', 'relay', 'locator', 'proxy']).transform(() => 'cmd' as const), cmd: peerAddress, deregistration: deregistrationVariant }, '{ mode, cmd, deregistration }'),
  mapping({ mode: z.literal('hybrid'), cmd: peerAddress, timeoutMs: integer(1, 60_000, 500) }, '{ mode, cmd, timeoutMs }'),
  mapping({ mode: z.literal('legacy'), lma: lmaAddress }, '{ mode, lma }')
], {
  error: iss => iss.code === 'invalid_union'
    ? `mode must be dht, cmd (or the CMD's mode: relay, locator, proxy), hybrid or legacy, got ${JSON.stringify((iss.input as { mode?: unknown } | undefined)?.mode)}`
    : 'must be a mapping with a mode'
})

/** The gateway of another domain (one of its MAARs, or its CMD), dialled by identity. */
const gatewayAddress = multiaddrText.refine(m => m.includes('/p2p/'), { error: 'must end with /p2p/<peer id> of a gateway (a MAAR or the CMD) of the federated domain' })

/** The `federation` section, one shape for `dmm maar` and `dmm cmd`. */
const federation = mapping({
  agreements: list(text).min(1, { error: 'must list at least one agreement file' }),
  revocations: list(text).default([]),
  gateways: list(gatewayAddress).default([])
}, '{ agreements, revocations, gateways }')

/** What every peer of the domain is configured with: its name, identity, domain, addresses. */
const peerFields = {
  name: text,
  identity: text,
  certificate: text,
  domain: mapping({ name: text, operatorPublicKey }, '{ name, operatorPublicKey }'),
  listen: list(multiaddrText).min(1, { error: 'must be a non-empty list' }),
  bootstrap: list(multiaddrText).default([]),
  address: ipv6,
}

/** The whole `dmm maar` config, as written (paths still relative to the file). */
export const maarConfigSchema = mapping({
  ...peerFields,
  pools: list(prefix).min(1, { error: 'must be a non-empty list' }),
  prefixLength: integer(1, 128, 64),
  // RFC 6275 §6.1.7: the Lifetime field counts units of 4 s.
  lifetime: integer(4, 0xffff * 4, 3600)
    .refine(l => l % 4 === 0, { error: iss => `${String(iss.input)} s is not a multiple of 4 (RFC 6275 §6.1.7 carries units of 4 s)` }),
  // Clocks of the domain's MAARs must agree within it (NTP); a wider window tolerates drift.
  timestampWindow: integer(0, 60_000, 300),
  dataDir: text,
  dataplane: dataplane.optional().transform(d => d ?? { driver: 'memory' as const }),
  api: api.prefault({}),
  log: log.prefault({}),
  capture: text.optional(),
  discovery: discovery.optional(),
  federation: federation.optional()
}, '(the top level of the file)').superRefine((c, ctx) => {
  c.pools.forEach((p, i) => {
    if (parsePrefix(p).prefixLength > c.prefixLength) ctx.addIssue({ code: 'custom', path: ['pools', i], message: `${p} is longer than prefixLength /${c.prefixLength}` })
  })
})

/** The whole `dmm cmd` config, as written. */
export const cmdConfigSchema = mapping({
  ...peerFields,
  dataDir: text,
  mode: oneOf(['relay', 'locator', 'proxy'], 'relay'),
  relayTimeoutMs: integer(1, 60_000, 1000),
  timestampWindow: integer(0, 60_000, 300),
  deregistration: deregistrationVariant,
  api: api.optional(),
  log: log.prefault({}),
  capture: text.optional(),
  federation: federation.optional()
}, '(the top level of the file)')

/** Paths of a config are relative to its file. */
function relativeTo (configPath: string): (p: string) => string {
  const base = dirname(resolve(configPath))
  return p => isAbsolute(p) ? p : resolve(base, p)
}

export function parseCmdConfig (text: string, configPath: string): CmdConfig {
  const c = parseYaml(cmdConfigSchema, text, configPath)
  const file = relativeTo(configPath)
  return {
    ...c,
    identity: file(c.identity),
    certificate: file(c.certificate),
    dataDir: file(c.dataDir),
    ...(c.api !== undefined ? { api: c.api } : {}),
    ...(c.capture !== undefined ? { capture: file(c.capture) } : {}),
    ...federationOf(c.federation, file)
  }
}

export async function readCmdConfig (path: string): Promise<CmdConfig> {
  const text = await readConfigText(path)
  try {
    return parseCmdConfig(text, path)
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message)
    throw err
  }
}

export function parseMaarConfig (text: string, configPath: string): MaarConfig {
  const c = parseYaml(maarConfigSchema, text, configPath)
  const file = relativeTo(configPath)
  const dp = c.dataplane
  return {
    name: c.name,
    identity: file(c.identity),
    certificate: file(c.certificate),
    domain: c.domain,
    listen: c.listen,
    bootstrap: c.bootstrap,
    address: c.address,
    pools: c.pools,
    prefixLength: c.prefixLength,
    lifetime: c.lifetime,
    timestampWindow: c.timestampWindow,
    dataDir: file(c.dataDir),
    dataplane: dp.driver === 'memory' ? { driver: 'memory' } : { ...dp, runDir: file(dp.runDir ?? 'run') },
    api: c.api,
    log: c.log,
    ...(c.capture !== undefined ? { capture: file(c.capture) } : {}),
    discovery: c.discovery === undefined
      ? { mode: 'dht' }
      : c.discovery.mode === 'cmd' ? { ...c.discovery, deregistration: deregistrationOf(c.discovery.deregistration) } : c.discovery,
    ...federationOf(c.federation, file)
  }
}

/** The federation section with its agreement and revocation files resolved against the config's folder. */
function federationOf (f: FederationConfig | undefined, file: (p: string) => string): { federation?: FederationConfig } {
  return f === undefined ? {} : { federation: { agreements: f.agreements.map(file), revocations: f.revocations.map(file), gateways: f.gateways } }
}

/** The text of a config file; one that cannot be read is the user's to fix (CliError, exit 2). */
export async function readConfigText (path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read config ${path}: ${message(err)}`)
  }
}

/** Reads and checks a config file; a wrong config is a CliError `FILE:LINE: field: why` (exit 2). */
export async function readMaarConfig (path: string): Promise<MaarConfig> {
  const text = await readConfigText(path)
  try {
    return parseMaarConfig(text, path)
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message)
    throw err
  }
}
