/**
 * Reliability of a mesh of four `dmm maar` processes (memory data plane, loopback, LevelDB on
 * disk) under a seeded storm of moves during which an anchor and a serving MAAR are killed with
 * SIGKILL and restarted on the same config and dataDir. Once the mesh has settled, the binding
 * caches must agree (test/mesh-invariants.ts). The suite prints what it tried and what survived.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BindingCacheEntry } from '@dmm-mesh/binding-cache'
import { ApiError, api, apiPort, dialable, killDaemon, makeDomain, maarAddress, p2pPort, pollUntil, sessionVisible, startDaemon, stopDaemon, writeMaarConfig } from './daemons.js'
import type { Daemon, Domain } from './daemons.js'
import { meshViolations } from './mesh-invariants.js'
import type { CacheSnapshot } from './mesh-invariants.js'
import { mulberry32 } from '@dmm-mesh/scenario'

const MAARS = 4
const SEED = 0x5eed
const MNS = 40
const MOVES = 200
const CONCURRENCY = 6
/**
 * Guards against a mesh that never settles; how long it took is printed, never asserted. Above
 * the sum of PBU retransmission intervals (RFC 5213 §6.9.4: 1 s doubling to 32 s, about 63 s),
 * so that a P-MAAR back from a restart is reached by a retransmission before the guard ends.
 */
const CONVERGE_GUARD_MS = 90_000
/** How long an MN dwells at most for its session to become visible before it moves on. */
const DWELL_GUARD_MS = 5_000

/** A seeded generator (mulberry32), so that a failing storm can be replayed. */
const seeded = mulberry32

const mnIdOf = (n: number): string => `mn${n}@dmm.example`
const macOf = (n: number): string => `02:00:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`
const attachBody = (n: number): unknown => ({ mnId: mnIdOf(n), accessLink: 'access0', linkLayerId: macOf(n) })

/** Four daemons; each restarts on the ports it first got, so that its peers can dial it again. */
class Mesh {
  readonly daemons: Array<Daemon | undefined> = []
  private readonly configs: string[] = []

  constructor (private readonly domain: Domain) {}

  async start (): Promise<void> {
    for (let i = 1; i <= MAARS; i++) {
      const config = await writeMaarConfig(this.domain, i, { bootstrap: this.daemons.flatMap(d => d !== undefined ? [dialable(d)] : []) })
      this.configs.push(config)
      this.daemons.push(await startDaemon(config))
    }
    // Pin every port and let every MAAR bootstrap from all the others, for the restarts.
    for (let i = 1; i <= MAARS; i++) {
      const self = this.at(i - 1)
      await writeMaarConfig(this.domain, i, {
        listen: [`/ip4/127.0.0.1/tcp/${p2pPort(self)}`],
        apiPort: apiPort(self),
        bootstrap: this.daemons.flatMap((d, j) => d !== undefined && j !== i - 1 ? [dialable(d)] : [])
      })
    }
  }

  at (index: number): Daemon {
    const d = this.daemons[index]
    assert.ok(d !== undefined, `maar${index + 1} is down`)
    return d
  }

  alive (index: number): boolean { return this.daemons[index] !== undefined }

  async kill (index: number): Promise<void> {
    const d = this.at(index)
    this.daemons[index] = undefined
    await killDaemon(d)
  }

  async restart (index: number): Promise<void> {
    if (this.alive(index)) return
    this.daemons[index] = await startDaemon(this.configs[index] ?? '')
  }

  async snapshot (): Promise<CacheSnapshot[]> {
    return await Promise.all(this.daemons.map(async (d, i) => ({
      name: `maar${i + 1}`,
      address: maarAddress(i + 1),
      bindings: d === undefined ? [] : await api(d, 'GET', '/bindings') as BindingCacheEntry[]
    })))
  }

  async stop (): Promise<void> {
    for (const d of this.daemons) if (d !== undefined) await stopDaemon(d)
  }
}

/** Why an attach failed, short enough to count by. */
function reasonOf (err: unknown): string {
  if (err instanceof ApiError) return `HTTP ${err.status}: ${err.message.replace(/^POST \/attach: /, '').replace(/\d+/g, 'N').slice(0, 70)}`
  return 'no answer (MAAR down)'
}

function count (m: Map<string, number>, key: string): void { m.set(key, (m.get(key) ?? 0) + 1) }

function table (title: string, rows: Array<[string, string | number]>): string {
  return [`      ${title}`, ...rows.map(([k, v]) => `        ${k.padEnd(44)} ${v}`)].join('\n')
}

