import { describe, expect, it } from 'vitest'
import { prng } from '../test-support.js'
import { UnitPlanner, planUnits } from './plan.js'
import type { PacketMeta, UnitPlan, UnitPlannerOptions } from './plan.js'

const SECOND = 1_000_000

/**
 * Closed GOPs of the given frame counts, in decode order, as an encoder
 * writes them: `bframes` B-frames between reference frames, each reference
 * sent `depth` references ahead of the B-frames it precedes (1: the usual
 * I0 P3 B1 B2 P6 B4 B5).
 */
function stream (gops: number[], frameUs: number, bframes = 0, depth = 1): PacketMeta[] {
  const out: PacketMeta[] = []
  let base = 0
  for (const g of gops) {
    const order: number[] = [0]
    const refs: number[] = []
    for (let r = bframes + 1; ; r += bframes + 1) {
      refs.push(Math.min(r, g - 1))
      if (r >= g - 1) break
    }
    const sent = new Set([0])
    const send = (f: number): void => { if (f < g && !sent.has(f)) { sent.add(f); order.push(f) } }
    for (let k = 0; k < refs.length; k++) {
      for (let a = k; a < Math.min(refs.length, k + depth); a++) send(refs[a])
      const lo = k === 0 ? 1 : refs[k - 1] + 1
      for (let f = lo; f < refs[k]; f++) send(f)
    }
    for (const f of order) out.push({ key: f === 0, timestamp: (base + f) * frameUs, duration: frameUs })
    base += g
  }
  return out
}

/** Output duration of a unit, µs. */
function unitUs (packets: PacketMeta[], u: UnitPlan): number {
  let d = 0
  for (let i = u.from; i < u.to; i++) d += packets[i].duration
  return d
}

/**
 * The planner's promises: units in order, every packet from the first key
 * frame output exactly once, each unit decodable from its key frame, and
 * units concatenating in presentation order with no gap.
 */
function expectValidPlan (packets: PacketMeta[], plans: UnitPlan[]): void {
  const firstKey = packets.findIndex(p => p.key)
  let next = firstKey
  let lastPts = -Infinity
  const presented: number[] = []
  plans.forEach((u, k) => {
    expect(u.index).toBe(k)
    expect(u.from).toBe(next)
    expect(u.to).toBeGreaterThan(u.from)
    expect(packets[u.first].key).toBe(true)
    expect(u.first).toBeLessThanOrEqual(u.from)
    // priming packets lie inside one GOP: no key frame between first and from
    expect(packets.slice(u.first + 1, u.from + 1).some(p => p.key) && u.first < u.from).toBe(false)
    const pts = packets.slice(u.from, u.to).map(p => p.timestamp).sort((a, b) => a - b)
    expect(pts[0]).toBeGreaterThan(lastPts)
    lastPts = pts[pts.length - 1]
    presented.push(...pts)
    next = u.to
  })
  expect(next).toBe(packets.length)
  const all = packets.slice(firstKey).map(p => p.timestamp).sort((a, b) => a - b)
  expect(presented).toEqual(all)
}

/** Runs the planner packet by packet and records after which push each unit came out. */
function streamed (packets: PacketMeta[], opts?: UnitPlannerOptions): { plans: UnitPlan[], at: number[] } {
  const planner = new UnitPlanner(opts)
  const plans: UnitPlan[] = []
  const at: number[] = []
  packets.forEach((p, i) => {
    for (const u of planner.push(p)) { plans.push(u); at.push(i) }
  })
  for (const u of planner.end()) { plans.push(u); at.push(packets.length) }
  return { plans, at }
}

