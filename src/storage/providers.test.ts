import { describe, expect, it } from 'vitest'
import { MAX_DIRECT_PROVIDERS, chooseProviders } from './providers.js'
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
