import { describe, expect, it } from 'vitest'
import { satisfies } from '../requirements/requirement.js'
import { chooseBackups, remainingMs } from './backups.js'
import { EctPlacer } from './ect.js'
import { ectScheduler } from './ect-scheduler.js'
import { TaskTimeEstimator, lateFactor } from './estimates.js'
import { IndexedMinHeap } from './indexed-heap.js'
import { QuorumBook } from './quorum.js'
import { StealIndex } from './steal.js'
import { testCaps } from '../test-support.js'
import type { Requirement } from '../requirements/requirement.js'
import type { Offer, PendingTask } from './types.js'

const caps = testCaps
const WASM: Requirement = { runtime: 'wasm', memoryPages: 16 }
const task = (id: string, over: Partial<PendingTask> = {}): PendingTask => ({ id, functionCid: 'fn', requirement: WASM, inputCids: [], ...over })

/** Two measured workers: 'fast' (1 s a task) with two tasks queued, 'slow' (5 s) free. */
function fastBusySlowFree (p: EctPlacer): EctPlacer {
  p.addWorker({ id: 'fast', caps: caps({ slots: 1 }) })
  p.addWorker({ id: 'slow', caps: caps({ slots: 1 }) })
  p.assigned('fast', task('x')); p.finished('fast', 'fn', 1000)
  p.assigned('slow', task('y')); p.finished('slow', 'fn', 5000)
  p.assigned('fast', task('z')); p.assigned('fast', task('z2'))
  return p
}

describe('IndexedMinHeap', () => {
  it('orders by key then id, and updates and deletes by id', () => {
    const h = new IndexedMinHeap(2)
    h.set(5, 3); h.set(1, 3); h.set(9, 1); h.set(40, 7)
    expect(h.peek()).toBe(9)
    h.set(9, 10)
    expect(h.peek()).toBe(1)
    expect(h.delete(1)).toBe(true)
    expect(h.delete(1)).toBe(false)
    expect([h.pop(), h.pop(), h.pop(), h.pop()]).toEqual([5, 40, 9, -1])
  })

  it('copies its ids out for a sweep', () => {
    const h = new IndexedMinHeap(2)
    h.set(3, 1); h.set(7, 0); h.set(1, 2)
    const out = new Int32Array(5).fill(-9)
    expect(h.copyIds(out, 1)).toBe(4)
    expect([...out.subarray(1, 4)].sort()).toEqual([1, 3, 7])
    expect(out[0]).toBe(-9)
  })
})

describe('TaskTimeEstimator', () => {
  it('starts from the prior and learns a worker slower than its kind says', () => {
    const e = new TaskTimeEstimator()
    const c = caps()
    e.observe('a', c, 'fn', 1000)
    expect(e.taskMs('b', c, 'fn')).toBeCloseTo(1000)
    expect(e.taskMs('m', caps({ kind: 'mcu', cores: 1 }), 'fn')).toBeGreaterThan(50_000)
    for (let i = 0; i < 5; i++) e.observe('slow', c, 'fn', 10_000)
    expect(e.taskMs('slow', c, 'fn')).toBeGreaterThan(5000)
    expect(e.taskMs('a', c, 'fn')).toBeLessThan(2000)
  })

  it('keeps a function\'s work steady while a mix of fast and slow workers reports', () => {
    // phones (2.5× slower than their prior says) and laptops report in
    // turn: the work estimate settles instead of wandering with the mix
    const e = new TaskTimeEstimator()
    const c = caps()
    const seen: number[] = []
    for (let i = 0; i < 400; i++) {
      e.observe(i % 3 === 0 ? `phone${i % 30}` : `laptop${i % 30}`, c, 'fn', i % 3 === 0 ? 7500 : 3000)
      if (i >= 100) seen.push(e.workMs('fn'))
    }
    expect(Math.max(...seen) / Math.min(...seen)).toBeLessThan(1.1)
  })

  it('ranks many alike workers by their speed, not by their luckiest runs', () => {
    // 400 workers of speeds 1.0 to 1.4 (σ 0.1 log-noise per run, 30 runs
    // each, interleaved): the five that look fastest are among the fastest
    // 2 % (a moving mean over the last few runs had picked ones of 1.35)
    let seed = 7
    const uniform = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed + 0.5) / 2147483648 }
    const noise = (): number => Math.exp(0.1 * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()))
    const e = new TaskTimeEstimator()
    const c = caps()
    const speed = Array.from({ length: 400 }, (_, i) => 1 + 0.4 * i / 399)
    for (let run = 0; run < 30; run++) {
      speed.forEach((s, i) => e.observe(`w${i}`, c, 'fn', 1000 / s * noise()))
    }
    const byEstimate = speed.map((_, i) => i).sort((a, b) => e.taskMs(`w${a}`, c, 'fn') - e.taskMs(`w${b}`, c, 'fn'))
    for (const i of byEstimate.slice(0, 5)) expect(speed[i]).toBeGreaterThan(1.375)
  })

  it('follows a worker that really slows down within a few runs', () => {
    // twenty runs of 1 s, then its quota is cut: three runs of 3 s later
    // the estimate is past 1.8 s (a moving mean at 0.1 would still say 1.5 s)
    const e = new TaskTimeEstimator()
    const c = caps()
    for (let i = 0; i < 20; i++) e.observe('w', c, 'fn', 1000 * (i % 2 === 0 ? 0.95 : 1.05))
    for (let i = 0; i < 3; i++) e.observe('w', c, 'fn', 3000)
    expect(e.taskMs('w', c, 'fn')).toBeGreaterThan(1800)
  })

  it('measures a worker alike whichever function it ran', () => {
    // 'fn-a' also runs on workers twice as slow as their prior says, 'fn-b'
    // only on workers as fast as it: both functions are alike, and two new
    // workers that run one task each in the same time are alike too
    const e = new TaskTimeEstimator()
    const c = caps()
    for (let i = 0; i < 50; i++) {
      for (let w = 0; w < 5; w++) {
        e.observe(`both${w}`, c, 'fn-a', 1000)
        e.observe(`both${w}`, c, 'fn-b', 1000)
        e.observe(`slow${w}`, c, 'fn-a', 2000)
      }
    }
    e.observe('x', c, 'fn-a', 1000)
    e.observe('y', c, 'fn-b', 1000)
    expect(e.taskMs('x', c, 'fn-c') / e.taskMs('y', c, 'fn-c')).toBeCloseTo(1, 1)
  })
})

