import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WorkerLostError } from '../core/errors.js'
import { decodeOutputs, encodeBatch } from '../core/protocol/batch.js'
import { Registry } from '../core/registry/registry.js'
import { ectScheduler } from '../core/scheduler/ect-scheduler.js'
import { localOnly } from '../core/scheduler/local-only.js'
import { TaskTimeEstimator } from '../core/scheduler/estimates.js'
import { testCaps } from '../core/test-support.js'
import { PAUSED_BY_PERSON, runTasks } from './job-runner.js'
import { WorkerService } from './worker-service.js'
import type { JobEnv, JobProgress, TaskSpec } from './job-runner.js'
import type { FunctionRunner } from './types.js'
import type { TaskRequest } from '../core/protocol/task.js'
import type { BatchControl } from './worker-service.js'
import type { FedraBlocks } from '../storage/blocks.js'
import type { Beat } from '../core/protocol/room.js'

/**
 * The runner and the worker service together, over an in-process link in
 * place of libp2p (the real link is in e2e/): what a batch task does when
 * its worker is slow (split) or is lost (resumed from its reported items).
 * Time is vitest's fake clock (the runner reads it through `Date.now`):
 * the workers' item times and the policy's periods are exact, whatever
 * the machine's load.
 */

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

/** Awaits a job on the fake clock: time moves on, 10 ms at a time, only once all that can happen now has. */
async function onClock<T> (job: Promise<T>, limitMs = 600_000): Promise<T> {
  let settled = false
  job.then(() => { settled = true }, () => { settled = true })
  for (let t = 0; !settled && t < limitMs; t += 10) await vi.advanceTimersByTimeAsync(10)
  return await job
}

const FN = 'bafkreifakefunction'
const sleep = async (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms)
  signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason) }, { once: true })
})

/** The function: item output = params ++ reversed data. */
const expected = (params: Uint8Array, data: Uint8Array): Uint8Array => new Uint8Array([...params, ...[...data].reverse()])

interface FakeWorker {
  service: WorkerService
  /** Items run, by `${task}#${index}` (index = the item's first data byte). */
  ran: string[]
  /** Ends the worker: its runs fail as a vanished peer's do. */
  die?: AbortController
  silent?: boolean
}

/** Inputs sent by CID: the workers fetch them from here, each after its `inputMs`. */
const stored = new Map<string, Uint8Array>()

