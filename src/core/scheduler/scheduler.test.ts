import { describe, expect, it } from 'vitest'
import { satisfies } from '../requirements/requirement.js'
import { ectScheduler } from './ect-scheduler.js'
import { TaskTimeEstimator } from './estimates.js'
import { leastLoaded } from './least-loaded.js'
import { POLICY } from './policy-config.js'
import { localOnly } from './local-only.js'
import { admit } from './resource.js'
import type { Capabilities } from '../requirements/capabilities.js'
import type { CapabilityFlag, Requirement } from '../requirements/requirement.js'
import type { Candidate } from './resource.js'
import type { Offer, PendingTask, Placement } from './types.js'
import { prng, testCaps } from '../test-support.js'

const caps = testCaps

const offer = (workerId: string, over: Partial<Offer> = {}): Offer => ({
  workerId, caps: caps(), inFlight: 0, reportedLoad: 0, cached: new Set(), self: false, ...over
})

const WASM: Requirement = { runtime: 'wasm', memoryPages: 16 }
const tasks = (n: number, requirement: Requirement = WASM, functionCid = 'fn'): PendingTask[] =>
  Array.from({ length: n }, (_, i) => ({ id: `t${i}`, functionCid, requirement, inputCids: [] }))

const countBy = (ps: Placement[]): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const p of ps) out[p.workerId] = (out[p.workerId] ?? 0) + 1
  return out
}

describe('leastLoaded', () => {
  it('is named and places nothing without offers or tasks', () => {
    const s = leastLoaded()
    expect(s.name).toBe('least-loaded')
    expect(s.place(tasks(3), [])).toEqual([])
    expect(s.place([], [offer('a')])).toEqual([])
  })

  it('spreads tasks over equal workers, in proportion to their slots', () => {
    const s = leastLoaded({ depthPerSlot: 10 })
    expect(countBy(s.place(tasks(6), [offer('a'), offer('b'), offer('c')]))).toEqual({ a: 2, b: 2, c: 2 })
    expect(countBy(s.place(tasks(8), [offer('a', { caps: caps({ slots: 3 }) }), offer('b')]))).toEqual({ a: 6, b: 2 })
  })

  it('respects depth per slot, counting what is already in flight', () => {
    expect(leastLoaded({ depthPerSlot: 1 }).place(tasks(5), [offer('a', { caps: caps({ slots: 2 }) })])).toHaveLength(2)
    expect(leastLoaded().place(tasks(10), [offer('a', { caps: caps({ slots: 2 }) })])).toHaveLength(4) // default depth 2
    expect(leastLoaded().place(tasks(10), [offer('a', { caps: caps({ slots: 2 }), inFlight: 3 })])).toHaveLength(1)
    expect(leastLoaded().place(tasks(10), [offer('a', { inFlight: 2 })])).toEqual([])
  })

  it('prefers the less loaded worker', () => {
    expect(leastLoaded().place(tasks(1), [offer('a', { inFlight: 1 }), offer('b')])).toEqual([{ taskId: 't0', workerId: 'b' }])
  })

  it('prefers a worker that caches the function on a tie, else the lower id', () => {
    const s = leastLoaded()
    expect(s.place(tasks(1), [offer('a'), offer('b', { cached: new Set(['fn']) })])).toEqual([{ taskId: 't0', workerId: 'b' }])
    expect(s.place(tasks(1), [offer('b'), offer('a')])).toEqual([{ taskId: 't0', workerId: 'a' }])
    // input cache is a smaller preference, below the function cache
    const withInput: PendingTask[] = [{ id: 't', functionCid: 'fn', requirement: WASM, inputCids: ['in'] }]
    expect(s.place(withInput, [offer('a'), offer('b', { cached: new Set(['in']) })])).toEqual([{ taskId: 't', workerId: 'b' }])
    expect(s.place(withInput, [offer('a', { cached: new Set(['fn']) }), offer('b', { cached: new Set(['in']) })])).toEqual([{ taskId: 't', workerId: 'a' }])
  })

  it('a warm function outweighs a small load difference but not a large one', () => {
    const s = leastLoaded({ depthPerSlot: 100 })
    const warm = new Set(['fn'])
    // 0.2 in flight per slot + warm (0) beats idle + cold (0.25)
    expect(s.place(tasks(1), [offer('a'), offer('w', { caps: caps({ slots: 5 }), inFlight: 1, cached: warm })])[0].workerId).toBe('w')
    expect(s.place(tasks(1), [offer('a'), offer('w', { inFlight: 1, cached: warm })])[0].workerId).toBe('a')
  })

  it('never places a task on a worker that fails its requirement', () => {
    const s = leastLoaded()
    const onnx: Requirement = { runtime: 'onnx', memoryPages: 16 }
    expect(s.place(tasks(3, onnx), [offer('a'), offer('b')])).toEqual([])
    expect(countBy(s.place(tasks(3, onnx), [offer('a'), offer('b', { caps: caps({ runtimes: ['wasm', 'onnx'], slots: 4 }) })]))).toEqual({ b: 3 })
  })

  it('is pure: same inputs, same placements', () => {
    const s = leastLoaded()
    const offers = [offer('a'), offer('b', { cached: new Set(['fn']) }), offer('c', { inFlight: 1 })]
    expect(s.place(tasks(5), offers)).toEqual(s.place(tasks(5), offers))
    expect(offers[2].inFlight).toBe(1)
  })
})

