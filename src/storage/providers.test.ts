import { describe, expect, it } from 'vitest'
import { BlockSplit, MAX_DIRECT_PROVIDERS, chooseProviders } from './providers.js'
import type { ProviderView } from './providers.js'

const view = (connected: string[], verified: string[], self = 'me'): ProviderView => ({
  self,
  isConnected: id => connected.includes(id),
  isVerified: id => verified.includes(id)
})

describe('chooseProviders', () => {
  it('no hints: nobody to ask directly (bitswap only)', () => {
    expect(chooseProviders(undefined, view(['a'], ['a']))).toEqual([])
    expect(chooseProviders([], view(['a'], ['a']))).toEqual([])
  })

  it('keeps the hint order among verified, connected peers', () => {
    expect(chooseProviders(['b', 'a'], view(['a', 'b'], ['a', 'b']))).toEqual(['b', 'a'])
  })

  it('puts verified peers before unverified ones', () => {
    expect(chooseProviders(['u', 'v'], view(['u', 'v'], ['v']))).toEqual(['v', 'u'])
  })

  it('leaves out peers not connected, itself, duplicates and malformed ids', () => {
    expect(chooseProviders(['gone', 'me', 'a', 'a', '', 'x'.repeat(129)], view(['a', 'me', '', 'x'.repeat(129)], ['a', 'me']))).toEqual(['a'])
  })

  it('asks at most max peers', () => {
    const ids = ['a', 'b', 'c', 'd', 'e']
    expect(chooseProviders(ids, view(ids, ids))).toHaveLength(MAX_DIRECT_PROVIDERS)
    expect(chooseProviders(ids, view(ids, ids), 1)).toEqual(['a'])
    expect(chooseProviders(ids, view(ids, ids), 0)).toEqual([])
  })
})

describe('BlockSplit', () => {
  const leaves = (n: number): string[] => Array.from({ length: n }, (_, i) => `leaf${i}`)

  it('one provider takes everything, a window at a time', () => {
    const split = new BlockSplit(['a'], 3)
    split.add(leaves(5))
    expect(split.take('a')).toEqual(['leaf0', 'leaf1', 'leaf2'])
    expect(split.take('a')).toEqual([])
    split.done('a', 'leaf0')
    expect(split.take('a')).toEqual(['leaf3'])
    for (const c of ['leaf1', 'leaf2', 'leaf3']) split.done('a', c)
    expect(split.take('a')).toEqual(['leaf4'])
    split.done('a', 'leaf4')
    expect(split.settled).toBe(true)
  })

  it('the root goes to the first provider to ask; its leaves are shared evenly', () => {
    const split = new BlockSplit(['a', 'b'], 8)
    split.add(['root'])
    expect(split.take('a')).toEqual(['root'])
    expect(split.take('b')).toEqual([])
    split.done('a', 'root')
    split.add(leaves(5))
    const a = split.take('a')
    const b = split.take('b')
    expect([a.length, b.length]).toEqual([3, 2])
    // each block to one provider only, in DAG order
    expect([...a, ...b]).toEqual(leaves(5))
    expect(split.waiting).toBe(0)
  })

  it('a faster provider takes more: a freed slot takes from what is left', () => {
    const split = new BlockSplit(['fast', 'slow'], 2)
    split.add(leaves(8))
    const taken = { fast: split.take('fast'), slow: split.take('slow') }
    expect(taken).toEqual({ fast: ['leaf0', 'leaf1'], slow: ['leaf2', 'leaf3'] })
    // fast delivers twice before slow delivers anything
    for (let round = 0; round < 2; round++) {
      for (const c of taken.fast.slice(-2)) split.done('fast', c)
      taken.fast.push(...split.take('fast'))
    }
    expect(taken.fast).toEqual(['leaf0', 'leaf1', 'leaf4', 'leaf5', 'leaf6', 'leaf7'])
    expect(split.waiting).toBe(0)
    expect(split.take('slow')).toEqual([])
    expect(split.pending('slow')).toBe(2)
  })

  it('a failed provider hands its blocks back, first in line, and takes no more', () => {
    const split = new BlockSplit(['a', 'b'], 4)
    split.add(leaves(6))
    const a = split.take('a')
    const b = split.take('b')
    expect(a).toEqual(['leaf0', 'leaf1', 'leaf2'])
    expect(b).toEqual(['leaf3', 'leaf4', 'leaf5'])
    split.done('a', 'leaf0')
    expect(split.fail('a')).toEqual(['leaf1', 'leaf2'])
    expect(split.active).toBe(1)
    expect(split.take('a')).toEqual([])
    // b has 3 asked and a window of 4: one more now, the rest as it delivers
    expect(split.take('b')).toEqual(['leaf1'])
    for (const c of [...b, 'leaf1']) split.done('b', c)
    expect(split.take('b')).toEqual(['leaf2'])
    split.done('b', 'leaf2')
    expect(split.settled).toBe(true)
  })

  it('is settled only when nothing waits and nothing is asked for', () => {
    const split = new BlockSplit(['a'], 1)
    expect(split.settled).toBe(true)
    split.add(['x'])
    expect(split.settled).toBe(false)
    split.take('a')
    expect(split.settled).toBe(false)
    split.done('a', 'x')
    expect(split.settled).toBe(true)
  })

  it('refuses a window below 1', () => {
    expect(() => new BlockSplit(['a'], 0)).toThrow(RangeError)
  })
})