/** `standby` workers join the room when a worker dies (a late joiner, as in churn). */
function room (workers: Record<string, { itemMs: number, inputMs?: number, dieAfterItems?: number, silentAfterItems?: number, standby?: boolean }>): { env: JobEnv, fakes: Map<string, FakeWorker> } {
  const registry = new Registry()
  const fakes = new Map<string, FakeWorker>()
  const controls = new Map<string, BatchControl>()
  const lost = new Set<(id: string) => void>()
  const standby: Beat[] = []
  let seq = 0
  for (const [id, w] of Object.entries(workers)) {
    const fake: FakeWorker = { service: undefined as unknown as WorkerService, ran: [] }
    if (w.dieAfterItems != null) fake.die = new AbortController()
    const runner: FunctionRunner = {
      run: async (task, options) => {
        options?.onStart?.()
        const signal = AbortSignal.any([options?.signal ?? new AbortController().signal, ...(fake.die != null ? [fake.die.signal] : [])])
        // a worker gone silent (a hung tab, a dead link the stream has not noticed): no more items, no more reports
        if (w.silentAfterItems != null && fake.ran.length >= w.silentAfterItems) { fake.silent = true; await sleep(3_600_000, signal) }
        await sleep(w.itemMs, signal)
        fake.ran.push(`${task.params[0]}#${task.input[0]}`)
        if (w.dieAfterItems != null && fake.ran.length >= w.dieAfterItems) {
          // the peer vanishes: its stream fails, the room notices
          fake.die?.abort(new WorkerLostError(`worker ${id} left`))
          registry.remove(id, 'disconnected')
          for (const fn of lost) fn(id)
          for (const b of standby) { registry.applyBeat(b, Date.now()); registry.markVerified(b.id) }
          throw new WorkerLostError(`worker ${id} left`)
        }
        return { output: expected(task.params, task.input), ms: w.itemMs }
      }
    }
    const blocks = {
      get: async (cid: string, options: { signal: AbortSignal }) => {
        await sleep(w.inputMs ?? 0, options.signal)
        return stored.get(cid) ?? new Uint8Array(0)
      }
    }
    fake.service = new WorkerService({ blocks: blocks as unknown as FedraBlocks, runner })
    fake.service.functions.set(FN, new Uint8Array([0]))
    fakes.set(id, fake)
    const beat: Beat = { v: 1, t: 'beat', id, seq: seq++, addrs: [], caps: testCaps(), consent: true, load: { queued: 0, running: 0 }, cache: [FN], name: id }
    if (w.standby === true) { standby.push(beat); continue }
    registry.applyBeat(beat, Date.now())
    registry.markVerified(id)
  }
  const estimator = new TaskTimeEstimator()
  const env: JobEnv = {
    selfId: 'submitter',
    registry,
    scheduler: ectScheduler({ estimator }),
    estimator,
    selfCaps: () => testCaps(),
    selfConsent: () => false,
    runLocal: async () => { throw new Error('the submitter does not volunteer here') },
    submitRemote: async (peerId, req, signal, onProgress) => {
      const fake = fakes.get(peerId)
      if (fake == null || fake.die?.signal.aborted === true) throw new WorkerLostError(`no worker ${peerId}`)
      const control: BatchControl = {}
      controls.set(`${peerId}/${req.id}`, control)
      const s = fake.die != null ? AbortSignal.any([signal, fake.die.signal]) : signal
      try {
        const r = await fake.service.handle({ v: 1, t: 'task', ...req }, s, p => {
          if (fake.silent === true) return
          onProgress?.({ v: 1, t: 'progress', id: req.id, done: p?.done ?? 0, total: p?.total ?? 1, ...(p?.outputs != null ? { from: p.from, outputs: p.outputs } : {}), ...(p?.phase != null ? { phase: p.phase } : {}) })
        }, control)
        return { v: 1, t: 'result', id: req.id, output: r.output, ms: r.ms, from: r.from, to: r.to }
      } finally {
        controls.delete(`${peerId}/${req.id}`)
      }
    },
    cutRemote: (peerId, taskId, at) => {
      const c = controls.get(`${peerId}/${taskId}`)
      if (c != null) c.cutAt = Math.min(c.cutAt ?? at, at)
    },
    fetchOutput: async ref => { if ('bytes' in ref) return ref.bytes; throw new Error('outputs stay inline here') },
    moduleBytes: () => undefined,
    onPeerLost: fn => { lost.add(fn); return () => { lost.delete(fn) } }
  }
  return { env, fakes }
}

function batchTask (n: number, items: number): { spec: TaskSpec, want: Uint8Array[] } {
  const list = Array.from({ length: items }, (_, i) => ({ params: new Uint8Array([n]), data: new Uint8Array([i, 100 + n, 7]) }))
  return {
    spec: {
      id: `task-${n}`, fnCid: FN, entry: 'run', input: { bytes: encodeBatch(list) }, params: new Uint8Array(0),
      requirement: { runtime: 'wasm', memoryPages: 1 }, limits: { memoryPages: 1, timeoutMs: 30_000 }, items
    },
    want: list.map(x => expected(x.params, x.data))
  }
}