describe('TaskTimeEstimator: sizes and priors', () => {
  it('scales a task\'s estimate with its input bytes, and learns at the reference size', () => {
    const e = new TaskTimeEstimator()
    const c = caps()
    expect(e.sizeScale('fn', 1000)).toBe(1) // the first sized task is the reference
    expect(e.sizeScale('fn', 2500)).toBe(2.5)
    expect(e.sizeScale('fn', 0)).toBe(1) // unsized
    e.observe('a', c, 'fn', 2000, 2) // a task twice the reference took 2 s
    expect(e.taskMs('a', c, 'fn')).toBeCloseTo(1000)
    expect(e.taskMs('a', c, 'fn', 3)).toBeCloseTo(3000)
  })

  it('learns how far a worker\'s run times stray', () => {
    const e = new TaskTimeEstimator()
    expect(lateFactor(e.dispersion('w'))).toBeCloseTo(1.5)
    for (let i = 0; i < 40; i++) { e.observe('steady', caps(), 'fn', 100); e.observe('noisy', caps(), 'fn', i % 2 === 0 ? 50 : 200) }
    expect(e.dispersion('steady')).toBeLessThan(0.01)
    expect(e.dispersion('noisy')).toBeGreaterThan(0.5)
    expect(lateFactor(e.dispersion('steady'))).toBe(1.5)
    expect(lateFactor(e.dispersion('noisy'))).toBeGreaterThan(2.5)
  })

  it('learns the link\'s cost and a worker\'s typical task', () => {
    const e = new TaskTimeEstimator()
    expect(e.linkMs('w')).toBeUndefined()
    e.observeLink('w', 10)
    e.observeLink('w', 20)
    e.observeLink('w', -1) // ignored
    expect(e.linkMs('w')).toBeCloseTo(13)
    e.observe('w', caps(), 'fn', 4, 2)
    expect(e.typicalMs('w')).toBe(4) // raw, whatever the size
  })

  it('guesses a phone slower than a laptop until it has measured either', () => {
    const e = new TaskTimeEstimator()
    e.observe('ref', caps(), 'fn', 1000)
    expect(e.taskMs('phone', caps({ mobile: true }), 'fn')).toBeCloseTo(2000)
    expect(e.taskMs('laptop', caps(), 'fn')).toBeCloseTo(1000)
  })
})