describe('UnitPlanner: regular GOPs', () => {
  it('makes one unit per 1 s GOP, each emitted at the next key frame', () => {
    const packets = stream([30, 30, 30, 30], SECOND / 30)
    const { plans, at } = streamed(packets)
    expectValidPlan(packets, plans)
    expect(plans.map(u => [u.first, u.from, u.to])).toEqual([[0, 0, 30], [30, 30, 60], [60, 60, 90], [90, 90, 120]])
    expect(at).toEqual([30, 60, 90, 120])
  })

  it('groups short GOPs until a unit reaches the target', () => {
    const packets = stream(Array(10).fill(10), SECOND / 30) // 1/3 s GOPs
    const plans = planUnits(packets)
    expectValidPlan(packets, plans)
    expect(plans.map(u => [u.from, u.to])).toEqual([[0, 30], [30, 60], [60, 90], [90, 100]])
    expect(plans.every(u => u.first === u.from)).toBe(true)
  })

  it('keeps 2 s GOPs whole (not longer than maxUs)', () => {
    const packets = stream([20, 20, 20], SECOND / 10)
    const plans = planUnits(packets)
    expectValidPlan(packets, plans)
    expect(plans.map(u => [u.first, u.from, u.to])).toEqual([[0, 0, 20], [20, 20, 40], [40, 40, 60]])
  })

  it('honours a smaller target', () => {
    const packets = stream(Array(8).fill(5), SECOND / 25)
    const plans = planUnits(packets, { targetUs: 400_000 })
    expectValidPlan(packets, plans)
    expect(plans.map(u => u.to - u.from)).toEqual([10, 10, 10, 10])
  })
})

describe('UnitPlanner: long GOPs are split', () => {
  it('splits 3 s GOPs into 1 s pieces decoded from the key frame', () => {
    const packets = stream([30, 30], SECOND / 10)
    const { plans, at } = streamed(packets)
    expectValidPlan(packets, plans)
    expect(plans.map(u => [u.first, u.from, u.to])).toEqual([
      [0, 0, 10], [0, 10, 20], [0, 20, 30], [30, 30, 40], [30, 40, 50], [30, 50, 60]
    ])
    // streaming: the first piece goes out while the GOP is still being read
    expect(at[0]).toBeLessThan(30)
  })

  it('splits a 101-frame GOP with B-frames only where presentation order allows', () => {
    const packets = stream([101], SECOND / 25, 2)
    const { plans, at } = streamed(packets)
    expectValidPlan(packets, plans)
    expect(plans.length).toBe(4)
    plans.forEach((u, k) => {
      expect(u.first).toBe(0)
      // pieces of about the target; the last one takes what is left (4.04 s in all)
      expect(unitUs(packets, u)).toBeGreaterThanOrEqual(k < plans.length - 1 ? SECOND : SECOND / 2)
      expect(unitUs(packets, u)).toBeLessThanOrEqual(1.5 * SECOND + 3 * 40_000)
    })
    expect(at[0]).toBeLessThan(101)
  })

  it('looks ahead far enough to see a frame reordered three packets late', () => {
    // one 4 s GOP at 10 fps, no B-frames but frame 9, sent after frames 10, 11 and 12
    const order = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 9, ...Array.from({ length: 27 }, (_, i) => 13 + i)]
    const packets = order.map(f => ({ key: f === 0, timestamp: f * 100_000, duration: 100_000 }))
    const plans = planUnits(packets)
    expectValidPlan(packets, plans)
    // the first piece cannot end before frame 10: frame 9 comes later and would be presented out of order
    expect(plans[0].to).toBe(13)
    // with a one-packet lookahead the planner cuts where order breaks
    const shallow = planUnits(packets, { lookahead: 1 })
    expect(shallow[0].to).toBe(10)
    expect(() => { expectValidPlan(packets, shallow) }).toThrow()
  })

  it('does not split a GOP that offers no split point (references sent two ahead)', () => {
    const packets = stream([120], SECOND / 30, 2, 2)
    const plans = planUnits(packets)
    expectValidPlan(packets, plans)
    expect(plans.map(u => [u.first, u.from, u.to])).toEqual([[0, 0, 120]])
  })

  it('handles irregular GOPs as phones make them (1, 1, 1, 101, 26, 20 frames)', () => {
    const packets = stream([1, 1, 1, 101, 26, 20], SECOND / 25, 2)
    const { plans } = streamed(packets)
    expectValidPlan(packets, plans)
    // the three 1-frame GOPs start the first piece of the long GOP: no sliver of a unit
    expect(plans[0]).toMatchObject({ first: 0, from: 0 })
    expect(plans[0].to).toBeGreaterThan(3)
    expect(plans[1].first).toBe(3)
    const last = plans.slice(-2)
    expect(last.map(u => [u.first, u.from, u.to])).toEqual([[104, 104, 130], [130, 130, 150]])
    for (const u of plans.slice(0, -1)) expect(unitUs(packets, u)).toBeGreaterThanOrEqual(SECOND)
  })

  it('closes a unit of whole GOPs before a GOP that would take it past maxUs', () => {
    // 0.8 s, then a 1.6 s GOP: 2.4 s together is too long, and 0.8 s is no sliver
    const packets = stream([8, 16, 10], SECOND / 10)
    const plans = planUnits(packets)
    expectValidPlan(packets, plans)
    expect(plans.map(u => [u.first, u.from, u.to])).toEqual([[0, 0, 8], [8, 8, 24], [24, 24, 34]])
  })

  it('runs of 1-frame GOPs (all key frames) group by duration', () => {
    const packets = stream(Array(50).fill(1), SECOND / 20)
    const plans = planUnits(packets)
    expectValidPlan(packets, plans)
    expect(plans.map(u => u.to - u.from)).toEqual([20, 20, 10])
  })
})