describe('batch tasks through the runner and the worker service', () => {
  it('cuts the slow worker\'s task in the tail and sends its last items to the idle one; every item once in the output', async () => {
    const { env, fakes } = room({ fast: { itemMs: 10 }, slow: { itemMs: 120 } })
    const jobs = [batchTask(1, 24), batchTask(2, 24)]
    const events: JobProgress[] = []
    const out = await onClock(runTasks(env, 'job', jobs.map(j => j.spec), { onProgress: e => events.push(e), backups: true }))
    for (const j of jobs) expect(decodeOutputs((out.get(j.spec.id) as { output: Uint8Array }).output, 24)).toEqual(j.want)
    const splits = events.filter(e => e.type === 'split')
    expect(splits.length).toBeGreaterThan(0)
    for (const s of splits) expect(s).toMatchObject({ from: 'slow', to: 'fast' })
    // the slow worker stopped at its cut: it ran far fewer than its task's 24 items
    const slowRan = fakes.get('slow')?.ran.length ?? 0
    expect(slowRan).toBeLessThan(24)
    expect(slowRan + (fakes.get('fast')?.ran.length ?? 0)).toBeLessThan(2 * 24 + 4)
  })

  it('never splits when asked not to, and the output is the same', async () => {
    const { env } = room({ fast: { itemMs: 5 }, slow: { itemMs: 40 } })
    const j = batchTask(3, 12)
    const events: JobProgress[] = []
    const out = await onClock(runTasks(env, 'job', [j.spec], { onProgress: e => events.push(e), split: false, backups: false }))
    expect(decodeOutputs((out.get(j.spec.id) as { output: Uint8Array }).output, 12)).toEqual(j.want)
    expect(events.filter(e => e.type === 'split')).toHaveLength(0)
  })

  it('resumes a lost worker\'s task at its first item not reported: the items it sent are not run again', async () => {
    // the flaky worker reports its items every 500 ms and vanishes after 14;
    // the steady one joins then (a late joiner) and takes what is left
    const { env, fakes } = room({ flaky: { itemMs: 60, dieAfterItems: 14 }, steady: { itemMs: 60, standby: true } })
    const j = batchTask(4, 20)
    const events: JobProgress[] = []
    const out = await onClock(runTasks(env, 'job', [j.spec], { onProgress: e => events.push(e), waitForWorkers: true }))
    expect(decodeOutputs((out.get(j.spec.id) as { output: Uint8Array }).output, 20)).toEqual(j.want)
    const flaky = fakes.get('flaky')?.ran ?? []
    const steady = fakes.get('steady')?.ran ?? []
    expect(flaky).toHaveLength(14)
    expect(events.some(e => e.type === 'requeued')).toBe(true)
    // at least the items of its first report (about 8 by 500 ms) are kept:
    // the steady worker runs only the rest, from the first one missing
    expect(steady.length).toBeLessThanOrEqual(20 - 7)
    expect(steady.length).toBeGreaterThanOrEqual(20 - 14)
    const first = Number(steady[0].split('#')[1])
    expect(steady).toEqual(Array.from({ length: 20 - first }, (_, i) => `4#${first + i}`))
  })

  it('cuts a silent worker\'s task after its last reported item while work is pending: the rest goes elsewhere, its reported items are kept', async () => {
    // four tasks on two workers: the other one is still busy when the silent one is noticed
    const { env, fakes } = room({ hung: { itemMs: 40, silentAfterItems: 15 }, ok: { itemMs: 40 } })
    const jobs = [5, 6, 7, 8].map(n => batchTask(n, 30))
    const events: JobProgress[] = []
    const out = await onClock(runTasks(env, 'job', jobs.map(j => j.spec), { onProgress: e => events.push(e) }))
    for (const j of jobs) expect(decodeOutputs((out.get(j.spec.id) as { output: Uint8Array }).output, 30)).toEqual(j.want)
    const hung = fakes.get('hung')?.ran ?? []
    expect(hung).toHaveLength(15)
    // its report 750 ms late, its task was cut after the last item it reported (the rest back to pending)
    const cuts = events.filter(e => e.type === 'split' && e.from === 'hung' && e.to === '')
    expect(cuts, JSON.stringify(events.filter(e => e.type !== 'task-done'))).toHaveLength(1)
    // the items it reported are in the output as it computed them, not run again
    const owners = out.get(`task-${hung[0].split('#')[0]}`)?.itemWorkers ?? []
    expect(owners.filter(w => w === 'hung').length).toBeGreaterThanOrEqual(8)
  })

  it('a malformed batch or a range past its end fails the task with a clear error, and the worker goes on serving', async () => {
    const { fakes } = room({ w: { itemMs: 1 } })
    const service = (fakes.get('w') as FakeWorker).service
    const req = (input: Uint8Array, range: { from: number, to: number }): TaskRequest => ({
      v: 1, t: 'task', id: 'x', job: 'j', epoch: 0, fn: { cid: FN }, entry: 'run', input: { bytes: input }, params: new Uint8Array(0),
      limits: { memoryPages: 1, timeoutMs: 1000 }, output: 'inline', range
    })
    const signal = new AbortController().signal
    const good = batchTask(7, 3)
    const input = (good.spec.input as { bytes: Uint8Array }).bytes
    await expect(service.handle(req(input.subarray(0, input.length - 2), { from: 0, to: 3 }), signal)).rejects.toMatchObject({ code: 'ERR_INVALID_MESSAGE' })
    await expect(service.handle(req(input, { from: 0, to: 4 }), signal)).rejects.toThrow(/holds 3 items/)
    const r = await onClock(service.handle(req(input, { from: 1, to: 3 }), signal))
    expect(r).toMatchObject({ from: 1, to: 3 })
    expect(decodeOutputs((r.output as { bytes: Uint8Array }).bytes, 2)).toEqual(good.want.slice(1))
  })

  it('a result that covers items it was not sent is refused; the task runs again elsewhere', async () => {
    const { env } = room({ liar: { itemMs: 5 }, honest: { itemMs: 5 } })
    const submit = env.submitRemote
    env.submitRemote = async (peerId, req, signal, onProgress) => {
      const r = await submit(peerId, req, signal, onProgress)
      return peerId === 'liar' ? { ...r, from: 0, to: (r.to ?? 0) + 5 } : r
    }
    const j = batchTask(8, 6)
    const events: JobProgress[] = []
    const out = await onClock(runTasks(env, 'job', [j.spec, batchTask(9, 6).spec], { onProgress: e => events.push(e), split: false }))
    expect(decodeOutputs((out.get(j.spec.id) as { output: Uint8Array }).output, 6)).toEqual(j.want)
    expect(events.some(e => e.type === 'task-failed' && e.workerId === 'liar' && e.code === 'ERR_INVALID_MESSAGE')).toBe(true)
  })
})