describe('EctPlacer', () => {
  it('prefers the worker that caches the input, all else equal', () => {
    const p = new EctPlacer()
    p.addWorker({ id: 'a', caps: caps() })
    p.addWorker({ id: 'b', caps: caps(), cached: ['chunk'] })
    expect(p.place(task('t', { inputCids: ['chunk'], inputBytes: [1_000_000] }))).toBe('b')
    expect(p.place(task('t', { inputCids: ['other'], inputBytes: [1_000_000] }))).toBe('a')
  })

  it('prefers the worker measured faster, and the warm function', () => {
    const p = new EctPlacer()
    p.addWorker({ id: 'a', caps: caps() })
    p.addWorker({ id: 'b', caps: caps() })
    p.assigned('a', task('x')); p.finished('a', 'fn', 4000)
    p.assigned('b', task('y')); p.finished('b', 'fn', 1000)
    expect(p.place(task('t'))).toBe('b')
    const q = new EctPlacer()
    q.addWorker({ id: 'a', caps: caps() })
    q.addWorker({ id: 'b', caps: caps(), cached: ['fn'] })
    expect(q.place(task('t', { functionBytes: 5_000_000 }))).toBe('b')
  })

  it('queues deeper on a worker whose link costs more than its tasks', () => {
    const inFlight = (rttMs?: number): number => {
      const e = new TaskTimeEstimator()
      e.observe('w', caps(), 'fn', 1) // 1 ms tasks
      const p = new EctPlacer({ estimator: e })
      p.addWorker({ id: 'w', caps: caps(), rttMs })
      let n = 0
      while (n < 20 && p.place(task('t'), { backlog: 1000 }) === 'w') { p.assigned('w', task('t')); n++ }
      return n
    }
    expect(inFlight(undefined)).toBe(2) // link not measured: the default depth
    expect(inFlight(0.5)).toBe(2) // a link cheaper than a task
    expect(inFlight(5)).toBe(6) // 1 + ⌈5 / 1⌉
    expect(inFlight(500)).toBe(8) // capped
  })

  it('gives a worker gone quiet no new work, counts it out of the room, and takes it back once heard', () => {
    const p = new EctPlacer()
    p.addWorker({ id: 'fast', caps: caps({ kind: 'node', slots: 8 }) })
    p.addWorker({ id: 'slow', caps: caps() })
    p.assigned('fast', task('x')); p.finished('fast', 'fn', 500)
    p.assigned('slow', task('y')); p.finished('slow', 'fn', 4000)
    const room = p.slotSpeed()
    expect(p.place(task('t'))).toBe('fast')
    p.silenced('fast')
    expect(p.isQuiet('fast')).toBe(true)
    expect(p.place(task('t'), { backlog: 1000 })).toBe('slow')
    expect(p.place(task('t'), { idleOnly: true })).toBe('slow')
    expect(p.roomDrainMs(1000)).toBeGreaterThan(0)
    p.silenced('slow')
    expect(p.place(task('t'), { backlog: 1000 })).toBeUndefined()
    p.heard('fast')
    p.heard('slow')
    expect(p.isQuiet('fast')).toBe(false)
    expect(p.place(task('t'))).toBe('fast')
    expect(p.slotSpeed()).toBeCloseTo(room)
  })

  it('never places on a worker that fails the requirement', () => {
    const p = new EctPlacer()
    p.addWorker({ id: 'fast', caps: caps({ kind: 'node', slots: 8 }) })
    p.addWorker({ id: 'onnx', caps: caps({ runtimes: ['wasm', 'onnx'] }) })
    const onnx = task('t', { requirement: { runtime: 'onnx', memoryPages: 1 } })
    for (let i = 0; i < 5; i++) {
      const w = p.place(onnx, { backlog: 100 })
      if (w == null) break
      expect(w).toBe('onnx')
      p.assigned(w, onnx)
    }
    expect(p.place(task('u', { requirement: { runtime: 'wasm', memoryPages: 1 << 16 } }))).toBeUndefined()
  })

  it('uses a low, discharging battery only when nobody else fits', () => {
    const low = caps({ battery: { level: 0.1, charging: false }, slots: 4 })
    const p = new EctPlacer()
    p.addWorker({ id: 'phone', caps: low })
    p.addWorker({ id: 'laptop', caps: caps() })
    const picks = [0, 1, 2].map(() => { const w = p.place(task('t'), { backlog: 50 }); if (w != null) p.assigned(w, task('t')); return w })
    expect(picks.filter(w => w === 'phone')).toEqual([])
    p.removeWorker('laptop')
    expect(p.place(task('t'))).toBe('phone')
    // charging: an ordinary worker again
    p.addWorker({ id: 'phone', caps: caps({ battery: { level: 0.1, charging: true } }) })
    p.addWorker({ id: 'laptop', caps: caps() })
    expect(p.place(task('t'))).toBe('phone')
  })

  it('keeps a very slow device out of the tail but not out of a backlog', () => {
    const p = new EctPlacer()
    p.addWorker({ id: 'laptop', caps: caps({ slots: 1 }) })
    p.addWorker({ id: 'mcu', caps: caps({ kind: 'mcu', cores: 1, slots: 1 }) })
    p.assigned('laptop', task('x')); p.finished('laptop', 'fn', 1000)
    p.assigned('laptop', task('y')); p.assigned('laptop', task('z'))
    // one task left: wait for the laptop rather than run 100× slower now
    expect(p.place(task('t'), { backlog: 1 })).toBeUndefined()
    expect(p.place(task('t'), { backlog: 1_000_000 })).toBe('mcu')
  })

  it('re-keys a few workers per decision after the work estimate drifts, and still picks the best', () => {
    const e = new TaskTimeEstimator()
    const p = new EctPlacer({ estimator: e })
    for (let i = 0; i < 500; i++) p.addWorker({ id: `w${i}`, caps: caps(), rttMs: 50 + i })
    expect(p.place(task('t'))).toBe('w0')
    // the function turns out 10× heavier than the default guess (w7 reports it)
    p.assigned('w7', task('x')); p.finished('w7', 'fn', 10_000)
    const keys = (p as unknown as { classes: Array<{ open: IndexedMinHeap }> }).classes[0].open
    const before = Array.from({ length: 500 }, (_, i) => keys.keyOf(i))
    expect(p.place(task('t'))).toBeDefined()
    // one decision re-keyed a sweep's worth of workers, not all 500
    const changed = before.filter((k, i) => keys.keyOf(i) !== k).length
    expect(changed).toBeGreaterThan(0)
    expect(changed).toBeLessThan(100)
    // a few decisions later every key carries the new estimate
    for (let i = 0; i < 20; i++) p.place(task('t'))
    expect(before.every((k, i) => i === 7 || keys.keyOf(i) > k * 5)).toBe(true)
    // w7 holds the function warm now (no cold start): it leads
    expect(p.place(task('t'))).toBe('w7')
  })

  it('lets a slower free worker take a task when other classes keep the room busy', () => {
    const p = fastBusySlowFree(new EctPlacer({ drainFactor: 0.5 }))
    // this class alone: one task, wait for the fast worker
    expect(p.place(task('t'), { backlog: 1 })).toBeUndefined()
    // 1000 tasks of other classes queued too: the fast worker is not coming back for it
    expect(p.place(task('t'), { backlog: 1, queuedWorkMs: 1000 * 3000 })).toBe('slow')
  })

  it('lets a slower free worker take a splittable task sooner than an indivisible one', () => {
    // a cautious delay rule for indivisible tasks; splittable ones get POLICY.splitDrainFactor at least
    const p = fastBusySlowFree(new EctPlacer({ drainFactor: 0.4 }))
    // the tail cuts a splittable task the slow worker is late with: waiting for the fast one is worth less
    let only = 0
    for (let backlog = 1; backlog <= 64; backlog++) {
      const plain = p.place(task('t'), { backlog })
      const split = p.place({ ...task('t'), splittable: true }, { backlog })
      if (plain === 'slow') expect(split).toBe('slow')
      if (plain == null && split === 'slow') only++
    }
    expect(only).toBeGreaterThan(0)
  })

  it('keeps the cautious delay rule for a splittable task whose one item is long on the free worker', () => {
    // a cut leaves the worker the item it is on: 2 items of 2.5 s on the slow worker is no piece to leave behind
    const p = fastBusySlowFree(new EctPlacer({ drainFactor: 0.4 }))
    let many = 0
    for (let backlog = 1; backlog <= 64; backlog++) {
      const plain = p.place(task('t'), { backlog })
      expect(p.place(task('t', { splittable: true, items: 2 }), { backlog })).toBe(plain)
      if (plain == null && p.place(task('t', { splittable: true, items: 32 }), { backlog }) === 'slow') many++
    }
    // 32 items of 156 ms: the longer rule holds
    expect(many).toBeGreaterThan(0)
  })

  it('lets a slow free worker take a splittable task of short items while the queue holds ten of them', () => {
    // 'fast' (1 s a task) has two queued; 'slow' takes 20 s a task, in 100 items of 200 ms
    const p = new EctPlacer({ drainFactor: 0.4 })
    p.addWorker({ id: 'fast', caps: caps({ slots: 1 }) })
    p.addWorker({ id: 'slow', caps: caps({ slots: 1 }) })
    p.assigned('fast', task('x')); p.finished('fast', 'fn', 1000)
    p.assigned('slow', task('y')); p.finished('slow', 'fn', 20_000)
    p.assigned('fast', task('z')); p.assigned('fast', task('z2'))
    const split = task('t', { splittable: true, items: 100 })
    // backlogs (in reference tasks) the room drains in 1 s and in 3 s
    const [short, long] = [1000, 3000].map(ms => ms / p.drainMs(split, 1))
    // 1 s of queued work (under ten items): wait for the fast worker
    expect(p.place(split, { backlog: short })).toBeUndefined()
    // 3 s (over ten items): the slow worker's items before the tail are work the fast one need not do,
    // though the delay rule alone would still wait (20 s against 3 s + 2 × 3 s)
    expect(p.place(split, { backlog: long })).toBe('slow')
    expect(p.place({ ...split, items: undefined }, { backlog: long })).toBeUndefined()
    expect(p.place(task('t'), { backlog: long })).toBeUndefined()
  })

  it('counts a whole task of waiting behind a burst, not a slot\'s share of one', () => {
    // 8 tasks of 1 s start together on an 8-slot desktop: a ninth waits for
    // one of them to end (1 s), where the fluid count said 1/8 s
    let now = 0
    const e = new TaskTimeEstimator()
    const p = new EctPlacer({ estimator: e, now: () => now, depthPerSlot: 2 })
    const c8 = caps({ kind: 'node', cores: 8, slots: 8 })
    p.addWorker({ id: 'desk', caps: c8, rttMs: 0 })
    p.addWorker({ id: 'laptop', caps: caps({ slots: 1 }), rttMs: 0 })
    // measured: the desktop runs a task in 1000 ms, the laptop in 1500 ms
    p.assigned('desk', task('a')); p.finished('desk', 'fn', 1000, 1, 'a')
    p.assigned('laptop', task('b')); p.finished('laptop', 'fn', 1500, 1, 'b')
    const per = p.ect('desk', task('q'))
    for (let i = 0; i < 8; i++) p.assigned('desk', task(`r${i}`))
    expect(p.ect('desk', task('q'))).toBeGreaterThan(1.9 * per)
    // its terms: the wait is the burst's, the compute is the task's own
    const parts = p.ectParts('desk', task('q'))
    expect(parts?.waitMs).toBeGreaterThan(0.9 * per)
    expect(Math.max(parts!.arrivalMs, parts!.waitMs) + parts!.computeMs + parts!.rttMs / 2).toBeCloseTo(p.ect('desk', task('q')))
    // the free laptop (1.5 s) now beats the full desktop (2 s)
    expect(p.place(task('q'), { backlog: 1 })).toBe('laptop')
    // 600 ms on, one of them is cancelled: a slot is free at once
    now = 600
    p.finished('desk', 'fn', undefined, 1, 'r3')
    expect(p.ect('desk', task('q'))).toBeCloseTo(per, 0)
    expect(p.place(task('q'), { backlog: 1 })).toBe('desk')
  })

  it('does not hold a class back for a busy worker never measured', () => {
    // a hidden straggler's guessed speed looked best of the busy workers,
    // and every free worker was refused until its first result
    // (a desktop's prior is 4 laptops: guessed far faster than it may be)
    const p = new EctPlacer({ estimator: new TaskTimeEstimator({ kindSpeed: { node: 4 } }), depthPerSlot: 1 })
    p.addWorker({ id: 'fast', caps: caps({ slots: 1 }) })
    p.addWorker({ id: 'ok', caps: caps({ slots: 1 }) })
    p.assigned('fast', task('x')); p.finished('fast', 'fn', 1000)
    p.assigned('ok', task('y')); p.finished('ok', 'fn', 1900)
    p.addWorker({ id: 'guess', caps: caps({ slots: 1, kind: 'node' }) })
    p.assigned('guess', task('g'))
    p.assigned('fast', task('z'))
    expect(p.ect('guess', task('t'))).toBeLessThan(1000)
    // weighed against the measured busy worker (fast: ~2.1 s) 'ok' (~1.9 s)
    // is near enough; against the guess (< 1 s) it was refused
    expect(p.place(task('t'), { backlog: 1 })).toBe('ok')
  })

  it('excludes workers and finds an idle one for a backup copy', () => {
    const p = new EctPlacer()
    for (const id of ['a', 'b', 'c']) p.addWorker({ id, caps: caps() })
    p.assigned('a', task('x'))
    expect(p.place(task('t'), { exclude: new Set(['b']) })).toBe('c')
    expect(p.place(task('t'), { idleOnly: true, exclude: new Set(['c']) })).toBe('b')
  })
})

