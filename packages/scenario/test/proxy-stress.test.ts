/**
 * Proxy mode (draft-bernardos-dmm-pmip §3.4) under stress, in one process (the local engine: real
 * libp2p, LevelDB, the memory data plane): many MNs moving at once, and some of the CMD's forwards
 * lost on the way, as an overloaded P-MAAR lets them time out (downtown.yaml on a busy machine).
 * The CMD answers the serving MAAR from its cache at once, so nobody but the CMD can send a lost
 * forward again (RFC 5213 §6.9.4). Once everything has settled the scenario's checks must pass:
 * one serving MAAR per MN that every anchor points to, no prefix held twice, every prefix
 * reachable from the CN through its anchor.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decorateTransport } from '@dmm-mesh/maar'
import type { SignallingTransport } from '@dmm-mesh/maar'
import { FrameCounter, localEngine, pick, runChecks, seededRandom } from '../src/index.js'
import type { ScenarioDomain } from '../src/index.js'

const MAARS = ['maar1', 'maar2', 'maar3', 'maar4', 'maar5', 'maar6']
const MNS = 24
const MOVES = 5
/** Every LOSE_EVERY-th forward of the CMD is lost (before it leaves). */
const LOSE_EVERY = 4

/** The CMD's transport, losing every n-th PBU it forwards. */
function losingForwards (n: number): { lost: () => number, shape: (t: SignallingTransport) => SignallingTransport } {
  let sent = 0
  let lost = 0
  return {
    lost: () => lost,
    shape: inner => decorateTransport(inner, {
      exchange: async (peer, pbu, opts) => {
        if (++sent % n === 0) {
          lost++
          throw new Error('forward lost on the way (test)')
        }
        return await inner.exchange(peer, pbu, opts)
      }
    })
  }
}

describe('proxy mode: many MNs moving at once, some forwards lost', function () {
  this.timeout(300_000)
  let dir: string
  let domain: ScenarioDomain | undefined
  const loss = losingForwards(LOSE_EVERY)
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-proxy-stress-'))
    domain = await localEngine.start({
      contender: 'proxy',
      maars: MAARS,
      lifetimeS: 3600,
      relayTimeoutMs: 1000,
      workDir: dir,
      delay: () => 0,
      frames: new FrameCounter(),
      onRecordRequest: () => {},
      shapeCmdTransport: loss.shape
    })
  })
  after(async () => {
    await domain?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('ends consistent once settled: the scenario checks pass for every MN', async () => {
    const d = domain
    assert.ok(d !== undefined)
    const random = seededRandom(7, 'proxy-stress')
    const serving = new Map<string, string>()
    const walk = async (mnId: string, path: string[]): Promise<void> => {
      for (const to of path) {
        const maar = d.maar(to)
        assert.ok(maar !== undefined, `${to} runs`)
        d.network.attachMn(mnId, d.addressOf(to))
        await maar.attach({ mnId, accessLink: 'access0', linkLayerId: '02:00:00:00:00:01' })
        serving.set(mnId, to)
      }
    }
    const paths = Array.from({ length: MNS }, () => {
      const path: string[] = []
      while (path.length < MOVES) {
        const next = pick(random, MAARS)
        if (next !== path[path.length - 1]) path.push(next)
      }
      return path
    })
    await Promise.all(paths.map(async (path, i) => { await walk(`walker-${i}@scenario.example`, path) }))
    assert.ok(loss.lost() > 0, 'some forwards were lost')
    // Settled: every MAAR's and the CMD's background work is over (retransmissions included).
    await d.settled()
    const round = await runChecks({ domain: d, maars: MAARS, serving, present: new Set(serving.keys()), run: ['reachable', 'no-prefix-held-twice', 'one-serving-maar'], t: 0 })
    for (const r of round.results) assert.deepEqual(r.violations, [], `${r.check}:\n${r.violations.join('\n')}`)
  })
})
