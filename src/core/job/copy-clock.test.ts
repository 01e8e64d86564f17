import { describe, expect, it } from 'vitest'
import { QUIET_AFTER_MS } from '../protocol/task.js'
import { TaskTimeEstimator } from '../scheduler/estimates.js'
import { testCaps } from '../test-support.js'
import { CopyClock } from './copy-clock.js'

describe('CopyClock', () => {
  const setup = (): { clock: CopyClock, est: TaskTimeEstimator } => {
    const est = new TaskTimeEstimator()
    const caps = testCaps()
    // fn takes 1 s on a worker like these
    est.observe('ref', caps, 'fn', 1000)
    return { clock: new CopyClock(est, () => caps, 'self'), est }
  }
  const fn = { fnCid: 'fn', scale: 1 }

  it('counts lateness from the start report, not from the dispatch', () => {
    const { clock } = setup()
    clock.dispatched('t@w', 0, 3, 0)
    // queued behind two tasks: 2.5 s after dispatch is not late
    expect(clock.overdue('t@w', fn, 'w', 2500)).toBe(false)
    clock.progress('t@w', 'w', 2000)
    expect(clock.started('t@w')).toBe(true)
    expect(clock.expectedEnd('t@w', fn, 'w', 2100)).toBeCloseTo(3000, -1)
    clock.progress('t@w', 'w', 3400)
    expect(clock.overdue('t@w', fn, 'w', 3400)).toBe(false)
    clock.progress('t@w', 'w', 3900)
    expect(clock.overdue('t@w', fn, 'w', 4000)).toBe(true)
  })

  it('finds a copy whose start report is overdue while its worker sends nothing else, not one queued behind a worker still heard from', () => {
    const { clock } = setup()
    // queued behind two tasks (1 s each) on a 100 ms link: its start is due at 2.1 s
    clock.dispatched('t@w', 0, 3, 100)
    expect(clock.startOverdue('t@w', fn, 'w', 2500, 750)).toBe(false)
    expect(clock.startOverdue('t@w', fn, 'w', 2900, 750)).toBe(true)
    // the worker reports on another task: alive, its queue only slow
    clock.heardFrom('w', 2800)
    expect(clock.startOverdue('t@w', fn, 'w', 2900, 750)).toBe(false)
    expect(clock.startOverdue('t@w', fn, 'w', 3600, 750)).toBe(true)
    // started: the quiet rule watches it from then on; the submitter itself, never
    clock.progress('t@w', 'w', 3700)
    expect(clock.startOverdue('t@w', fn, 'w', 9000, 750)).toBe(false)
    clock.dispatched('t@self', 0, 1, 0)
    expect(clock.startOverdue('t@self', fn, 'self', 9000, 750)).toBe(false)
  })

  it('floors a late worker\'s slowness, but judges and ends its running copy without the floor', () => {
    const { clock, est } = setup()
    clock.dispatched('t@w', 0, 1, 0)
    clock.progress('t@w', 'w', 0)
    clock.progress('t@w', 'w', 4900)
    expect(clock.overdue('t@w', fn, 'w', 5000)).toBe(true)
    // new tasks there are expected five times slower
    expect(est.overrunOf('w')).toBeCloseTo(5)
    expect(clock.expectedMs(fn, 'w')).toBeCloseTo(5000, -2)
    // the running copy stays overdue and expected at 1 s after its start:
    // through the floor it would seem about to end, and get no backup
    clock.progress('t@w', 'w', 5400)
    expect(clock.overdue('t@w', fn, 'w', 5500)).toBe(true)
    expect(clock.expectedEnd('t@w', fn, 'w', 5500)).toBeCloseTo(1000, -1)
  })

  it('calls a worker quiet after nothing came from it for a while, never the submitter itself', () => {
    const { clock } = setup()
    for (const w of ['w', 'self']) {
      clock.dispatched(`t@${w}`, 0, 1, 0)
      clock.progress(`t@${w}`, w, 0)
    }
    // a function never measured is never late, but a worker silent this long is quiet
    const t = QUIET_AFTER_MS + 100
    expect(clock.overdue('t@w', { fnCid: 'unmeasured', scale: 1 }, 'w', t)).toBe(true)
    expect(clock.overdue('t@self', { fnCid: 'unmeasured', scale: 1 }, 'self', t)).toBe(false)
    expect(clock.quiet('t@w', 'w', t)).toBe(true)
    expect(clock.startedAt('t@w')).toBe(0)
    clock.heardFrom('w', t - 50)
    expect(clock.quiet('t@w', 'w', t)).toBe(false)
    expect(clock.overdue('t@w', { fnCid: 'unmeasured', scale: 1 }, 'w', t)).toBe(false)
    clock.forget('t@w')
    expect(clock.dispatchedAt('t@w')).toBeUndefined()
    expect(clock.expectedEnd('t@w', fn, 'w', t)).toBe(Infinity)
  })
})