describe('ectScheduler (ApplicationScheduler)', () => {
  it('places by ECT from offers and serves the constrained class first', () => {
    const s = ectScheduler()
    expect(s.name).toBe('ect')
    const offer = (workerId: string, over: Partial<Offer> = {}): Offer => ({ workerId, caps: caps(), inFlight: 0, reportedLoad: 0, cached: new Set(), self: false, ...over })
    const onnxReq: Requirement = { runtime: 'onnx', memoryPages: 1 }
    const pending = [task('w1'), task('w2'), task('o1', { functionCid: 'ml', requirement: onnxReq })]
    const offers = [offer('plain'), offer('gpu', { caps: caps({ runtimes: ['wasm', 'onnx'] }) })]
    const placed = s.place(pending, offers)
    expect(placed.find(p => p.taskId === 'o1')?.workerId).toBe('gpu')
    for (const pl of placed) {
      const o = offers.find(x => x.workerId === pl.workerId) as Offer
      expect(satisfies(o.caps, pending.find(t => t.id === pl.taskId)?.requirement as Requirement)).toBe(true)
    }
    expect(s.place(pending, offers)).toEqual(placed)
  })

  it('gives a slow worker the smallest task whose input it holds, else the smallest of all', () => {
    const estimator = new TaskTimeEstimator()
    // 'fast' 1 s a task, 'slow' 5 s: slow is well under the room's average slot
    estimator.observe('fast', caps({ slots: 1 }), 'fn', 1000)
    estimator.observe('slow', caps({ slots: 1 }), 'fn', 5000)
    const s = ectScheduler({ estimator })
    const sized = (id: string, bytes: number): PendingTask => task(id, { inputCids: [`in-${id}`], inputBytes: [bytes] })
    // a long queue: the room is far from draining it (in the tail the slow worker takes the smallest of all)
    const pending = [...Array.from({ length: 30 }, (_, i) => sized(`big${i}`, 4000)), sized('mid', 2000), sized('mid2', 1900), sized('small', 1000)]
    const offer = (workerId: string, cached: string[]): Offer => ({ workerId, caps: caps({ slots: 1 }), inFlight: 0, reportedLoad: 0, cached: new Set(cached), self: false })
    const slowGets = (cached: string[]): string | undefined => s.place(pending, [offer('fast', []), offer('slow', cached)]).find(p => p.workerId === 'slow')?.taskId
    expect(slowGets([])).toBe('small')
    // it holds the inputs of both mid tasks: the smaller of them, no download first
    expect(slowGets(['in-mid', 'in-mid2'])).toBe('mid2')
    // the fast worker still starts with the largest
    expect(s.place(pending, [offer('fast', []), offer('slow', ['in-mid'])]).find(p => p.workerId === 'fast')?.taskId).toBe('big0')
    // near the end of the queue: the smallest of all
    const tail = [sized('mid', 2000), sized('mid2', 1900), sized('small', 1000)]
    expect(s.place(tail, [offer('fast', []), offer('slow', ['in-mid', 'in-mid2'])]).find(p => p.workerId === 'slow')?.taskId).toBe('small')
  })

  describe('exploration', () => {
    // 'known' is measured and has room for every task; 'new' was never measured
    const explorer = (): ReturnType<typeof ectScheduler> => {
      const estimator = new TaskTimeEstimator()
      estimator.observe('known', caps({ slots: 4 }), 'fn', 100)
      return ectScheduler({ estimator })
    }
    const offer = (workerId: string, over: Partial<Offer> = {}): Offer => ({ workerId, caps: caps(), inFlight: 0, reportedLoad: 0, cached: new Set(), self: false, ...over })
    const known = offer('known', { caps: caps({ slots: 4 }) })
    const sized = (id: string, bytes: number): PendingTask => task(id, { inputCids: [`in-${id}`], sizeBytes: bytes })
    const pending = [sized('big', 4000), sized('mid', 2000), sized('small', 1000)]

    it('gives an idle worker never measured one task first, the smallest that fits', () => {
      const placed = explorer().place(pending, [known, offer('new')])
      // first, before the placement by ECT (which gives the largest first)
      expect(placed[0]).toEqual({ taskId: 'small', workerId: 'new' })
      expect(placed.filter(p => p.workerId === 'new')).toHaveLength(1)
      expect(new Set(placed.map(p => p.taskId))).toEqual(new Set(['big', 'mid', 'small']))
      // the smallest it can run: a requirement it fails rules a task out
      const onnx = { ...sized('tiny', 10), requirement: { runtime: 'onnx', memoryPages: 1 } } satisfies PendingTask
      const both = offer('known', { caps: caps({ slots: 4, runtimes: ['wasm', 'onnx'] }) })
      expect(explorer().place([...pending, onnx], [both, offer('new')])[0]).toEqual({ taskId: 'small', workerId: 'new' })
    })

    it('prefers the smallest task whose inputs it holds: it starts without a download', () => {
      expect(explorer().place(pending, [known, offer('new', { cached: new Set(['in-mid']) })])[0]).toEqual({ taskId: 'mid', workerId: 'new' })
    })

    it('leaves out a worker that is busy, low on battery or measured', () => {
      const s = explorer()
      // busy: this job has a task on it already (it will report soon anyway)
      expect(s.place(pending, [known, offer('new', { caps: caps({ slots: 2 }), inFlight: 1 })])[0].taskId).toBe('big')
      // a discharging phone is kept in reserve, not probed
      const phone = offer('new', { caps: caps({ battery: { level: 0.1, charging: false } }) })
      expect(s.place(pending, [known, phone]).filter(p => p.workerId === 'new')).toEqual([])
      // measured: placed by its ECT like any worker, largest first
      expect(s.place(pending, [known])[0]).toEqual({ taskId: 'big', workerId: 'known' })
    })

    it('no probe for a worker that would end it long after the class drains (a microcontroller, by its prior)', () => {
      const mcu = offer('mcu', { caps: caps({ kind: 'mcu', cores: 1, slots: 1 }) })
      expect(explorer().place(pending, [known, mcu]).filter(p => p.workerId === 'mcu')).toEqual([])
      // a browser never measured is still probed
      expect(explorer().place(pending, [known, offer('new')])[0]).toEqual({ taskId: 'small', workerId: 'new' })
    })

    it('a browser whose link makes its probe end long after a short job drains is still probed: the rule weighs compute only', () => {
      // one 100 ms task: the measured worker drains the job in 100 ms, while
      // the new tab's link (a slow one, and a module to fetch) puts its end seconds away
      const one = [sized('only', 1000)]
      const slowLink = offer('new', { rttMs: 2000, bandwidthBps: 1000 })
      const placed = explorer().place(one, [known, slowLink])
      expect(placed).toEqual([{ taskId: 'only', workerId: 'new' }])
    })
  })

  it('a placer kept across calls places as a fresh one does (loads, caches, workers gone, speeds moved)', () => {
    const estimator = new TaskTimeEstimator()
    // the function's work is known and stays (its drift is re-keyed a few workers per decision, as within one call)
    estimator.observe('z', caps(), 'fn', 100)
    const kept = ectScheduler({ estimator })
    const ids = ['a', 'b', 'c', 'd', 'e', 'f']
    const capsOf = new Map(ids.map((id, i) => [id, caps({ slots: 1 + (i % 3), kind: i === 5 ? 'node' : 'browser' })]))
    const tasks = (n: number, round: number): PendingTask[] => Array.from({ length: n }, (_, i) => task(`t${round}-${i}`, { inputCids: [`in-${i % 4}`], sizeBytes: 1000 + 500 * (i % 3) }))
    for (let round = 0; round < 12; round++) {
      const offers: Offer[] = ids.filter((_, i) => (round + i) % 5 !== 0).map((id, i) => ({
        workerId: id, caps: capsOf.get(id) as Offer['caps'], inFlight: (round * 7 + i) % 3, reportedLoad: 0,
        cached: new Set(round % 2 === 0 ? [`in-${i % 4}`] : []), self: false
      }))
      const pending = tasks(3 + (round % 5), round)
      expect(kept.place(pending, offers)).toEqual(ectScheduler({ estimator }).place(pending, offers))
      // results of another function move the workers' speeds between calls
      estimator.observe(ids[round % ids.length], capsOf.get(ids[round % ids.length]) as Offer['caps'], 'other', 80 + 40 * (round % 4))
    }
  })
})

