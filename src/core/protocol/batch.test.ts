import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../errors.js'
import { prng, thrown } from '../test-support.js'
import { MAX_BATCH_ITEMS, decodeBatch, decodeOutputs, encodeBatch, encodeOutputs } from './batch.js'

const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs)

describe('batch layout', () => {
  it('round-trips items and outputs, empty ones included', () => {
    const items = [{ params: bytes(1, 2), data: bytes(3) }, { params: bytes(), data: bytes() }, { params: bytes(9), data: new Uint8Array(1000).fill(7) }]
    expect(decodeBatch(encodeBatch(items))).toEqual(items)
    const outs = [bytes(1), bytes(), bytes(5, 6, 7)]
    expect(decodeOutputs(encodeOutputs(outs), 3)).toEqual(outs)
    expect(decodeOutputs(encodeOutputs([]))).toEqual([])
  })

  it('refuses malformed bytes with a typed error that says what is wrong', () => {
    const good = encodeBatch([{ params: bytes(1), data: bytes(2, 3) }])
    expect(thrown(() => decodeBatch(good.subarray(0, 3)))).toBeInstanceOf(InvalidMessageError)
    expect(thrown(() => decodeBatch(good.subarray(0, good.length - 1))).message).toMatch(/only/)
    expect(thrown(() => decodeBatch(new Uint8Array([...good, 0]))).message).toMatch(/after its 1 items/)
    // a count the bytes cannot hold is refused before any allocation
    const lie = new Uint8Array(8)
    new DataView(lie.buffer).setUint32(0, MAX_BATCH_ITEMS + 1, true)
    expect(thrown(() => decodeBatch(lie)).message).toMatch(/claims/)
    new DataView(lie.buffer).setUint32(0, 2, true)
    expect(thrown(() => decodeBatch(lie)).message).toMatch(/claims 2 items/)
    // a huge length field
    const huge = encodeBatch([{ params: bytes(1), data: bytes(2) }])
    new DataView(huge.buffer).setUint32(4, 0xffffffff, true)
    expect(thrown(() => decodeBatch(huge))).toBeInstanceOf(InvalidMessageError)
    expect(thrown(() => decodeOutputs(encodeOutputs([bytes(1)]), 2)).message).toMatch(/2 expected/)
    expect(() => encodeBatch(Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => ({ params: bytes(), data: bytes() })))).toThrow(InvalidMessageError)
  })

  it('never throws anything but InvalidMessageError on random bytes', () => {
    const rnd = prng(11)
    for (let n = 0; n < 2000; n++) {
      const b = new Uint8Array(Math.floor(rnd() * 40))
      for (let i = 0; i < b.length; i++) b[i] = rnd() < 0.5 ? Math.floor(rnd() * 4) : Math.floor(rnd() * 256)
      for (const decode of [decodeBatch, decodeOutputs]) {
        try { decode(b) } catch (err) { expect(err).toBeInstanceOf(InvalidMessageError) }
      }
    }
  })
})