describe('a streaming job: tasks that join while it runs', () => {
  const plain = (n: number): TaskSpec => ({
    id: `unit-${n}`, fnCid: FN, entry: 'run', input: { bytes: new Uint8Array([n, 9]) }, params: new Uint8Array([n]),
    requirement: { runtime: 'wasm', memoryPages: 1 }, limits: { memoryPages: 1, timeoutMs: 30_000 }
  })

  it('dispatches each task as the source yields it, reports each once, and ends when the source is closed and all are done', async () => {
    const { env } = room({ a: { itemMs: 15 }, b: { itemMs: 25 } })
    const log: string[] = []
    async function * source (): AsyncGenerator<TaskSpec> {
      for (let n = 0; n < 6; n++) {
        log.push(`yield ${n}`)
        yield plain(n)
        await new Promise(resolve => setTimeout(resolve, 60))
      }
      log.push('closed')
    }
    const done = new Map<string, Uint8Array>()
    const out = await onClock(runTasks(env, 'stream', [], {
      source: source(),
      onProgress: e => { if (e.type === 'dispatched') log.push(`dispatched ${e.taskId}`) },
      onTaskDone: (id, o) => {
        expect(done.has(id)).toBe(false)
        done.set(id, o.output)
        log.push(`done ${id}`)
      }
    }))
    expect([...out.keys()]).toEqual(Array.from({ length: 6 }, (_, n) => `unit-${n}`))
    for (let n = 0; n < 6; n++) {
      expect(out.get(`unit-${n}`)?.output).toEqual(expected(new Uint8Array([n]), new Uint8Array([n, 9])))
      expect(done.get(`unit-${n}`)).toEqual(out.get(`unit-${n}`)?.output)
    }
    // the first task ran while the source was still open (streaming, not collect-then-run)
    expect(log.indexOf('done unit-0')).toBeGreaterThan(-1)
    expect(log.indexOf('done unit-0')).toBeLessThan(log.indexOf('closed'))
    expect(log.indexOf('dispatched unit-0')).toBeLessThan(log.indexOf('yield 1'))
  })

  it('fails the job with the source\'s own error when the source throws', async () => {
    const { env } = room({ a: { itemMs: 5 } })
    async function * source (): AsyncGenerator<TaskSpec> {
      yield plain(0)
      throw new RangeError('the clip ends inside a frame')
    }
    await expect(onClock(runTasks(env, 'broken', [], { source: source() }))).rejects.toThrow('the clip ends inside a frame')
  })

  it('refuses a task id given twice', async () => {
    const { env } = room({ a: { itemMs: 5 } })
    async function * source (): AsyncGenerator<TaskSpec> { yield plain(0); yield plain(0) }
    await expect(onClock(runTasks(env, 'twice', [], { source: source() }))).rejects.toMatchObject({ name: 'InvalidMessageError' })
  })
})