describe('chooseBackups', () => {
  it('copies the slowest task first, only where it gains', () => {
    const running = [
      { taskId: 'fine', workers: ['a'], dispatchedAt: 0, expectedEnd: 1100 },
      { taskId: 'late', workers: ['b'], dispatchedAt: 0, expectedEnd: 500 },
      { taskId: 'two', workers: ['c', 'd'], dispatchedAt: 0, expectedEnd: 9000 }
    ]
    expect(remainingMs(running[1], 1000)).toBe(1000)
    const picks = chooseBackups(running, 1000, (_id, exclude) => exclude.has('e') ? undefined : { workerId: 'e', ectMs: 300 })
    expect(picks).toEqual([{ taskId: 'late', workerId: 'e', gainMs: 700 }])
  })
})

describe('chooseBackups: stragglers and insurance', () => {
  it('goes on past a task no idle worker would finish sooner', () => {
    // the slowest task (an onnx one) only fits a phone that would not gain;
    // the next (a filter) has a fast idle worker
    const running = [
      { taskId: 'onnx', workers: ['a'], dispatchedAt: 0, expectedEnd: 9000 },
      { taskId: 'filter', workers: ['b'], dispatchedAt: 0, expectedEnd: 5000 }
    ]
    const place = (id: string): { workerId: string, ectMs: number } => id === 'onnx' ? { workerId: 'phone', ectMs: 20_000 } : { workerId: 'desk', ectMs: 1000 }
    expect(chooseBackups(running, 1000, place)).toEqual([{ taskId: 'filter', workerId: 'desk', gainMs: 3000 }])
  })

  const place = (_id: string, exclude: ReadonlySet<string>): { workerId: string, ectMs: number } | undefined => exclude.has('e') ? undefined : { workerId: 'e', ectMs: 800 }

  it('gives a third copy to a task whose two copies are both overdue', () => {
    const both = { taskId: 't', workers: ['s1', 's2'], dispatchedAt: 0, expectedEnd: 500 }
    expect(chooseBackups([both], 5000, place)).toEqual([])
    expect(chooseBackups([{ ...both, healthy: 0 }], 5000, place)).toEqual([{ taskId: 't', workerId: 'e', gainMs: 4200 }])
  })

  it('insures a running task with an idle slot when told to, within the bound', () => {
    const t = { taskId: 't', workers: ['a'], dispatchedAt: 0, expectedEnd: 1600 } // 600 ms left
    expect(chooseBackups([t], 1000, place)).toEqual([])
    expect(chooseBackups([t], 1000, place, { insure: 2 })).toEqual([{ taskId: 't', workerId: 'e', gainMs: -200 }])
    expect(chooseBackups([t], 1000, place, { insure: 1.2 })).toEqual([])
  })
})

