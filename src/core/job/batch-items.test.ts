import { describe, expect, it } from 'vitest'
import { decodeOutputs } from '../protocol/batch.js'
import { BatchItems } from './batch-items.js'

const b = (x: number): Uint8Array => new Uint8Array([x])

describe('batch items bookkeeping', () => {
  it('keeps the first output of each item, whoever sent it, and says what is missing', () => {
    const items = new BatchItems()
    items.add('t', 5)
    expect(items.firstMissing('t', { from: 0, to: 5 })).toBe(0)
    items.store('t', 0, [b(0), b(1)], 'w1')
    items.store('t', 1, [b(99), b(2)], 'w2') // item 1 is in already: w1's stays
    expect(items.firstMissing('t', { from: 0, to: 5 })).toBe(3)
    expect(items.firstMissing('t', { from: 1, to: 3 })).toBe(3)
    expect(items.result('t')).toBeUndefined()
    items.store('t', 3, [b(3), b(4), b(5)], 'w3') // past the end: dropped
    const r = items.result('t')
    expect(decodeOutputs(r?.output ?? new Uint8Array(0), 5)).toEqual([b(0), b(1), b(2), b(3), b(4)])
    expect(r?.itemWorkers).toEqual(['w1', 'w1', 'w2', 'w3', 'w3'])
    expect(items.has('t')).toBe(true)
    expect(items.has('other')).toBe(false)
  })

  it('follows each copy: the range it was sent for and how far its worker says it is', () => {
    const items = new BatchItems()
    items.add('t', 8)
    items.sentFor('t@w', { from: 2, to: 8 })
    expect(items.position('t@w')).toBe(2)
    items.reported('t@w', 5, 1000)
    expect(items.position('t@w')).toBe(5)
    expect(items.reportOf('t@w')).toEqual({ done: 5, at: 1000 })
    items.forget('t@w')
    expect(items.position('t@w')).toBeUndefined()
    expect(items.rangeOf('t@w')).toBeUndefined()
  })
})
