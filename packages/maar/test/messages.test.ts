import assert from 'node:assert/strict'
import { decodeMobilityMessage, encodeMobilityMessage } from '@dmm-mesh/wire'
import type { BindingUpdate, MobilityOption } from '@dmm-mesh/wire'
import { ProxyUpdateError, buildPba, buildPbu, readPba, readPbu } from '../src/messages.js'

const update = {
  mnId: 'alice@dmm.example',
  sequence: 7,
  lifetime: 3600,
  timestampMs: 1_763_800_000_123,
  anchoredPrefixes: ['2001:db8:1::/64', '2001:db8:1:1::/64'],
  localPrefix: '2001:db8:2::/64',
  servingAddress: '2001:db8:ffff::2',
  accessTechnology: 4
}

function viaWire<T> (m: Parameters<typeof encodeMobilityMessage>[0]): T {
  const pseudo = { source: '2001:db8:ffff::2', destination: '2001:db8:ffff::1' }
  return decodeMobilityMessage(encodeMobilityMessage(m, pseudo), { pseudo }) as T
}

function withoutOption (pbu: BindingUpdate, type: MobilityOption['type']): BindingUpdate {
  return { ...pbu, options: pbu.options.filter(o => o.type !== type) }
}

function statusOf (fn: () => unknown): number {
  try { fn() } catch (err) { if (err instanceof ProxyUpdateError) return err.status; throw err }
  assert.fail('expected a ProxyUpdateError')
}

describe('PBU/PBA between MAARs', () => {
  it('a PBU survives the wire with every field (P, A and RFC 8885 D flags set)', () => {
    const pbu = viaWire<BindingUpdate>(buildPbu(update))
    assert.equal(pbu.flags.P, true)
    assert.equal(pbu.flags.A, true)
    assert.equal(pbu.flags.D, true)
    assert.deepEqual(readPbu(pbu), update)
  })

  it('a PBA with referrals survives the wire', () => {
    const referrals = [{ peerId: '12D3KooWExample', address: '2001:db8:ffff::3', multiaddrs: ['/ip4/127.0.0.1/tcp/4003'], prefixes: [] }]
    const ack = { status: 0, sequence: 7, lifetime: 3600, mnId: update.mnId, timestampMs: update.timestampMs, anchoredPrefixes: ['2001:db8:1::/64'], referrals }
    assert.deepEqual(readPba(viaWire(buildPba(ack))), ack)
  })

  it('a CMD\'s PBA groups Anchored Prefixes after their Previous MAAR option (RFC 8885 §4.5)', () => {
    const referrals = [
      { peerId: '12D3KooWExampleA', address: '2001:db8:ffff::1', multiaddrs: ['/ip4/127.0.0.1/tcp/4001'], prefixes: ['2001:db8:1::/64'] },
      { peerId: '12D3KooWExampleB', address: '2001:db8:ffff::2', multiaddrs: [], prefixes: ['2001:db8:2::/64', '2001:db8:2:1::/64'], pending: true }
    ]
    const ack = { status: 0, sequence: 7, lifetime: 3600, mnId: update.mnId, timestampMs: update.timestampMs, anchoredPrefixes: [], referrals, sessionSequence: 70000, answerServingMaar: true }
    assert.deepEqual(readPba(viaWire(buildPba(ack))), ack)
  })

  it('a CMD\'s PBA names a P-MAAR that refused with its status and reason, inside its group', () => {
    const referrals = [
      { peerId: '12D3KooWExampleA', address: '2001:db8:ffff::1', multiaddrs: [], prefixes: [], refusal: { status: 129, reason: 'agreement b-accepts-a: policy drop' } },
      { peerId: '12D3KooWExampleB', address: '2001:db8:ffff::2', multiaddrs: [], prefixes: ['2001:db8:2::/64'] }
    ]
    const ack = { status: 0, sequence: 7, lifetime: 3600, mnId: update.mnId, timestampMs: update.timestampMs, anchoredPrefixes: [], referrals, sessionSequence: 9 }
    assert.deepEqual(readPba(viaWire(buildPba(ack))), ack)
  })

  it('a PBU relayed by a CMD carries the serving MAAR\'s locator and the locator-mode flag', () => {
    const relayed = { ...update, servingLocator: { peerId: '12D3KooWExampleS', address: update.servingAddress ?? '', multiaddrs: ['/ip4/127.0.0.1/tcp/4009'] }, answerServingMaar: true }
    assert.deepEqual(readPbu(viaWire(buildPbu(relayed))), relayed)
  })

  it('refuses PBUs it cannot act on with the RFC status', () => {
    const pbu = buildPbu(update)
    assert.equal(statusOf(() => readPbu(withoutOption(pbu, 'mn-identifier'))), 160)
    assert.equal(statusOf(() => readPbu(withoutOption(pbu, 'timestamp'))), 156)
    assert.equal(statusOf(() => readPbu(withoutOption(pbu, 'serving-maar'))), 128)
    assert.equal(statusOf(() => readPbu({ ...pbu, flags: { ...pbu.flags, P: false } })), 128)
    // A de-registration needs no Serving MAAR option.
    assert.equal(readPbu(withoutOption({ ...pbu, lifetime: 0 }, 'serving-maar')).lifetime, 0)
  })
})