describe('QuorumBook', () => {
  it('agrees on k equal digests and catches the liar with a tie-breaker', () => {
    const q = new QuorumBook({ k: 2 })
    expect(q.wanted('t')).toBe(2)
    q.started('t', 'honest'); q.started('t', 'liar')
    expect(q.wanted('t')).toBe(0)
    expect(q.record('t', 'honest', 'ok')).toEqual({ type: 'pending' })
    expect(q.record('t', 'liar', 'bad')).toEqual({ type: 'tie-break' })
    expect(q.wanted('t')).toBe(1)
    expect(q.ranOn('t')).toEqual(new Set(['honest', 'liar']))
    q.started('t', 'third')
    expect(q.record('t', 'third', 'ok')).toEqual({ type: 'agreed', digest: 'ok', workers: ['honest', 'third'], liars: ['liar'], reopened: [] })
    expect(q.isTrusted('liar')).toBe(false)
    q.started('u', 'liar')
    expect(q.record('u', 'liar', 'ok')).toEqual({ type: 'ignored', reason: 'distrusted' })
    expect(q.wanted('u')).toBe(2)
  })

  it('drops a caught liar\'s open votes, and trusts the first result with k = 1', () => {
    const q = new QuorumBook({ k: 2 })
    q.started('u', 'liar'); q.record('u', 'liar', 'x')
    expect(q.wanted('u')).toBe(1)
    q.started('t', 'a'); q.started('t', 'liar'); q.started('t', 'b')
    q.record('t', 'a', 'ok'); q.record('t', 'liar', 'bad')
    const v = q.record('t', 'b', 'ok')
    expect(v).toMatchObject({ type: 'agreed', liars: ['liar'], reopened: ['u'] })
    expect(q.wanted('u')).toBe(2)
    const one = new QuorumBook()
    one.started('t', 'a')
    expect(one.record('t', 'a', 'd')).toMatchObject({ type: 'agreed', digest: 'd' })
    expect(one.record('t', 'b', 'e')).toEqual({ type: 'ignored', reason: 'decided' })
  })
})

