import { describe, expect, it } from 'vitest'
import { chooseSplits, splitShare, spreadItems } from './split.js'

describe('splitting a running task', () => {
  it('gives the helper the items that make both end together, in whole items', () => {
    // 10 s left on the worker, 32 items; the helper starts in 1 s and runs all 32 in 10 s
    const p = splitShare({ taskId: 't', itemsLeft: 32, remainingMs: 10_000 }, { workerId: 'h', startMs: 1000, allMs: 10_000 })
    expect(p).toBeDefined()
    // s = (10 - 1) / (10 + 10) = 0.45 → 14 items
    expect(p?.items).toBe(14)
    expect(p?.endMs).toBeCloseTo(Math.max(10_000 * 18 / 32, 1000 + 10_000 * 14 / 32))
    expect(p?.gainMs).toBeGreaterThan(4000)
  })

  it('leaves a task alone when no whole item moves, the helper starts too late, or the gain is small', () => {
    expect(splitShare({ taskId: 't', itemsLeft: 1, remainingMs: 10_000 }, { workerId: 'h', startMs: 0, allMs: 1 })).toBeUndefined()
    expect(splitShare({ taskId: 't', itemsLeft: 32, remainingMs: 1000 }, { workerId: 'h', startMs: 1500, allMs: 100 })).toBeUndefined()
    expect(splitShare({ taskId: 't', itemsLeft: 2, remainingMs: 1000 }, { workerId: 'h', startMs: 900, allMs: 1000 })).toBeUndefined()
    expect(splitShare({ taskId: 't', itemsLeft: 32, remainingMs: 1000 }, { workerId: 'h', startMs: 100, allMs: 1000 }, 600)).toBeUndefined()
  })

  it('keeps at least the item the worker is on', () => {
    // an infinitely fast helper would take everything; the worker keeps one
    const p = splitShare({ taskId: 't', itemsLeft: 8, remainingMs: 8000 }, { workerId: 'h', startMs: 0, allMs: 0 })
    expect(p?.items).toBe(7)
  })

  it('splits the tasks expected to end last first, one helper each, within the round limit', () => {
    const cands = [
      { taskId: 'a', itemsLeft: 16, remainingMs: 2000 },
      { taskId: 'b', itemsLeft: 16, remainingMs: 9000 },
      { taskId: 'c', itemsLeft: 16, remainingMs: 5000 },
      { taskId: 'd', itemsLeft: 1, remainingMs: 20_000 }
    ]
    const helpers = ['h1', 'h2']
    const launched: string[] = []
    const plans = chooseSplits(cands, () => {
      const h = helpers.shift()
      return h == null ? undefined : { workerId: h, startMs: 100, allMs: 4000 }
    }, { minGainMs: 200 }, p => launched.push(`${p.taskId}→${p.workerId}`))
    expect(plans.map(p => p.taskId)).toEqual(['b', 'c'])
    expect(launched).toEqual(['b→h1', 'c→h2'])
    expect(chooseSplits(cands, () => ({ workerId: 'h', startMs: 0, allMs: 1000 }), { maxPerRound: 1 })).toHaveLength(1)
    expect(chooseSplits(cands, () => ({ workerId: 'h', startMs: 0, allMs: 1000 }), { minRemainingMs: 4000 }).map(p => p.taskId)).toEqual(['b', 'c'])
  })
})

describe('spreading a waiting task over idle workers', () => {
  it('gives each worker the items that make the last end soonest', () => {
    // a worker that starts at once at 100 ms an item, two helpers 150 ms
    // away, one of them twice as slow: 10 items all done by 550 ms (one
    // worker alone: 1000 ms)
    const plan = spreadItems(10, [
      { workerId: 'w', startMs: 0, itemMs: 100 },
      { workerId: 'a', startMs: 150, itemMs: 100 },
      { workerId: 'b', startMs: 150, itemMs: 200 }
    ])
    expect(plan.items).toEqual([5, 4, 1])
    expect(plan.items.reduce((a, b) => a + b, 0)).toBe(10)
    expect(plan.endMs).toBe(550)
  })

  it('leaves out a helper too far away to end an item before the others are done', () => {
    const plan = spreadItems(4, [
      { workerId: 'w', startMs: 0, itemMs: 100 },
      { workerId: 'far', startMs: 1000, itemMs: 10 }
    ])
    expect(plan.items).toEqual([4, 0])
    expect(plan.endMs).toBe(400)
  })

  it('puts every item on one worker when it is the only one, and none on a worker that cannot take any', () => {
    expect(spreadItems(3, [{ workerId: 'w', startMs: 20, itemMs: 10 }])).toEqual({ items: [3], endMs: 50 })
    expect(spreadItems(2, [{ workerId: 'w', startMs: 0, itemMs: 10 }, { workerId: 'x', startMs: Infinity, itemMs: 10 }]).items).toEqual([2, 0])
  })
})