describe('UnitPlanner: edges', () => {
  it('drops packets before the first key frame', () => {
    const packets = [
      { key: false, timestamp: 0, duration: 100_000 },
      { key: false, timestamp: 100_000, duration: 100_000 },
      ...stream([12], 100_000).map(p => ({ ...p, timestamp: p.timestamp + 200_000 }))
    ]
    const planner = new UnitPlanner()
    const plans = [...packets.flatMap(p => planner.push(p)), ...planner.end()]
    expect(planner.dropped).toBe(2)
    expectValidPlan(packets, plans)
    expect(plans.map(u => [u.first, u.from, u.to])).toEqual([[2, 2, 14]])
  })

  it('gives nothing for an empty stream or one with no key frame', () => {
    expect(planUnits([])).toEqual([])
    expect(planUnits([{ key: false, timestamp: 0, duration: 1 }])).toEqual([])
  })

  it('emits a short last unit at end()', () => {
    const packets = stream([30, 4], SECOND / 30)
    const plans = planUnits(packets)
    expectValidPlan(packets, plans)
    expect(plans.map(u => [u.from, u.to])).toEqual([[0, 30], [30, 34]])
  })

  it('refuses pushes after end() and bad options', () => {
    const planner = new UnitPlanner()
    planner.end()
    expect(planner.end()).toEqual([])
    expect(() => planner.push({ key: true, timestamp: 0, duration: 1 })).toThrow()
    expect(() => new UnitPlanner({ targetUs: 0 })).toThrow(RangeError)
    expect(() => new UnitPlanner({ targetUs: 2, maxUs: 1 })).toThrow(RangeError)
  })

  it('handles negative start timestamps (an edit list before B-frames)', () => {
    const packets = stream([30, 30, 30], SECOND / 10, 2).map(p => ({ ...p, timestamp: p.timestamp - 200_000 }))
    const plans = planUnits(packets)
    expectValidPlan(packets, plans)
  })
})

describe('UnitPlanner: properties', () => {
  it('keeps its promises on random GOP structures', () => {
    const rnd = prng(28)
    for (let trial = 0; trial < 300; trial++) {
      const gops = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => 1 + Math.floor(rnd() * (rnd() < 0.3 ? 200 : 40)))
      const fps = [10, 24, 25, 30, 60][Math.floor(rnd() * 5)]
      const bframes = Math.floor(rnd() * 4)
      const depth = 1 + Math.floor(rnd() * 2)
      const packets = stream(gops, Math.round(SECOND / fps), bframes, depth)
      const targetUs = [250_000, 500_000, 1_000_000, 2_000_000][Math.floor(rnd() * 4)]
      const { plans } = streamed(packets, { targetUs })
      expectValidPlan(packets, plans)
      const maxUs = 2 * targetUs
      // (with references sent two ahead a GOP has no split point: it stays whole)
      if (depth === 1) for (const u of plans) {
        // a unit never outgrows maxUs by more than its last frames and the lookahead
        expect(unitUs(packets, u)).toBeLessThanOrEqual(maxUs + 20 * Math.round(SECOND / fps))
      }
    }
  })
})