describe('EctPlacer queue model (first in, first out on the worker\'s slots)', () => {
  const measured = (now: { t: number }): EctPlacer => {
    const p = new EctPlacer({ now: () => now.t, depthPerSlot: 4 })
    p.addWorker({ id: 'w', caps: caps({ slots: 1 }), rttMs: 0 })
    // the worker runs a task of fn in 1000 ms
    p.assigned('w', task('m')); p.finished('w', 'fn', 1000, 1, 'm')
    return p
  }

  it('expects queued tasks to end one after another, and moves them up as results come', () => {
    const now = { t: 0 }
    const p = measured(now)
    for (const id of ['a', 'b', 'c']) p.assigned('w', task(id))
    expect(p.expectedEnd('w', 'a')).toBeCloseTo(1000, -1)
    expect(p.expectedEnd('w', 'b')).toBeCloseTo(2000, -1)
    expect(p.expectedEnd('w', 'c')).toBeCloseTo(3000, -1)
    // a is cancelled early: b starts now, c behind it
    now.t = 500
    p.finished('w', 'fn', undefined, 1, 'a')
    expect(p.expectedEnd('w', 'b')).toBeCloseTo(1500, -1)
    expect(p.expectedEnd('w', 'c')).toBeCloseTo(2500, -1)
    expect(p.expectedEnd('w', 'nope')).toBeUndefined()
  })

  it('counts lateness from when a task started, not from when it was queued', () => {
    const now = { t: 0 }
    const p = measured(now)
    p.assigned('w', task('a')); p.assigned('w', task('b'))
    now.t = 1900
    // b has waited 1.9 s behind a: waiting is not lateness
    expect(p.lateness('w', 'b')).toBe(0)
    expect(p.lateness('w', 'a')).toBeGreaterThan(1.8)
    p.finished('w', 'fn', undefined, 1, 'a')
    now.t = 2400
    expect(p.lateness('w', 'b')).toBeCloseTo(0.5, 1)
  })

  it('frees the oldest started task of the function when told no task id', () => {
    const now = { t: 0 }
    const p = measured(now)
    p.assigned('w', task('a')); p.assigned('w', task('b'))
    now.t = 1000
    p.finished('w', 'fn', 1000)
    expect(p.expectedEnd('w', 'a')).toBeUndefined()
    expect(p.expectedEnd('w', 'b')).toBeCloseTo(2000, -1)
  })
})