describe('twins: a first round the room can hold twice over', () => {
  const unit = (n: number): TaskSpec => ({
    id: `twin-${n}`, fnCid: FN, entry: 'run', input: { bytes: new Uint8Array([n, 3]) }, params: new Uint8Array([n]),
    requirement: { runtime: 'wasm', memoryPages: 1 }, limits: { memoryPages: 1, timeoutMs: 30_000 }
  })
  const four = (): ReturnType<typeof room> => room({ a: { itemMs: 40 }, b: { itemMs: 40 }, c: { itemMs: 40 }, d: { itemMs: 40 } })
  const copiesOf = (events: JobProgress[], taskId: string): string[] =>
    events.flatMap(e => e.type === 'dispatched' && e.taskId === taskId ? [e.workerId] : [])

  it('starts a task on three workers when four slots are free (POLICY.phaseCopies), two tasks twice each; each done once', async () => {
    const one: JobProgress[] = []
    const out = await onClock(runTasks(four().env, 'one', [unit(1)], { onProgress: e => one.push(e) }))
    expect(out.get('twin-1')?.output).toEqual(expected(new Uint8Array([1]), new Uint8Array([1, 3])))
    expect(new Set(copiesOf(one, 'twin-1')).size).toBe(3)
    expect(one.filter(e => e.type === 'backup')).toHaveLength(2)
    expect(one.filter(e => e.type === 'task-done')).toHaveLength(1)

    const two: JobProgress[] = []
    await onClock(runTasks(four().env, 'two', [unit(1), unit(2)], { onProgress: e => two.push(e) }))
    for (const id of ['twin-1', 'twin-2']) expect(new Set(copiesOf(two, id)).size).toBe(2)
    expect(new Set(two.flatMap(e => e.type === 'dispatched' ? [e.workerId] : [])).size).toBe(4)
  })

  it('starts none with backups off, nor for a streaming job', async () => {
    const off: JobProgress[] = []
    await onClock(runTasks(four().env, 'off', [unit(1)], { onProgress: e => off.push(e), backups: false }))
    expect(copiesOf(off, 'twin-1')).toHaveLength(1)

    // the source stays open until its task is done: no tail either
    const streamed: JobProgress[] = []
    let done = (): void => {}
    const finished = new Promise<void>(resolve => { done = resolve })
    async function * source (): AsyncGenerator<TaskSpec> { yield unit(1); await finished }
    await onClock(runTasks(four().env, 'stream', [], { source: source(), onProgress: e => streamed.push(e), onTaskDone: () => done() }))
    expect(copiesOf(streamed, 'twin-1')).toHaveLength(1)
  })
})