describe('reliability: a storm of moves across four MAAR processes, with kills', function () {
  this.timeout(240_000)
  let dir: string
  let mesh: Mesh

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmm-reliability-'))
    mesh = new Mesh(await makeDomain(dir, MAARS))
    await mesh.start()
  })

  after(async () => {
    await mesh.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('after SIGKILL of an anchor and of a serving MAAR mid-storm, every MN has one serving MAAR and every anchor points to it', async () => {
    const rng = seeded(SEED)
    // The plan is drawn before the storm: move k sends MN plan[k].mn to MAAR plan[k].target.
    const planned = new Map<number, number>()
    const plan = Array.from({ length: MOVES }, () => {
      const mn = Math.floor(rng() * MNS)
      const previous = planned.get(mn)
      let target = Math.floor(rng() * MAARS)
      if (target === previous) target = (target + 1 + Math.floor(rng() * (MAARS - 1))) % MAARS
      planned.set(mn, target)
      return { mn, target }
    })
    const KILL_ANCHOR_AT = Math.floor(MOVES * 0.3)
    const RESTART_ANCHOR_AT = Math.floor(MOVES * 0.5)
    const KILL_SERVING_AT = Math.floor(MOVES * 0.6)
    const RESTART_SERVING_AT = Math.floor(MOVES * 0.8)

    const state = new Map<number, { target?: number, ok: boolean, sequence: number, chain: Promise<void> }>()
    const failed = new Map<string, number>()
    const peerStatus = new Map<string, number>()
    const kills: string[] = []
    let accepted = 0
    let redirected = 0
    let movedBeforeVisible = 0
    let next = 0
    let killedAnchor = -1
    let killedServing = -1

    /** The MAAR whose binding cache holds the most entries of a kind (anchor or serving). */
    const busiest = async (attached: boolean, except: number): Promise<number> => {
      const caches = await mesh.snapshot()
      let best = -1
      let most = -1
      caches.forEach((c, i) => {
        const n = c.bindings.filter(e => e.attached === attached).length
        if (i !== except && mesh.alive(i) && n > most) { best = i; most = n }
      })
      kills.push(`${caches[best]?.name ?? '?'} (${attached ? 'serving' : 'anchoring'} ${most} MNs) killed at move ${next}`)
      return best
    }

    const events = async (k: number): Promise<void> => {
      if (k === KILL_ANCHOR_AT) { killedAnchor = await busiest(false, -1); await mesh.kill(killedAnchor) }
      if (k === RESTART_ANCHOR_AT) { await mesh.restart(killedAnchor); kills.push(`maar${killedAnchor + 1} restarted at move ${k}, up by move ${next}`) }
      if (k === KILL_SERVING_AT) { killedServing = await busiest(true, killedAnchor); await mesh.kill(killedServing) }
      if (k === RESTART_SERVING_AT) { await mesh.restart(killedServing); kills.push(`maar${killedServing + 1} restarted at move ${k}, up by move ${next}`) }
    }

    const move = async (mn: number, wanted: number): Promise<void> => {
      const s = state.get(mn) ?? { ok: false, sequence: 0, chain: Promise.resolve() }
      // A MAAR that is down has no link to attach to: the MN goes to the next one up.
      let target = wanted
      for (let tries = 0; !mesh.alive(target) || target === s.target; tries++) {
        assert.ok(tries < MAARS, `no MAAR up for ${mnIdOf(mn)} to move to`)
        target = (target + 1) % MAARS
      }
      if (target !== wanted) redirected++
      const d = mesh.at(target)
      if (s.ok && !(await sessionVisible(d, mnIdOf(mn), s.sequence, DWELL_GUARD_MS))) movedBeforeVisible++
      s.target = target
      try {
        const report = await api(d, 'POST', '/attach', attachBody(mn))
        accepted++
        s.ok = true
        s.sequence = report.sessionSequence
        for (const p of report.peers as Array<{ status: string }>) count(peerStatus, p.status)
      } catch (err) {
        s.ok = false
        count(failed, reasonOf(err))
      }
      state.set(mn, s)
    }

    const t0 = Date.now()
    const worker = async (): Promise<void> => {
      while (next < MOVES) {
        const k = next++
        await events(k)
        const { mn, target } = plan[k] ?? { mn: 0, target: 0 }
        const s = state.get(mn) ?? { ok: false, sequence: 0, chain: Promise.resolve() }
        state.set(mn, s)
        // One MN is at one place at a time: its moves run in plan order.
        const done = s.chain.then(async () => { await move(mn, target) })
        s.chain = done
        await done
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    const stormMs = Date.now() - t0
    for (let i = 0; i < MAARS; i++) await mesh.restart(i)

    // An MN whose last attach got no answer (its MAAR was killed under it) is still on that
    // link: the link triggers the attach again once the MAAR is back.
    let retried = 0
    for (const [mn, s] of state) {
      if (s.ok || s.target === undefined) continue
      retried++
      const d = mesh.at(s.target)
      const ok = await pollUntil(async () => { await api(d, 'POST', '/attach', attachBody(mn)); return true }, 10_000, 500)
      if (ok === true) s.ok = true
      else count(failed, 'retry after restart failed')
    }

    const expected = new Map([...state].flatMap(([mn, s]) => s.target !== undefined ? [[mnIdOf(mn), `maar${s.target + 1}`] as [string, string]] : []))
    const t1 = Date.now()
    let violations: string[] = []
    const settled = await pollUntil(async () => {
      violations = meshViolations(await mesh.snapshot(), expected)
      return violations.length === 0 ? true : undefined
    }, CONVERGE_GUARD_MS, 250)
    const convergeMs = Date.now() - t1

    process.stdout.write(table(`storm (seed ${SEED}, ${MNS} MNs, ${MOVES} moves, ${CONCURRENCY} at a time, ${MAARS} MAAR processes)`, [
      ['moves tried', MOVES],
      ['accepted', accepted],
      ...[...failed].map(([reason, n]): [string, number] => [`failed: ${reason}`, n]),
      ['redirected (planned MAAR was down)', redirected],
      ['moved before the session was visible', movedBeforeVisible],
      ...[...peerStatus].map(([status, n]): [string, number] => [`P-MAAR answers ${status}`, n]),
      ...kills.map((k, i): [string, string] => [`event ${i + 1}`, k]),
      ['attaches retried after restart', retried],
      ['storm took', `${(stormMs / 1000).toFixed(1)} s`],
      [settled === true ? 'converged after' : `NOT converged within ${CONVERGE_GUARD_MS / 1000} s`, `${(convergeMs / 1000).toFixed(1)} s`],
      ['violations', violations.length]
    ]) + '\n' + violations.slice(0, 25).map(v => `          ${v}`).join('\n') + (violations.length > 25 ? `\n          … ${violations.length - 25} more` : '') + '\n')
    assert.deepEqual(violations, [])
  })

  it('an anchor killed during a handover keeps its prefix listed, and points to the new serving MAAR once back', async () => {
    for (let i = 0; i < MAARS; i++) await mesh.restart(i)
    const n = 9999
    const mnId = mnIdOf(n)
    const [a, b, c] = [0, 1, 2]
    const first = await api(mesh.at(a), 'POST', '/attach', attachBody(n))
    const anchoredAtA = first.localPrefix as string
    assert.ok(await sessionVisible(mesh.at(b), mnId, first.sessionSequence), 'session visible at maar2')
    const second = await api(mesh.at(b), 'POST', '/attach', attachBody(n))
    assert.equal(second.kind, 'handover')
    assert.ok(await sessionVisible(mesh.at(c), mnId, second.sessionSequence), 'session visible at maar3')

    await mesh.kill(a)
    const third = await api(mesh.at(c), 'POST', '/attach', attachBody(n))
    const outcomes = (third.peers as Array<{ address: string, status: string }>).map(p => `${p.address} ${p.status}`)
    const cEntry = (await api(mesh.at(c), 'GET', '/bindings') as BindingCacheEntry[]).find(e => e.mnId === mnId)
    const listed = (third.anchors as Array<{ prefix: string, anchor: string }>).some(x => x.prefix === anchoredAtA && x.anchor === maarAddress(a + 1)) ||
      (cEntry?.remoteAnchors ?? []).some(r => r.prefix === anchoredAtA && r.address === maarAddress(a + 1))
    process.stdout.write(table('anchor down during a handover', [
      ['handover at maar3, P-MAAR answers', outcomes.join(', ')],
      [`prefix ${anchoredAtA} of dead maar1 still listed`, String(listed)]
    ]) + '\n')
    assert.equal(outcomes.includes(`${maarAddress(b + 1)} ACCEPTED`), true, `maar2 accepted: ${outcomes.join(', ')}`)
    assert.ok(listed, `the prefix anchored at the dead maar1 is not silently dropped: report ${JSON.stringify(third.anchors)}, remoteAnchors ${JSON.stringify(cEntry?.remoteAnchors)}`)

    await mesh.restart(a)
    const pointsToC = await pollUntil(async () => {
      const entry = (await api(mesh.at(a), 'GET', '/bindings') as BindingCacheEntry[]).find(e => e.mnId === mnId)
      return entry?.servingMaar?.address === maarAddress(c + 1) ? true : undefined
    }, CONVERGE_GUARD_MS, 250)
    const aEntry = (await api(mesh.at(a), 'GET', '/bindings') as BindingCacheEntry[]).find(e => e.mnId === mnId)
    process.stdout.write(table('after maar1 is back', [['maar1 points the MN to', aEntry?.servingMaar?.address ?? 'nothing']]) + '\n')
    assert.equal(pointsToC, true, `maar1, back, points to the serving maar3 (${maarAddress(c + 1)}), not to ${aEntry?.servingMaar?.address ?? 'nothing'}`)
    const caches = await mesh.snapshot()
    assert.deepEqual(meshViolations(caches.map(x => ({ ...x, bindings: x.bindings.filter(e => e.mnId === mnId) })), new Map([[mnId, 'maar3']])), [])
  })
})