describe('EctPlacer: the link, overruns and idle workers', () => {
  it('queues downloads on a worker\'s link: a second big input arrives after the first', () => {
    const p = new EctPlacer()
    // two equal workers, 1 MB/s links, eight slots each
    for (const id of ['a', 'b']) p.addWorker({ id, caps: caps({ slots: 8 }), rttMs: 0, bandwidthBps: 1_000_000 })
    const big = (id: string): PendingTask => task(id, { inputCids: [`in:${id}`], inputBytes: [2_000_000] })
    const before = p.ect('a', big('t2'))
    p.assigned('a', big('t1'))
    // the link of a is busy for 2 s: t2 there starts 2 s later (less the
    // cold start it no longer pays), on b at once
    const later = p.ect('a', big('t2')) - before
    expect(later).toBeGreaterThan(1900)
    expect(later).toBeLessThan(2000)
    expect(p.place(big('t2'))).toBe('b')
  })

  it('learns from a task running far past its estimate that its worker is slower than guessed', () => {
    const now = { t: 0 }
    const p = new EctPlacer({ now: () => now.t })
    p.addWorker({ id: 'known', caps: caps({ slots: 1 }), rttMs: 0 })
    p.addWorker({ id: 'new', caps: caps({ slots: 1 }), rttMs: 0 })
    p.assigned('known', task('k')); p.finished('known', 'fn', 1000, 1, 'k')
    // a hidden straggler: its first task has run 5 s where 1 s was expected
    p.assigned('new', task('a'))
    const guess = p.ect('new', task('x'))
    now.t = 5000
    p.noteRunning('new')
    expect(p.ect('new', task('x'))).toBeGreaterThan(4 * guess)
    // its lateness is still judged against the estimate (copies of its tasks are due)
    expect(p.lateness('new', 'a')).toBeCloseTo(5, 0)
    // a run within its dispersion teaches nothing
    p.assigned('known', task('k2'))
    now.t = 6200
    p.noteRunning('known')
    expect(p.estimator.overrunOf('known')).toBe(1)
    // its first result replaces the floor
    p.finished('new', 'fn', 5500, 1, 'a')
    expect(p.estimator.overrunOf('new')).toBe(1)
  })

  it('finds an idle worker for a copy behind many busy faster ones', () => {
    const p = new EctPlacer()
    // 64 desktops busy (room left in their queues), one idle phone
    for (let i = 0; i < 64; i++) {
      p.addWorker({ id: `d${i}`, caps: caps({ slots: 2, cores: 16 }), rttMs: 0 })
      p.assigned(`d${i}`, task(`x${i}a`)); p.assigned(`d${i}`, task(`x${i}b`))
    }
    p.addWorker({ id: 'phone', caps: caps({ slots: 1, mobile: true }), rttMs: 0 })
    expect(p.place(task('t'), { idleOnly: true })).toBe('phone')
  })
})

describe('StealIndex (late binding)', () => {
  const ONNX: Requirement = { runtime: 'onnx', memoryPages: 16 }
  interface C { id: string, on: string, end: number, waiting: boolean }
  const copies: C[] = [
    { id: 'early', on: 'a', end: 1500, waiting: true },
    { id: 'late', on: 'b', end: 4000, waiting: true },
    { id: 'started', on: 'b', end: 9000, waiting: false },
    { id: 'onnx', on: 'c', end: 8000, waiting: true }
  ]
  const index = (): StealIndex<C> => {
    const s = new StealIndex<C>()
    for (const c of copies) s.add(c.id === 'onnx' ? 'fn-onnx' : 'fn', c.id === 'onnx' ? ONNX : WASM, c, c.end)
    return s
  }
  const endOn = (thief: string) => (c: C): number | undefined => c.on === thief ? undefined : 1000 + 1000

  it('takes the waiting copy it would finish soonest against where it waits, in classes it can run', () => {
    const s = index()
    // a started copy is never moved (it is dropped), nor onnx work by a wasm-only thief
    const pick = s.choose(caps(), 1000, c => c.waiting, endOn('x'), c => c.end)
    expect(pick).toEqual({ item: copies[1], gainMs: 2000 })
    expect(s.size).toBe(3)
    // an onnx-capable thief gains most on the onnx copy
    expect(s.choose(caps({ runtimes: ['wasm', 'onnx'] }), 1000, c => c.waiting, endOn('x'), c => c.end)?.item.id).toBe('onnx')
  })

  it('moves nothing that would not end sooner by a margin, nor a copy onto its own worker', () => {
    const s = index()
    expect(s.choose(caps(), 1000, c => c.waiting, endOn('b'), c => c.end)).toBeUndefined() // only 'early' (no gain) is not b's own
    expect(s.choose(caps(), 1000, c => c.waiting, () => 3900, c => c.end, { minGainShare: 0.1 })).toBeUndefined() // 100 ms on a 2.9 s run
    expect(s.choose(caps(), 1000, c => c.waiting, () => 3900, c => c.end, { minGainShare: 0 })?.item.id).toBe('late')
  })
})
