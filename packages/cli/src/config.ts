/**
 * The `dmm maar` YAML configuration: parsed, checked field by field, paths resolved against the
 * config file's folder. Every error names the field and says why (ConfigError).
 */
import { dirname, isAbsolute, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { multiaddr } from '@multiformats/multiaddr'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { canonicalIpv6, parsePrefix } from '@dmm-mesh/wire'

export class ConfigError extends Error {
  constructor (readonly field: string, reason: string) {
    super(`config: ${field}: ${reason}`)
    this.name = 'ConfigError'
  }
}

export interface LinuxDataPlaneConfig {
  tunnelKind: 'seg6' | 'ip6tnl'
  backboneInterface: string
  tableBase: number
  radvd: boolean
  dlif: boolean
  runDir: string
}

export interface MaarConfig {
  name: string
  /** libp2p Ed25519 identity key file. */
  identity: string
  /** Domain certificate file for this MAAR (`dmm cert`). */
  certificate: string
  domain: { name: string, operatorPublicKey: string }
  listen: string[]
  bootstrap: string[]
  address: string
  pools: string[]
  prefixLength: number
  lifetime: number
  /** How far ahead of this MAAR's clock a PBU timestamp may be, ms (RFC 5213 §5.5; default 300). */
  timestampWindow: number
  dataDir: string
  dataplane: { driver: 'memory' } | ({ driver: 'linux' } & LinuxDataPlaneConfig)
  api: { host: string, port: number }
}

type Obj = Record<string, unknown>

function isObj (v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function str (o: Obj, key: string, path: string, fallback?: string): string {
  const v = o[key]
  if (v === undefined && fallback !== undefined) return fallback
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(path, v === undefined ? 'is required' : 'must be a non-empty string')
  return v
}

function int (o: Obj, key: string, path: string, fallback: number, min: number, max: number): number {
  const v = o[key] ?? fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`)
  return v
}

function bool (o: Obj, key: string, path: string, fallback: boolean): boolean {
  const v = o[key] ?? fallback
  if (typeof v !== 'boolean') throw new ConfigError(path, `must be true or false, got ${JSON.stringify(v)}`)
  return v
}

function strList (o: Obj, key: string, path: string, required: boolean): string[] {
  const v = o[key]
  if (v === undefined && !required) return []
  if (!Array.isArray(v) || (required && v.length === 0)) throw new ConfigError(path, 'must be a non-empty list')
  return v.map((x, i) => {
    if (typeof x !== 'string' || x.length === 0) throw new ConfigError(`${path}[${i}]`, 'must be a non-empty string')
    return x
  })
}

/** Every entry must parse as a multiaddr (which also keeps tcp/udp ports within 0..65535). */
function multiaddrList (o: Obj, key: string, path: string, required: boolean): string[] {
  const list = strList(o, key, path, required)
  list.forEach((m, i) => {
    if (!m.startsWith('/')) throw new ConfigError(`${path}[${i}]`, `${JSON.stringify(m)} is not a multiaddr (e.g. /ip4/127.0.0.1/tcp/4001)`)
    try {
      multiaddr(m)
    } catch (err) {
      throw new ConfigError(`${path}[${i}]`, `${JSON.stringify(m)} is not a valid multiaddr: ${err instanceof Error ? err.message : String(err)}`)
    }
  })
  return list
}

/** The operator key as `dmm keygen` prints it: base64 of a protobuf Ed25519 public key. */
function operatorPublicKey (o: Obj, path: string): string {
  const text = str(o, 'operatorPublicKey', path)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) throw new ConfigError(path, 'must be base64 (the publicKey that dmm keygen prints)')
  let type: string
  try {
    type = publicKeyFromProtobuf(Buffer.from(text, 'base64')).type
  } catch (err) {
    throw new ConfigError(path, `is not a public key: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (type !== 'Ed25519') throw new ConfigError(path, `must be an Ed25519 public key, got ${type}`)
  return text
}

const KNOWN_KEYS = ['name', 'identity', 'certificate', 'domain', 'listen', 'bootstrap', 'address', 'pools', 'prefixLength', 'lifetime', 'timestampWindow', 'dataDir', 'dataplane', 'api']

export function parseMaarConfig (text: string, configPath: string): MaarConfig {
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (err) {
    throw new ConfigError('(file)', `not valid YAML: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!isObj(raw)) throw new ConfigError('(file)', 'must be a YAML mapping')
  for (const k of Object.keys(raw)) if (!KNOWN_KEYS.includes(k)) throw new ConfigError(k, `unknown field (known: ${KNOWN_KEYS.join(', ')})`)
  const base = dirname(resolve(configPath))
  const file = (p: string): string => isAbsolute(p) ? p : resolve(base, p)

  const domain = raw.domain
  if (!isObj(domain)) throw new ConfigError('domain', 'is required: { name, operatorPublicKey }')
  let address: string
  try {
    address = canonicalIpv6(str(raw, 'address', 'address'))
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError('address', err instanceof Error ? err.message : String(err))
  }
  const pools = strList(raw, 'pools', 'pools', true).map((p, i) => {
    try {
      const parsed = parsePrefix(p)
      return `${parsed.prefix}/${parsed.prefixLength}`
    } catch (err) {
      throw new ConfigError(`pools[${i}]`, err instanceof Error ? err.message : String(err))
    }
  })
  const prefixLength = int(raw, 'prefixLength', 'prefixLength', 64, 1, 128)
  pools.forEach((p, i) => { if (parsePrefix(p).prefixLength > prefixLength) throw new ConfigError(`pools[${i}]`, `${p} is longer than prefixLength /${prefixLength}`) })
  const lifetime = int(raw, 'lifetime', 'lifetime', 3600, 4, 0xffff * 4)
  if (lifetime % 4 !== 0) throw new ConfigError('lifetime', `${lifetime} s is not a multiple of 4 (RFC 6275 §6.1.7 carries units of 4 s)`)

  const dp = raw.dataplane ?? { driver: 'memory' }
  if (!isObj(dp)) throw new ConfigError('dataplane', 'must be a mapping with a driver')
  const driver = dp.driver ?? 'memory'
  let dataplane: MaarConfig['dataplane']
  if (driver === 'memory') {
    dataplane = { driver: 'memory' }
  } else if (driver === 'linux') {
    const kind = dp.tunnelKind ?? 'seg6'
    if (kind !== 'seg6' && kind !== 'ip6tnl') throw new ConfigError('dataplane.tunnelKind', `must be seg6 or ip6tnl, got ${JSON.stringify(kind)}`)
    dataplane = {
      driver: 'linux',
      tunnelKind: kind,
      backboneInterface: str(dp, 'backboneInterface', 'dataplane.backboneInterface'),
      tableBase: int(dp, 'tableBase', 'dataplane.tableBase', 1000, 1, 0xfffffff0),
      radvd: bool(dp, 'radvd', 'dataplane.radvd', true),
      dlif: bool(dp, 'dlif', 'dataplane.dlif', false),
      runDir: file(typeof dp.runDir === 'string' ? dp.runDir : resolve(base, 'run'))
    }
  } else {
    throw new ConfigError('dataplane.driver', `must be memory or linux, got ${JSON.stringify(driver)}`)
  }

  const api = raw.api ?? {}
  if (!isObj(api)) throw new ConfigError('api', 'must be a mapping { host, port }')
  const host = str(api, 'host', 'api.host', '127.0.0.1')
  if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') throw new ConfigError('api.host', 'the management API listens on loopback only (127.0.0.1, ::1 or localhost)')

  return {
    name: str(raw, 'name', 'name'),
    identity: file(str(raw, 'identity', 'identity')),
    certificate: file(str(raw, 'certificate', 'certificate')),
    domain: { name: str(domain, 'name', 'domain.name'), operatorPublicKey: operatorPublicKey(domain, 'domain.operatorPublicKey') },
    listen: multiaddrList(raw, 'listen', 'listen', true),
    bootstrap: multiaddrList(raw, 'bootstrap', 'bootstrap', false),
    address,
    pools,
    prefixLength,
    lifetime,
    // Clocks of the domain's MAARs must agree within it (NTP); a wider window tolerates drift.
    timestampWindow: int(raw, 'timestampWindow', 'timestampWindow', 300, 0, 60_000),
    dataDir: file(str(raw, 'dataDir', 'dataDir')),
    dataplane,
    api: { host, port: int(api, 'port', 'api.port', 0, 0, 65535) }
  }
}
