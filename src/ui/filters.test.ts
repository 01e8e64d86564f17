import { describe, expect, it } from 'vitest'
import { catalogItems, checkCustomFilter, choices, customItem, move } from './filters.js'
import { explain } from './errors.js'

describe('the Edit screen filter list', () => {
  it('lists the image filters by title, none picked', () => {
    const items = catalogItems()
    expect(items.map(f => f.title)).toContain('Grayscale')
    expect(items.every(f => !f.checked)).toBe(true)
    expect(items.some(f => f.name === 'wordcount')).toBe(false)
  })

  it('orders the picked filters and carries their parameters', () => {
    let items = catalogItems().map(f => f.name === 'grayscale' || f.name === 'pixelate' ? { ...f, checked: true } : f)
    expect(choices(items).map(c => c.name)).toEqual(['grayscale', 'pixelate'])
    items = move(move(items, 'pixelate', -1), 'pixelate', -1)
    expect(choices(items)).toEqual([{ name: 'pixelate', values: { block: 8 } }, { name: 'grayscale' }])
    expect(move(items, 'pixelate', -1)).toEqual(items)
  })

  it('a .wasm that is not a Fedra filter is refused with the reason', () => {
    let err: unknown
    try { checkCustomFilter(new TextEncoder().encode('not wasm')) } catch (e) { err = e }
    expect(err).toMatchObject({ name: 'InvalidModuleError' })
    expect(explain(err).title).toBe('This filter cannot be used')
  })

  it('a custom filter is named by its CID', () => {
    const item = customItem('my-sepia.wasm', 'bafy123', { abi: 1, size: 120, entries: ['sepia'], memory: { initialPages: 1, maximumPages: null }, imports: [], hasStart: false })
    expect(item).toMatchObject({ name: 'fedra://bafy123', title: 'my-sepia', checked: true })
  })
})
