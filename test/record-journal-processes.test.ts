/**
 * Session records on disk under SIGKILL of a whole `dmm maar` process (doc/ARCHITECTURE.md
 * "Records on disk"): a PUT acknowledged by a holder survives the holder's process being killed
 * and restarted on the same dataDir, one record alone and every acknowledged record of a burst
 * during which the kill lands. The holder is a real daemon (LevelDB in DATADIR/session-records);
 * the publisher is a real libp2p node of the domain in this process, PUTting and GETting over
 * `/dmm/record/1.0.0` as a MAAR does, so that each acknowledgement is seen.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TrustStore, createMeshNode, peekSessionRecord, readCertificateFile, readKeyFile, requestFrames, requestRecord, sealSessionRecord, sessionKey } from '@dmm-mesh/discovery'
import type { SessionRecord } from '@dmm-mesh/discovery'
import { api, apiPort, killDaemon, makeDomain, maarAddress, maarPool, p2pPort, pollUntil, startDaemon, stopDaemon, writeMaarConfig } from './daemons.js'
import type { Daemon, Domain } from './daemons.js'

// The libp2p types as the discovery package hands them out (test/ declares no libp2p dependency).
type Libp2p = Awaited<ReturnType<typeof createMeshNode>>
type PrivateKey = Awaited<ReturnType<typeof readKeyFile>>
type PeerId = Libp2p['peerId']

/** The publisher is MAAR 2 of the domain, the holder `dmm maar` MAAR 1. */
const PUBLISHER = 2
const BURST = 400
const IN_FLIGHT = 32
/** The holder is killed the moment this many PUTs of the burst are acknowledged. */
const KILL_AFTER_ACKS = 60

