import { describe, expect, it } from 'vitest'
import { MAX_SHARED_FILTERS, SharedFilterBook, roomFilters } from './shared-filters.js'

describe('filters shared with the room', () => {
  it('stops announcing a filter no job used for the TTL, and keeps one in use', () => {
    let now = 0
    const book = new SharedFilterBook({ ttlMs: 1000, now: () => now })
    book.add({ cid: 'a', title: 'A', entry: 'run' })
    book.add({ cid: 'b', title: 'B', entry: 'run' })
    now = 800
    book.used('a')
    now = 1500
    expect(book.list().map(f => f.cid)).toEqual(['a'])
    now = 1900
    expect(book.list()).toEqual([])
  })

  it('keeps at most the limit, dropping the least recently used', () => {
    let now = 0
    const book = new SharedFilterBook({ now: () => now })
    for (let i = 0; i <= MAX_SHARED_FILTERS; i++) { now = i; book.add({ cid: `c${i}`, title: `F${i}`, entry: 'run' }) }
    const cids = book.list().map(f => f.cid)
    expect(cids).toHaveLength(MAX_SHARED_FILTERS)
    expect(cids).not.toContain('c0')
  })

  it('lists each CID of the room once, whoever shares it', () => {
    const f = { cid: 'x', title: 'Mine', entry: 'run' }
    expect(roomFilters([[f], undefined, [{ ...f, title: 'Theirs' }, { cid: 'y', title: 'Y', entry: 'go' }]]))
      .toEqual([f, { cid: 'y', title: 'Y', entry: 'go' }])
  })
})