describe('localOnly', () => {
  it('places only on the submitting peer, up to two per slot', () => {
    const s = localOnly()
    expect(s.name).toBe('local-only')
    const offers = [offer('other', { caps: caps({ slots: 8 }) }), offer('me', { self: true, caps: caps({ slots: 2 }) })]
    const ps = s.place(tasks(10), offers)
    expect(ps).toHaveLength(4)
    expect(new Set(ps.map(p => p.workerId))).toEqual(new Set(['me']))
    expect(ps.map(p => p.taskId)).toEqual(['t0', 't1', 't2', 't3'])
    expect(s.place(tasks(10), [offer('me', { self: true, inFlight: 1 })])).toHaveLength(1)
    expect(s.place(tasks(10), [offer('me', { self: true, inFlight: 5 })])).toEqual([])
  })

  it('places nothing without a self offer, or what self cannot run', () => {
    const s = localOnly()
    expect(s.place(tasks(3), [offer('other')])).toEqual([])
    expect(s.place(tasks(3, { runtime: 'onnx', memoryPages: 1 }), [offer('me', { self: true }), offer('x', { caps: caps({ runtimes: ['onnx'] }) })])).toEqual([])
    const mixed: PendingTask[] = [...tasks(1, { runtime: 'onnx', memoryPages: 1 }), { id: 'w', functionCid: 'f', requirement: WASM, inputCids: [] }]
    expect(s.place(mixed, [offer('me', { self: true })])).toEqual([{ taskId: 'w', workerId: 'me' }])
  })
})

describe('placement property (fixed seed)', () => {
  const flags: CapabilityFlag[] = ['wasmSimd', 'wasmThreads', 'webgpu', 'videoDecode', 'videoEncode']
  const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]

  function randomCaps (rand: () => number): Capabilities {
    return caps({
      kind: pick(rand, ['browser', 'node', 'mcu'] as const),
      maxMemoryPages: pick(rand, [1, 16, 256, 4096, 65536]),
      slots: 1 + Math.floor(rand() * 4),
      wasmSimd: rand() < 0.5,
      wasmThreads: rand() < 0.5,
      webgpu: rand() < 0.3,
      videoDecode: rand() < 0.5 ? ['avc1'] : [],
      videoEncode: rand() < 0.3 ? ['vp8'] : [],
      runtimes: pick(rand, [['wasm'], ['onnx'], ['wasm', 'onnx'], []] as const).slice()
    })
  }

  function randomRequirement (rand: () => number): Requirement {
    const req: Requirement = { runtime: rand() < 0.7 ? 'wasm' : 'onnx', memoryPages: pick(rand, [1, 16, 300, 5000]) }
    if (rand() < 0.5) req.capabilities = flags.filter(() => rand() < 0.25)
    if (rand() < 0.3) req.kinds = (['browser', 'node', 'mcu'] as const).filter(() => rand() < 0.6)
    return req
  }

  // every scheduler shipped, the default (ectScheduler) included: each
  // with the most tasks it may hold per worker (`depthOf`)
  it('placements satisfy requirements and capacity, and no task is placed twice', () => {
    const rand = prng(2024)
    const placedBy: Record<string, number> = {}
    for (let round = 0; round < 300; round++) {
      const offers = Array.from({ length: Math.floor(rand() * 8) }, (_, i) => offer(`w${i}`, {
        caps: randomCaps(rand),
        inFlight: Math.floor(rand() * 3),
        cached: new Set(rand() < 0.5 ? ['f0'] : []),
        self: i === 0
      }))
      const pending: PendingTask[] = Array.from({ length: Math.floor(rand() * 20) }, (_, i) => ({
        id: `t${i}`, functionCid: `f${Math.floor(rand() * 2)}`, requirement: randomRequirement(rand), inputCids: []
      }))
      const depth = 1 + Math.floor(rand() * 3)
      // half the workers measured (no draw from rand: the rooms stay those of the other schedulers);
      // ECT holds a measured worker at depthPerSlot, one never measured at probationDepth (no link
      // is measured here, so no deeper queues)
      const estimator = new TaskTimeEstimator()
      offers.forEach((o, i) => { if ((round + i) % 2 === 0) for (const f of ['f0', 'f1']) estimator.observe(o.workerId, o.caps, f, 100 + 10 * i) })
      const schedulers = [
        { s: leastLoaded({ depthPerSlot: depth }), depthOf: () => depth },
        { s: localOnly(), depthOf: () => 2 },
        { s: ectScheduler({ estimator }), depthOf: (w: string) => estimator.measured(w) ? POLICY.depthPerSlot : POLICY.probationDepth }
      ]
      for (const { s, depthOf } of schedulers) {
        const ps = s.place(pending, offers)
        placedBy[s.name] = (placedBy[s.name] ?? 0) + ps.length
        expect(new Set(ps.map(p => p.taskId)).size).toBe(ps.length)
        const byTask = new Map(pending.map(t => [t.id, t]))
        const byWorker = new Map(offers.map(o => [o.workerId, o]))
        for (const p of ps) {
          const o = byWorker.get(p.workerId)
          const t = byTask.get(p.taskId)
          expect(o).toBeDefined()
          expect(t).toBeDefined()
          expect(satisfies((o as Offer).caps, (t as PendingTask).requirement)).toBe(true)
          if (s.name === 'local-only') expect((o as Offer).self).toBe(true)
        }
        for (const [w, n] of Object.entries(countBy(ps))) {
          const o = byWorker.get(w) as Offer
          expect(o.inFlight + n).toBeLessThanOrEqual(Math.max(o.inFlight, o.caps.slots * depthOf(w)))
        }
        // work-conserving: a task left out has no fitting worker with room to spare
        if (s.name === 'least-loaded') {
          const load = new Map(offers.map(o => [o.workerId, o.inFlight + (countBy(ps)[o.workerId] ?? 0)]))
          const placedIds = new Set(ps.map(p => p.taskId))
          for (const t of pending) {
            if (placedIds.has(t.id)) continue
            for (const o of offers) {
              if (satisfies(o.caps, t.requirement)) expect(load.get(o.workerId)).toBeGreaterThanOrEqual(o.caps.slots * depth)
            }
          }
        }
      }
    }
    for (const name of ['least-loaded', 'local-only', 'ect']) expect(placedBy[name]).toBeGreaterThan(100)
  })
})

