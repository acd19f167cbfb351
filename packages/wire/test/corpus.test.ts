import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WireError, decodeMobilityMessage, encodeMobilityMessage } from '../src/index.js'
import { hex } from './fixtures.js'

// Compiled to dist/test/; the corpus stays in the source tree.
const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'corpus')

interface Entry { note: string, hex: string, expect: 'ok' | { code: string, offset: number } }

describe('wire: decoder corpus', () => {
  const files = readdirSync(CORPUS).filter(f => f.endsWith('.json')).sort()
  it('has entries', () => { assert.ok(files.length > 0) })
  for (const file of files) {
    const entry = JSON.parse(readFileSync(join(CORPUS, file), 'utf8')) as Entry
    it(`${file}: ${entry.note}`, () => {
      const bytes = hex(entry.hex)
      if (entry.expect === 'ok') {
        const m = decodeMobilityMessage(bytes)
        assert.deepEqual(decodeMobilityMessage(encodeMobilityMessage(m)), m)
        return
      }
      const { code, offset } = entry.expect
      assert.throws(() => decodeMobilityMessage(bytes), (err: unknown) => err instanceof WireError && err.code === code && err.offset === offset)
    })
  }
})
