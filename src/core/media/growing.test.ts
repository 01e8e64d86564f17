import { describe, expect, it } from 'vitest'
import { GrowingList } from './growing.js'

async function collect<T> (it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

/** Lets pending promise callbacks run. */
const tick = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 0)) }

describe('GrowingList', () => {
  it('hands each piece to a waiting reader as it is pushed, and ends when closed', async () => {
    const list = new GrowingList<number>()
    const seen: number[] = []
    const reading = (async () => { for await (const x of list.read()) seen.push(x) })()
    await tick()
    expect(seen).toEqual([])
    list.push(1)
    await tick()
    expect(seen).toEqual([1])
    list.push(2)
    list.push(3)
    await tick()
    expect(seen).toEqual([1, 2, 3])
    list.close()
    await reading
    expect(list.ended).toBe(true)
  })

  it('gives a late reader everything from its start index, and several readers the same pieces', async () => {
    const list = new GrowingList<string>()
    list.push('a')
    list.push('b')
    const early = collect(list.read())
    list.push('c')
    const fromOne = collect(list.read(1))
    list.close()
    expect(await early).toEqual(['a', 'b', 'c'])
    expect(await fromOne).toEqual(['b', 'c'])
    expect(await collect(list.read())).toEqual(['a', 'b', 'c'])
    expect(list.snapshot()).toEqual(['a', 'b', 'c'])
  })

  it('throws the failure after the pieces that came before it', async () => {
    const list = new GrowingList<number>()
    list.push(1)
    const seen: number[] = []
    const reading = (async () => { for await (const x of list.read()) seen.push(x) })()
    list.fail(new RangeError('camera gone'))
    await expect(reading).rejects.toThrow(RangeError)
    expect(seen).toEqual([1])
    expect(() => { list.push(2) }).toThrow(/after close/)
  })

  it('stops waiting when the signal aborts', async () => {
    const list = new GrowingList<number>()
    const ac = new AbortController()
    const reading = collect(list.read(0, { signal: ac.signal }))
    await tick()
    ac.abort(new Error('cancelled'))
    await expect(reading).rejects.toThrow('cancelled')
    // the aborted reader left no waiter behind: a push still reaches a new one
    const next = collect(list.read())
    list.push(7)
    list.close()
    expect(await next).toEqual([7])
  })
})