describe('admit', () => {
  const cand = (workerId: string, over: Partial<Candidate> = {}): Candidate => ({
    workerId, caps: caps(), consent: true, verified: true, self: false, ...over
  })

  it('admits with the workers that fit any requirement', () => {
    const a = admit([WASM, { runtime: 'onnx', memoryPages: 1 }], [
      cand('w'), cand('o', { caps: caps({ runtimes: ['onnx'] }) }), cand('both', { caps: caps({ runtimes: ['wasm', 'onnx'] }) })
    ])
    expect(a.admitted).toBe(true)
    if (a.admitted) expect(new Set(a.workers)).toEqual(new Set(['w', 'o', 'both']))
  })

  it('counts only consenting, verified peers (or self) as volunteers', () => {
    const a = admit([WASM], [cand('x', { consent: false }), cand('y', { verified: false }), cand('me', { self: true, verified: false })])
    expect(a).toEqual({ admitted: true, workers: ['me'] })
    expect(admit([WASM], [cand('x', { consent: false }), cand('y', { verified: false })]))
      .toEqual({ admitted: false, reason: 'no volunteer is in the room yet' })
    expect(admit([WASM], [])).toMatchObject({ admitted: false, reason: 'no volunteer is in the room yet' })
  })

  it('names the missing thing and the number of volunteers', () => {
    const three = [cand('a'), cand('b'), cand('c')]
    const r = admit([{ runtime: 'onnx', memoryPages: 1 }], three)
    expect(r).toEqual({ admitted: false, reason: 'needs the onnx runtime; none of the 3 volunteers offers it' })
    const one = admit([{ runtime: 'onnx', memoryPages: 8192 }], [cand('a', { caps: caps({ maxMemoryPages: 16 }) })])
    expect(one.admitted).toBe(false)
    if (!one.admitted) {
      expect(one.reason).toContain('the onnx runtime')
      expect(one.reason).toContain('512 MiB of function memory')
      expect(one.reason).toContain('the only volunteer does not offer it')
    }
  })

  it('orders the missing things by how many volunteers lack them', () => {
    const r = admit([{ runtime: 'wasm', memoryPages: 1, capabilities: ['webgpu', 'wasmSimd'] }], [
      cand('a', { caps: caps({ wasmSimd: true }) }), cand('b', { caps: caps({ wasmSimd: true }) }), cand('c')
    ])
    expect(r).toEqual({ admitted: false, reason: 'needs WebGPU and WASM SIMD; none of the 3 volunteers offers it' })
  })

  it('refuses when any one requirement cannot be met', () => {
    const r = admit([WASM, { runtime: 'wasm', memoryPages: 1, kinds: ['node'] }], [cand('a'), cand('b')])
    expect(r).toEqual({ admitted: false, reason: 'needs a node peer; none of the 2 volunteers offers it' })
  })
})