describe('a job the person pauses', () => {
  it('sends nothing while paused, says so once, and resumes where it was', async () => {
    const { env } = room({ a: { itemMs: 10 } })
    let paused = true
    const events: string[] = []
    const specs: TaskSpec[] = Array.from({ length: 3 }, (_, n) => ({
      id: `t${n}`, fnCid: FN, entry: 'run', input: { bytes: new Uint8Array([n]) }, params: new Uint8Array([n]),
      requirement: { runtime: 'wasm', memoryPages: 1 }, limits: { memoryPages: 1, timeoutMs: 30_000 }
    }))
    const job = runTasks(env, 'paused', specs, {
      isPaused: () => paused,
      onProgress: e => { events.push(e.type === 'paused' ? `paused: ${e.reason}` : e.type) }
    })
    await vi.advanceTimersByTimeAsync(600)
    expect(events).toEqual([`paused: ${PAUSED_BY_PERSON}`])
    paused = false
    const out = await onClock(job)
    expect(out.size).toBe(3)
    expect(events[1]).toBe('resumed')
    expect(events.filter(e => e === 'dispatched')).toHaveLength(3)
  })
})

describe('a local-only job', () => {
  it('never sends a copy of its slow tasks to the idle workers of the room', async () => {
    const { env } = room({ fast: { itemMs: 1 } })
    env.selfConsent = () => true
    // slow and silent past the quiet limit: the copy rules would copy it to the idle worker
    env.runLocal = async (req, signal, onProgress) => {
      onProgress?.()
      await sleep(2600, signal)
      return { output: { bytes: req.params }, ms: 2600 }
    }
    const events: JobProgress[] = []
    const specs: TaskSpec[] = Array.from({ length: 2 }, (_, n) => ({
      id: `t${n}`, fnCid: FN, entry: 'run', input: { bytes: new Uint8Array([n]) }, params: new Uint8Array([n]),
      requirement: { runtime: 'wasm', memoryPages: 1 }, limits: { memoryPages: 1, timeoutMs: 30_000 }
    }))
    const out = await onClock(runTasks({ ...env, scheduler: localOnly() }, 'local', specs, { backups: true, onProgress: e => events.push(e) }))
    for (const o of out.values()) expect(o.workerId).toBe('submitter')
    expect(events.filter(e => e.type === 'dispatched').every(e => e.type === 'dispatched' && e.workerId === 'submitter')).toBe(true)
  })
})

describe('a task whose input is still arriving', () => {
  it('is neither copied nor cut while its worker fetches it and says so; the job ends with every output', async () => {
    const { env, fakes } = room({ slow: { itemMs: 100, inputMs: 3000 }, a: { itemMs: 100 }, b: { itemMs: 100 } })
    const specs: TaskSpec[] = Array.from({ length: 6 }, (_, n) => {
      stored.set(`bafkreiinput${n}`, new Uint8Array([n, 7]))
      return {
        id: `t${n}`, fnCid: FN, entry: 'run', input: { cid: `bafkreiinput${n}` }, params: new Uint8Array([n]),
        requirement: { runtime: 'wasm', memoryPages: 1 }, limits: { memoryPages: 1, timeoutMs: 30_000 }
      }
    })
    const events: JobProgress[] = []
    const out = await onClock(runTasks(env, 'slow-input', specs, { onProgress: e => events.push(e), backups: true }))
    for (const [n, s] of specs.entries()) expect(out.get(s.id)?.output).toEqual(expected(new Uint8Array([n]), new Uint8Array([n, 7])))
    // the slow worker's tasks ran there, once: nothing was copied, moved or cut while their inputs arrived
    const slowTasks = events.filter(e => e.type === 'dispatched' && e.workerId === 'slow').map(e => e.type === 'dispatched' ? e.taskId : '')
    expect(slowTasks.length).toBeGreaterThan(0)
    expect(events.filter(e => ((e.type === 'backup' || e.type === 'moved' || e.type === 'split') && slowTasks.includes(e.taskId)) || (e.type === 'requeued' && e.taskIds.some(id => slowTasks.includes(id))))).toEqual([])
    expect((fakes.get('slow') as FakeWorker).ran.length).toBe(slowTasks.length)
  })
})
