/**
 * timeoutSignal (util.ts), the bound of each record GET and of a served request's frames: it
 * aborts with the TimeoutError AbortSignal.timeout gives, follows an outer signal, and once
 * cleared never fires (its timer and its listener on the outer signal are gone).
 */
import assert from 'node:assert/strict'
import { timeoutSignal } from '../src/util.js'

const aborted = async (signal: AbortSignal): Promise<unknown> => await new Promise(resolve => { signal.addEventListener('abort', () => { resolve(signal.reason) }, { once: true }) })

describe('timeoutSignal: a clearable request bound', () => {
  it('aborts with a TimeoutError once its time is up', async () => {
    const { signal } = timeoutSignal(5)
    const reason = await aborted(signal)
    assert.ok(reason instanceof DOMException)
    assert.equal(reason.name, 'TimeoutError')
  })

  it('aborts with the outer signal\'s reason, also when the outer signal was aborted before', async () => {
    const outer = new AbortController()
    const bound = timeoutSignal(60_000, outer.signal)
    outer.abort(new Error('caller gave up'))
    assert.equal(bound.signal.aborted, true)
    assert.equal((bound.signal.reason as Error).message, 'caller gave up')
    bound.clear()
    const late = timeoutSignal(60_000, outer.signal)
    assert.equal((late.signal.reason as Error).message, 'caller gave up')
    late.clear()
  })

  it('once cleared, neither its time nor the outer signal aborts it', async () => {
    const outer = new AbortController()
    const bound = timeoutSignal(5, outer.signal)
    bound.clear()
    await new Promise(resolve => setTimeout(resolve, 30))
    outer.abort(new Error('after the request'))
    assert.equal(bound.signal.aborted, false)
  })
})
