import { describe, expect, it } from 'vitest'
import { JobTracker } from './tracker.js'

const err = { code: 'ERR_FUNCTION_TRAP', message: 'unreachable' }

describe('JobTracker', () => {
  it('starts with every task pending, in submission order', () => {
    const t = new JobTracker<string>(['c', 'a', 'b'])
    expect(t.total).toBe(3)
    expect(t.done).toBe(0)
    expect(t.finished).toBe(false)
    expect(t.pending()).toEqual(['c', 'a', 'b'])
    expect(t.running()).toEqual([])
    expect(t.failed).toBeUndefined()
    expect(t.get('a')).toMatchObject({ id: 'a', status: 'pending', attempts: 0 })
  })

  it('refuses duplicate and unknown task ids', () => {
    expect(() => new JobTracker(['a', 'a'])).toThrow()
    expect(() => new JobTracker(['a']).get('zz')).toThrow()
    expect(() => { new JobTracker(['a']).assign('zz', 'w') }).toThrow()
  })

  it('takes a task added while the job runs (a piece split off a running one)', () => {
    const t = new JobTracker<string>(['a'])
    t.assign('a', 'w1')
    t.add('a.1')
    expect(t.total).toBe(2)
    expect(t.pending()).toEqual(['a.1'])
    t.complete('a', 'w1', 'x')
    expect(t.finished).toBe(false)
    t.assign('a.1', 'w2')
    t.complete('a.1', 'w2', 'y')
    expect(t.finished).toBe(true)
    expect(() => t.add('a')).toThrow(/duplicate/)
  })

  it('an empty job is finished at once', () => {
    const t = new JobTracker<string>([])
    expect(t.finished).toBe(true)
    expect(t.outputs()).toEqual([])
  })

  it('assign → running; complete → done, outputs in submission order', () => {
    const t = new JobTracker<string>(['a', 'b'])
    t.assign('b', 'w1')
    t.assign('a', 'w2')
    expect(t.pending()).toEqual([])
    expect(t.running().map(s => s.id)).toEqual(['a', 'b'])
    expect(t.inFlightOn('w1')).toBe(1)
    expect(t.get('b')).toMatchObject({ status: 'running', attempts: 1 })
    expect(() => t.outputs()).toThrow()
    expect(t.complete('b', 'w1', 'B')).toBe(true)
    expect(t.inFlightOn('w1')).toBe(0)
    expect(t.done).toBe(1)
    expect(t.finished).toBe(false)
    expect(t.complete('a', 'w2', 'A')).toBe(true)
    expect(t.finished).toBe(true)
    expect(t.outputs()).toEqual(['A', 'B'])
    expect(t.get('a')).toMatchObject({ status: 'done', doneBy: 'w2', output: 'A' })
  })

  it('a task done twice counts once and keeps its first output', () => {
    const t = new JobTracker<string>(['a', 'b'])
    t.assign('a', 'w1')
    expect(t.complete('a', 'w1', 'first')).toBe(true)
    expect(t.complete('a', 'w2', 'second')).toBe(false)
    expect(t.complete('a', 'w1', 'third')).toBe(false)
    expect(t.complete('unknown', 'w1', 'x')).toBe(false)
    expect(t.done).toBe(1)
    expect(t.finished).toBe(false)
    expect(t.get('a')).toMatchObject({ output: 'first', doneBy: 'w1' })
    // assigning a done task does nothing
    t.assign('a', 'w3')
    expect(t.get('a')).toMatchObject({ status: 'done', attempts: 1 })
    expect(t.inFlightOn('w3')).toBe(0)
  })

  it('a failure goes back to pending until maxAttempts, then fails for good', () => {
    const t = new JobTracker<string>(['a', 'b'], { maxAttempts: 3 })
    for (let attempt = 1; attempt <= 2; attempt++) {
      t.assign('a', `w${attempt}`)
      t.fail('a', `w${attempt}`, err)
      expect(t.get('a')).toMatchObject({ status: 'pending', attempts: attempt, lastError: err })
      expect(t.pending()).toEqual(['a', 'b'])
      expect(t.failed).toBeUndefined()
    }
    t.assign('a', 'w3')
    t.fail('a', 'w3', { code: 'ERR_DEADLINE_EXCEEDED', message: 'late' })
    expect(t.get('a').status).toBe('failed')
    expect(t.failed?.id).toBe('a')
    expect(t.failed?.lastError?.code).toBe('ERR_DEADLINE_EXCEEDED')
    expect(t.pending()).toEqual(['b'])
    // a failed task is not assigned again, and later failures change nothing
    t.assign('a', 'w4')
    t.fail('a', 'w4', err)
    expect(t.get('a')).toMatchObject({ status: 'failed', attempts: 3 })
    expect(t.inFlightOn('w4')).toBe(0)
  })

  it('maxAttempts 1 fails on the first error; the default is 3', () => {
    const one = new JobTracker<string>(['a'], { maxAttempts: 1 })
    one.assign('a', 'w')
    one.fail('a', 'w', err)
    expect(one.failed?.id).toBe('a')
    const def = new JobTracker<string>(['a'])
    for (let i = 0; i < 3; i++) { def.assign('a', 'w'); def.fail('a', 'w', err) }
    expect(def.failed?.attempts).toBe(3)
  })

  it('a failure of a done task, or of an unknown one, is ignored', () => {
    const t = new JobTracker<string>(['a'])
    t.assign('a', 'w')
    t.complete('a', 'w', 'A')
    t.fail('a', 'w', err)
    t.fail('zz', 'w', err)
    expect(t.get('a')).toMatchObject({ status: 'done', output: 'A' })
    expect(t.get('a').lastError).toBeUndefined()
  })

  it('workerLost re-queues only that worker\'s running tasks and gives the attempt back', () => {
    const t = new JobTracker<string>(['a', 'b', 'c', 'd'])
    t.assign('a', 'w1')
    t.assign('b', 'w1')
    t.assign('c', 'w2')
    t.assign('d', 'w1')
    t.complete('d', 'w1', 'D')
    expect(t.workerLost('w1')).toEqual(['a', 'b'])
    expect(t.get('a')).toMatchObject({ status: 'pending', attempts: 0 })
    expect(t.get('c')).toMatchObject({ status: 'running', attempts: 1 })
    expect(t.get('d').status).toBe('done')
    expect(t.pending()).toEqual(['a', 'b'])
    expect(t.inFlightOn('w1')).toBe(0)
    expect(t.requeued).toBe(2)
    expect(t.workerLost('w1')).toEqual([])
    expect(t.workerLost('nobody')).toEqual([])
    expect(t.requeued).toBe(2)
  })

  it('losing workers never spends attempts: a task can be lost many times and still run', () => {
    const t = new JobTracker<string>(['a'], { maxAttempts: 2 })
    for (let i = 0; i < 10; i++) {
      t.assign('a', `w${i}`)
      t.workerLost(`w${i}`)
    }
    expect(t.get('a')).toMatchObject({ status: 'pending', attempts: 0 })
    t.assign('a', 'x')
    t.fail('a', 'x', err)
    expect(t.get('a').status).toBe('pending')
  })

  it('backups: with two copies running, losing one keeps the task running', () => {
    const t = new JobTracker<string>(['a'])
    t.assign('a', 'w1')
    t.assign('a', 'w2')
    expect(t.get('a').runningOn).toEqual(new Set(['w1', 'w2']))
    expect(t.running().map(s => s.id)).toEqual(['a'])
    expect(t.workerLost('w1')).toEqual([])
    expect(t.get('a').status).toBe('running')
    expect(t.pending()).toEqual([])
    expect(t.complete('a', 'w2', 'A')).toBe(true)
    expect(t.finished).toBe(true)
  })

  it('backups: a failing copy does not re-queue while another copy runs', () => {
    const t = new JobTracker<string>(['a'], { maxAttempts: 2 })
    t.assign('a', 'w1')
    t.assign('a', 'w2')
    t.fail('a', 'w1', err)
    expect(t.get('a')).toMatchObject({ status: 'running', lastError: err })
    expect(t.pending()).toEqual([])
    t.fail('a', 'w2', err)
    expect(t.get('a').status).toBe('failed')
  })

  it('backups: the first result wins, the second is a duplicate', () => {
    const t = new JobTracker<string>(['a'])
    t.assign('a', 'w1')
    t.assign('a', 'w2')
    expect(t.complete('a', 'w2', 'from w2')).toBe(true)
    expect(t.complete('a', 'w1', 'from w1')).toBe(false)
    expect(t.done).toBe(1)
    expect(t.get('a')).toMatchObject({ doneBy: 'w2', output: 'from w2' })
  })

  it('its indexes answer as a scan of every task would, through 400 operations with saves and restores', () => {
    // the tracker keeps per-worker, pending and running indexes (a tick must not scan a job of 100,000 tasks)
    let seed = 7
    const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
    let t = new JobTracker<string>(Array.from({ length: 40 }, (_, i) => `t${i}`))
    const workers = ['w0', 'w1', 'w2', 'w3', 'w4']
    const ids = (): string[] => Array.from({ length: t.total }, (_, i) => i < 40 ? `t${i}` : `p${i}`)
    const check = (): void => {
      const all = ids().map(id => t.get(id))
      expect(t.pending()).toEqual(all.filter(x => x.status === 'pending').map(x => x.id))
      expect(t.running().map(x => x.id)).toEqual(all.filter(x => x.status === 'running').map(x => x.id))
      for (const w of workers) expect(t.inFlightOn(w)).toBe(all.filter(x => x.runningOn.has(w)).length)
      expect(t.failed?.id).toBe(all.find(x => x.status === 'failed')?.id)
    }
    for (let i = 0; i < 400; i++) {
      const id = ids()[next(t.total)]
      const w = workers[next(workers.length)]
      switch (next(7)) {
        case 0: t.assign(id, w); break
        case 1: t.complete(id, w, id); break
        case 2: t.fail(id, w, err); break
        case 3: t.release(id, w); break
        case 4: t.workerLost(w); break
        case 5: if (t.total < 60) t.add(`p${t.total}`); break
        case 6: t = JobTracker.fromState<string>(t.toState()); break
      }
      check()
    }
  })
})