describe('session records on disk: a holder process killed with SIGKILL', function () {
  this.timeout(120_000)
  let dir: string
  let domain: Domain
  let trust: TrustStore
  let publisher: Libp2p
  let publisherKey: PrivateKey
  let certificate: Uint8Array
  let publisherPeerId: string
  let holder: Daemon | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-record-kill-'))
    domain = await makeDomain(dir, PUBLISHER)
    trust = new TrustStore([{ domain: 'dmm.example', operatorPublicKey: domain.operatorPublicKey }])
    certificate = await readCertificateFile(join(dir, `maar${PUBLISHER}.cert`))
    publisherKey = await readKeyFile(join(dir, `maar${PUBLISHER}.key`))
    publisher = await createMeshNode({ privateKey: publisherKey, certificate, listen: ['/ip4/127.0.0.1/tcp/0'], trust })
    publisherPeerId = publisher.peerId.toString()
  })
  afterEach(async () => {
    if (holder !== undefined) await stopDaemon(holder)
    holder = undefined
  })
  after(async () => {
    await publisher?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  /** The session of `mnId` served and anchored at the publisher (its pool's subnet `subnet`). */
  function sessionOf (mnId: string, sequence: number, subnet = 1): SessionRecord {
    const ref = { peerId: publisherPeerId, address: maarAddress(PUBLISHER), multiaddrs: [] }
    const prefix = `${maarPool(PUBLISHER).split('::')[0] ?? ''}:${subnet.toString(16)}::/64`
    return { mnId, sequence, issuedAt: Date.now(), serving: ref, anchors: [{ ...ref, prefix, lifetime: 3600 }] }
  }

  const seal = async (record: SessionRecord): Promise<Uint8Array> => await sealSessionRecord(record, publisherKey, [certificate])

  /**
   * Starts the holder `dmm maar` on `dataDir`, bootstrapping from the publisher; a restart
   * (`pinned`: the killed one) keeps its ports, as a restarted MAAR does.
   */
  async function startHolder (dataDir: string, pinned?: Daemon): Promise<Daemon> {
    const config = await writeMaarConfig(domain, 1, {
      dataDir,
      file: `holder-${dataDir.replaceAll('/', '-')}.yaml`,
      bootstrap: [publisher.getMultiaddrs()[0]?.toString() ?? ''],
      ...(pinned !== undefined ? { listen: [`/ip4/127.0.0.1/tcp/${p2pPort(pinned)}`], apiPort: apiPort(pinned) } : {})
    })
    return await startDaemon(config)
  }

  /** The holder's peer id as the publisher's connection from it names it (hang guard only). */
  async function peerOf (d: Daemon): Promise<PeerId> {
    const peer = await pollUntil(async () => publisher.getConnections().find(c => c.remotePeer.toString() === d.peerId)?.remotePeer, 20_000)
    assert.ok(peer !== undefined, `${d.name} never connected to the publisher`)
    return peer
  }

  async function ask (d: Daemon, op: 'get' | 'put', mnId: string, record?: Uint8Array): Promise<{ ok: boolean, found?: boolean, record?: Uint8Array, error?: string }> {
    const header = { op, key: new TextDecoder().decode(sessionKey(mnId)) } as const
    const answer = await requestRecord(publisher, await peerOf(d), requestFrames(header, certificate, record), AbortSignal.timeout(20_000), trust)
    return { ...answer.header, ...(answer.record !== undefined ? { record: answer.record } : {}) }
  }

  it('a record PUT and acknowledged is answered for by the holder restarted after SIGKILL', async () => {
    holder = await startHolder('data/one')
    const put = await ask(holder, 'put', 'ruth@dmm.example', await seal(sessionOf('ruth@dmm.example', 7)))
    assert.equal(put.ok, true, put.error)
    const killed = holder
    holder = undefined
    await killDaemon(killed)
    holder = await startHolder('data/one', killed)
    assert.match(holder.stderr(), /session records restored from \S+: 1\b/)
    // Asked over the record protocol, as a MAAR's lookup asks a key's closest members.
    const got = await ask(holder, 'get', 'ruth@dmm.example')
    assert.equal(got.found, true)
    assert.equal(peekSessionRecord(got.record!).sequence, 7)
    // And the holder's own lookup (GET /session) finds it.
    const session = await api(holder, 'GET', `/session?mn=${encodeURIComponent('ruth@dmm.example')}`) as SessionRecord | null
    assert.equal(session?.sequence, 7)
  })

  it('a kill during a burst of PUTs: the holder restarts, and every acknowledged record is there', async () => {
    holder = await startHolder('data/burst')
    const target = holder
    const mnIdOf = (n: number): string => `burst${n}@dmm.example`
    const records = await Promise.all(Array.from({ length: BURST }, async (_, n) => await seal(sessionOf(mnIdOf(n), n + 1, (n % 0xffff) + 1))))
    const acknowledged: number[] = []
    let killing: Promise<void> | undefined
    let next = 0
    // IN_FLIGHT PUTs at a time on the kept stream; the kill lands the moment the
    // KILL_AFTER_ACKS-th acknowledgement arrives, with writes of the others under way.
    const worker = async (): Promise<void> => {
      while (next < BURST && killing === undefined) {
        const n = next++
        const answer = await ask(target, 'put', mnIdOf(n), records[n]).catch(() => undefined)
        if (answer === undefined) continue // the holder died with this PUT unanswered
        assert.equal(answer.ok, true, answer.error)
        acknowledged.push(n)
        if (acknowledged.length === KILL_AFTER_ACKS) killing = killDaemon(target)
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
    holder = undefined
    await (killing ?? killDaemon(target))
    assert.ok(acknowledged.length >= KILL_AFTER_ACKS, `${acknowledged.length} PUTs acknowledged before the kill`)
    assert.ok(target.child.signalCode === 'SIGKILL', 'the holder died of the kill, not on its own')

    // The restart on the same dataDir neither fails nor sets the folder aside.
    holder = await startHolder('data/burst', target)
    assert.doesNotMatch(holder.stderr(), /could not be opened/)
    const missing: string[] = []
    for (const n of acknowledged) {
      const got = await ask(holder, 'get', mnIdOf(n))
      if (got.found !== true || peekSessionRecord(got.record!).sequence !== n + 1) missing.push(mnIdOf(n))
    }
    assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged records lost`)
    console.log(`      ${acknowledged.length} of ${BURST} PUTs acknowledged before SIGKILL; all of them answered after the restart`)
  })
})
