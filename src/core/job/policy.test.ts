import * as dagCbor from '@ipld/dag-cbor'
import { describe, expect, it } from 'vitest'
import { encodeBatch, encodeOutputs } from '../protocol/batch.js'
import { ectScheduler } from '../scheduler/ect-scheduler.js'
import { TaskTimeEstimator } from '../scheduler/estimates.js'
import { POLICY } from '../scheduler/policy-config.js'
import { PROGRESS_EVERY_MS } from '../protocol/task.js'
import { testCaps } from '../test-support.js'
import { JobPolicy, PAUSED_BY_PERSON, SAVED_FIELDS } from './policy.js'
import { fromPlain } from './plain.js'
import type { Plain } from './plain.js'
import type { JobState } from './policy.js'
import type { JobAction, JobPolicyOptions, RoomView, TaskSpec } from './types.js'

/**
 * The job policy alone, on an injected clock: every event carries its
 * time, so what the policy decides at a time is exact, whatever the
 * machine's load (src/peer/batch-run.test.ts drives it through the runner
 * and real worker services on the wall clock).
 */

const FN = 'bafkreifakefunction'

function room (ids: readonly string[], over: Partial<RoomView['self']> = {}): RoomView {
  return {
    self: { caps: testCaps(), consent: false, ...over },
    members: ids.map(id => ({ id, caps: testCaps(), verified: true, consent: true, load: 0, cache: [FN] }))
  }
}

function task (n: number, items?: number): TaskSpec {
  const input = items == null
    ? { bytes: new Uint8Array([n, 1, 2, 3]) }
    : { bytes: encodeBatch(Array.from({ length: items }, (_, i) => ({ params: new Uint8Array([n]), data: new Uint8Array([i]) }))) }
  return {
    id: `t${n}`, fnCid: FN, entry: 'run', input, params: new Uint8Array(0),
    requirement: { runtime: 'wasm', memoryPages: 1 }, limits: { memoryPages: 1, timeoutMs: 30_000 }, ...(items != null ? { items } : {})
  }
}

function policy (specs: readonly TaskSpec[], options: JobPolicyOptions = {}): JobPolicy {
  const estimator = new TaskTimeEstimator()
  return new JobPolicy({ selfId: 'owner', scheduler: ectScheduler({ estimator }), estimator }, specs, options)
}

const sends = (actions: readonly JobAction[]): Array<{ taskId: string, workerId: string }> =>
  actions.flatMap(a => a.type === 'send' ? [{ taskId: a.spec.id, workerId: a.workerId }] : [])
const events = (actions: readonly JobAction[]): string[] =>
  actions.flatMap(a => a.type === 'progress' ? [a.event.type] : [])
const byteOut = (n: number): Uint8Array => new Uint8Array([n, 9])

describe('the job policy on an injected clock', () => {
  it('places every task on the first tick, finishes on the results, and reports each task once', () => {
    const p = policy([task(1), task(2), task(3)], { backups: false })
    const first = sends(p.tick(0, room(['a', 'b', 'c'])))
    expect(first.map(s => s.taskId).sort()).toEqual(['t1', 't2', 't3'])
    expect(new Set(first.map(s => s.workerId)).size).toBe(3)
    const done: string[] = []
    for (const [i, s] of first.entries()) {
      for (const a of p.result(s.taskId, s.workerId, { output: byteOut(i), ms: 100 }, 100 + i)) if (a.type === 'done') done.push(a.taskId)
      p.copyEnded(s.taskId, s.workerId)
    }
    expect(done.sort()).toEqual(['t1', 't2', 't3'])
    expect(p.finished).toBe(true)
    expect([...p.outcomes().keys()]).toEqual(['t1', 't2', 't3'])
  })

  it('refuses a job nobody can run, or pauses it with the reason when asked to wait', () => {
    const gpu = { ...task(1), requirement: { runtime: 'wasm' as const, memoryPages: 1, capabilities: ['webgpu' as const] } }
    expect(() => policy([gpu]).tick(0, room(['a']))).toThrow(/webgpu|WebGPU/i)
    const waiting = policy([gpu], { waitForWorkers: true })
    const acts = waiting.tick(0, room(['a']))
    expect(events(acts)).toEqual(['paused'])
    expect(sends(acts)).toEqual([])
  })

  it('sends nothing while the person pauses, says so once, and resumes', () => {
    const p = policy([task(1)], { backups: false })
    const a = p.tick(0, room(['a']), true)
    expect(a).toEqual([{ type: 'progress', event: { type: 'paused', reason: PAUSED_BY_PERSON } }])
    expect(p.tick(250, room(['a']), true)).toEqual([])
    const b = p.tick(500, room(['a']))
    expect(events(b)).toEqual(['resumed', 'dispatched'])
    expect(sends(b)).toEqual([{ taskId: 't1', workerId: 'a' }])
  })

  it('a lost copy goes back to pending without spending an attempt, and its worker sits out a back-off', () => {
    const p = policy([task(1)], { backups: false })
    const [s] = sends(p.tick(0, room(['a'])))
    const lost = p.failed(s.taskId, s.workerId, { code: 'ERR_WORKER_LOST', message: 'worker a left', lost: true }, 10)
    p.copyEnded(s.taskId, s.workerId)
    expect(events(lost)).toEqual(['requeued'])
    // backed off: not offered until POLICY.backOffFirstMs has passed
    expect(() => p.tick(10 + POLICY.backOffFirstMs - 1, room(['a']))).toThrow()
    expect(sends(p.tick(10 + POLICY.backOffFirstMs, room(['a'])))).toEqual([{ taskId: 't1', workerId: 'a' }])
  })

  it('a task that fails three times fails the job with its code and message', () => {
    const p = policy([task(1)], { backups: false })
    for (let i = 0; i < 3; i++) {
      const [s] = sends(p.tick(i * 1000, room(['a'])))
      p.failed(s.taskId, s.workerId, { code: 'ERR_FUNCTION_FAILED', message: 'trap: unreachable', lost: false }, i * 1000 + 1)
      p.copyEnded(s.taskId, s.workerId)
    }
    expect(p.error()?.message).toMatch(/t1 failed 3 times: trap: unreachable/)
  })

  it('cuts a batch copy whose worker falls silent after its last reported item, exactly when the quiet period passes', () => {
    const p = policy([task(1, 8), task(2, 8)], { backups: true })
    const placed = sends(p.tick(0, room(['a', 'b'])))
    const onA = placed.find(s => s.workerId === 'a')
    expect(onA).toBeDefined()
    const id = onA?.taskId as string
    // a starts and reports two items, then nothing
    p.progress(id, 'a', { done: 0 }, 10)
    p.progress(id, 'a', { done: 2, from: 0, outputs: encodeOutputs([byteOut(0), byteOut(1)]) }, 500)
    const quietMs = POLICY.quietCutReports * PROGRESS_EVERY_MS
    const other = placed.find(s => s.workerId === 'b')?.taskId as string
    const alive = (t: number): void => { p.progress(other, 'b', { done: 1 }, t) }
    alive(500 + quietMs)
    expect(p.tick(500 + quietMs, room(['a', 'b'])).filter(a => a.type === 'cut')).toEqual([])
    alive(501 + quietMs)
    const acts = p.tick(501 + quietMs, room(['a', 'b']))
    // kept: the two reported items and the one it is on; the rest is a piece of its own
    expect(acts.filter(a => a.type === 'cut')).toEqual([{ type: 'cut', taskId: id, workerId: 'a', at: 3 }])
    const split = acts.find(a => a.type === 'progress' && a.event.type === 'split')
    expect(split).toMatchObject({ event: { taskId: id, pieceId: `${id}~3`, from: 'a', to: '', items: 5 } })
    // once per copy
    expect(p.tick(2000, room(['a', 'b'])).filter(a => a.type === 'cut')).toEqual([])
  })

  it('the first result wins: the other copies are stopped, and their ends are no failure', () => {
    const p = policy([task(1)])
    // a room that holds the job three times over starts it three times (twins)
    const placed = sends(p.tick(0, room(['a', 'b', 'c'])))
    expect(placed.map(s => s.taskId)).toEqual(['t1', 't1', 't1'])
    const [win, ...rest] = placed
    const acts = p.result('t1', win.workerId, { output: byteOut(1), ms: 50 }, 60)
    expect(acts.filter(a => a.type === 'stop').map(a => a.type === 'stop' && a.workerId).sort()).toEqual(rest.map(s => s.workerId).sort())
    for (const s of rest) expect(events(p.failed('t1', s.workerId, { code: 'ERR_ABORTED', message: 'another copy finished first', lost: true }, 61))).toEqual([])
    expect(p.error()).toBeUndefined()
    expect(p.finished).toBe(true)
  })

  it('a quorum job accepts a result only when two workers agree, and names the liar', () => {
    const p = policy([task(1)], { quorum: 2 })
    const placed = sends(p.tick(0, room(['a', 'b', 'c'])))
    expect(placed).toHaveLength(2)
    p.result('t1', placed[0].workerId, { output: byteOut(1), ms: 10, digest: 'aa' }, 10)
    const second = p.result('t1', placed[1].workerId, { output: byteOut(2), ms: 10, digest: 'bb' }, 11)
    expect(second.some(a => a.type === 'done')).toBe(false)
    const third = sends(p.tick(20, room(['a', 'b', 'c'])))
    expect(third).toEqual([{ taskId: 't1', workerId: 'c' }])
    const agreed = p.result('t1', 'c', { output: byteOut(1), ms: 10, digest: 'aa' }, 30)
    expect(agreed.some(a => a.type === 'done')).toBe(true)
    expect(agreed.some(a => a.type === 'progress' && a.event.type === 'liar' && a.event.workerId === placed[1].workerId)).toBe(true)
  })

  it('a copy whose input is still arriving is neither copied nor cut while its worker says so; its clock starts when it starts', () => {
    // the function is known to take 100 ms on every worker: an unstarted copy is late after about 150–250 ms
    const run = (arrivingReports: boolean): { copied: number, cut: number } => {
      const p = policy([task(1, 6), task(2, 6), task(3), task(4)], { backups: true })
      p.deps.estimator.observe('a', testCaps(), FN, 100, 1)
      p.deps.estimator.observe('b', testCaps(), FN, 100, 1)
      p.deps.estimator.observe('c', testCaps(), FN, 100, 1)
      const placed = sends(p.tick(0, room(['a', 'b'])))
      const onA = placed.filter(s => s.workerId === 'a')
      let copied = 0
      let cut = 0
      // 'a' fetches a large input for 4 s, saying so every report period; 'b' works on
      for (let t = 100; t <= 4000; t += 100) {
        if (arrivingReports && t % PROGRESS_EVERY_MS === 0) for (const s of onA) p.progress(s.taskId, 'a', { done: 0, phase: 'input' }, t)
        for (const s of placed.filter(s => s.workerId === 'b')) p.progress(s.taskId, 'b', p.spec(s.taskId).range == null ? undefined : { done: 1 }, t)
        const acts = p.tick(t, room(['a', 'b', 'c']))
        copied += acts.filter(a => a.type === 'send' && onA.some(s => s.taskId === a.spec.id || a.spec.root === s.taskId)).length
        cut += acts.filter(a => a.type === 'cut' && a.workerId === 'a').length
      }
      return { copied, cut }
    }
    expect(run(true)).toEqual({ copied: 0, cut: 0 })
    // the same worker saying nothing: its copies are given up on and sent elsewhere
    const silent = run(false)
    expect(silent.copied + silent.cut).toBeGreaterThan(0)
  })

  it('a copy whose input keeps arriving past its expected fetch is late: the tail copies it elsewhere; a link measured slow gets longer', () => {
    // one task on 'a', whose worker says for ever that its input is arriving (a slow link); 'b' joins idle
    const run = (aFetchMs?: number): number | undefined => {
      const p = policy([task(1)], { backups: true })
      p.deps.estimator.observe('b', testCaps(), FN, 100, 1)
      // 'a' runs it in 5 s once it has it: a copy on 'b' would end far sooner
      p.deps.estimator.observe('a', testCaps(), FN, 5000, 1)
      if (aFetchMs != null) p.deps.estimator.observeFetch('a', aFetchMs)
      const [s] = sends(p.tick(0, room(['a'])))
      expect(s).toEqual({ taskId: 't1', workerId: 'a' })
      p.progress('t1', 'a', { done: 0, phase: 'input' }, 0)
      for (let t = 100; t <= 60_000; t += 100) {
        if (t % PROGRESS_EVERY_MS === 0) p.progress('t1', 'a', { done: 0, phase: 'input' }, t)
        if (sends(p.tick(t, room(['a', 'b']))).some(x => x.taskId === 't1' && x.workerId === 'b')) return t
      }
      return undefined
    }
    // unmeasured: 3 × one report period of expected fetch, plus 4 s of grace
    const unknown = run()
    expect(unknown).toBeGreaterThan(3 * PROGRESS_EVERY_MS + POLICY.arrivalGraceReports * PROGRESS_EVERY_MS - 200)
    expect(unknown).toBeLessThanOrEqual(3 * PROGRESS_EVERY_MS + POLICY.arrivalGraceReports * PROGRESS_EVERY_MS + 300)
    // a worker whose fetches were measured at 10 s is waited for about three times that
    const slow = run(10_000)
    expect(slow).toBeGreaterThan(30_000)
    expect(slow).toBeLessThanOrEqual(35_000)
  })

  it('a suspect\'s batch copy that never reported an item (its input still arriving past its allowance) is cut after its first item, not copied whole', () => {
    // ten batch tasks on one worker: most stay pending while its first copy fetches
    const p = policy(Array.from({ length: 10 }, (_, i) => task(i + 1, 8)), { backups: true })
    p.deps.estimator.observe('a', testCaps(), FN, 100, 1)
    const first = sends(p.tick(0, room(['a'])))
    expect(first.length).toBeGreaterThan(0)
    const id = first[0].taskId
    for (let t = 100; t <= 30_000; t += 100) {
      if (t % PROGRESS_EVERY_MS === 0) for (const s of first) p.progress(s.taskId, 'a', { done: 0, phase: 'input' }, t)
      const acts = p.tick(t, room(['a']))
      const cut = acts.find(a => a.type === 'cut' && a.taskId === id)
      if (cut == null) continue
      // not before the input's allowance: 3 × an unmeasured fetch (one report period) + 4 s
      expect(t).toBeGreaterThan(3 * PROGRESS_EVERY_MS + POLICY.arrivalGraceReports * PROGRESS_EVERY_MS)
      expect(cut).toEqual({ type: 'cut', taskId: id, workerId: 'a', at: 1 })
      expect(acts.find(a => a.type === 'progress' && a.event.type === 'split')).toMatchObject({ event: { taskId: id, pieceId: `${id}~1`, from: 'a', to: '', items: 7 } })
      expect(events(acts)).not.toContain('backup')
      return
    }
    expect.unreachable('the copy was never cut')
  })

  it('in an idle tail, a batch task whose lone copy still receives its input keeps its first item there and the rest is spread, not copied whole', () => {
    const p = policy([task(1, 8)], { backups: true })
    for (const w of ['a', 'b', 'c', 'd']) p.deps.estimator.observe(w, testCaps(), FN, 100, 1)
    expect(sends(p.tick(0, room(['a'])))).toEqual([{ taskId: 't1', workerId: 'a' }])
    p.progress('t1', 'a', { done: 0, phase: 'input' }, 100)
    // three idle workers join while 'a' says its input is arriving
    const acts = p.tick(200, room(['a', 'b', 'c', 'd']))
    expect(acts.filter(a => a.type === 'cut')).toEqual([{ type: 'cut', taskId: 't1', workerId: 'a', at: 1 }])
    expect(acts.find(a => a.type === 'progress' && a.event.type === 'split')).toMatchObject({ event: { taskId: 't1', pieceId: 't1~1', from: 'a', to: '', items: 7 } })
    expect(events(acts)).not.toContain('backup')
    // the rest goes out to the idle workers, not back to 'a'
    const next = sends(p.tick(300, room(['a', 'b', 'c', 'd'])))
    expect(next.length).toBeGreaterThan(0)
    expect(next.every(s => s.workerId !== 'a')).toBe(true)
  })

  it('learns a worker\'s fetch time from its input reports, and counts it in the start a copy is due', () => {
    const p = policy([task(1)], { backups: false })
    expect(sends(p.tick(0, room(['a'])))).toEqual([{ taskId: 't1', workerId: 'a' }])
    // its input reports stop at 1.5 s, then it starts
    for (const t of [500, 1000, 1500]) p.progress('t1', 'a', { done: 0, phase: 'input' }, t)
    p.progress('t1', 'a', undefined, 1700)
    expect(p.deps.estimator.fetchMs('a')).toBe(1500)
    // another worker never measured gets the room's typical fetch
    expect(p.deps.estimator.fetchMs('z')).toBeCloseTo(1500, 0)
  })

  it('an input by CID sized by the caller (inputBytes) is placed largest first, and its time scales with its size', () => {
    const byCid = (n: number, inputBytes?: number): TaskSpec => ({ ...task(n), input: { cid: `bafkreiinput${n}` }, ...(inputBytes != null ? { inputBytes } : {}) })
    const p = policy([byCid(1, 1000), byCid(2, 4000), byCid(3, 2000)], { backups: false })
    // measured (no probe, which would take the smallest), one slot of two tasks: the largest go first
    p.deps.estimator.observe('a', testCaps({ slots: 1 }), FN, 100, 1)
    const first = sends(p.tick(0, { ...room([]), members: [{ id: 'a', caps: testCaps({ slots: 1 }), verified: true, consent: true, load: 0, cache: [FN] }] }))
    expect(first.map(s => s.taskId)).toEqual(['t2', 't3'])
    expect(p.scale(p.spec('t3'))).toBeCloseTo(p.scale(p.spec('t1')) * 2, 6)
    // unsized: in the order given
    const q = policy([byCid(1), byCid(2), byCid(3)], { backups: false })
    q.deps.estimator.observe('a', testCaps({ slots: 1 }), FN, 100, 1)
    expect(sends(q.tick(0, { ...room([]), members: [{ id: 'a', caps: testCaps({ slots: 1 }), verified: true, consent: true, load: 0, cache: [FN] }] })).map(s => s.taskId)).toEqual(['t1', 't2'])
  })

  it('with keepOutputs off, an output goes out with its done action and is not kept (a batch task\'s items too)', () => {
    const big = (n: number): Uint8Array => new Uint8Array(10_000).fill(n)
    const run = (keepOutputs: boolean): { outs: Map<string, Uint8Array>, p: JobPolicy } => {
      const p = policy([task(1), task(2, 2)], { backups: false, keepOutputs })
      const outs = new Map<string, Uint8Array>()
      for (const s of sends(p.tick(0, room(['a', 'b'])))) {
        const r = s.taskId === 't1' ? { output: big(1), ms: 5 } : { output: encodeOutputs([big(10), big(11)]), ms: 5, from: 0, to: 2 }
        for (const a of p.result(s.taskId, s.workerId, r, 10)) if (a.type === 'done') outs.set(a.taskId, a.outcome.output)
        p.copyEnded(s.taskId, s.workerId)
      }
      return { outs, p }
    }
    const kept = run(true)
    const dropped = run(false)
    // the caller gets the same outputs either way
    expect(dropped.outs).toEqual(kept.outs)
    expect(dropped.outs.get('t2')).toEqual(encodeOutputs([big(10), big(11)]))
    expect(dropped.p.finished).toBe(true)
    for (const o of dropped.p.outcomes().values()) expect(o.output.byteLength).toBeLessThan(64)
    expect(dagCbor.encode(dropped.p.snapshot()).byteLength).toBeLessThan(5_000)
    expect(dagCbor.encode(kept.p.snapshot()).byteLength).toBeGreaterThan(30_000)
  })

  it('a streaming job takes tasks while it runs and ends only when its source is closed', () => {
    const p = policy([], { streaming: true, backups: false })
    expect(sends(p.tick(0, room(['a'])))).toEqual([])
    p.submit(task(1))
    const [s] = sends(p.tick(10, room(['a'])))
    p.result(s.taskId, s.workerId, { output: byteOut(1), ms: 5 }, 20)
    p.copyEnded(s.taskId, s.workerId)
    expect(p.finished).toBe(false)
    p.closeSource()
    expect(p.finished).toBe(true)
    expect(() => { p.submit(task(1)) }).toThrow(/given twice/)
  })
})

interface Copy { taskId: string, workerId: string, from?: number, to?: number }

/**
 * A scripted world for steps `from` to `to` of a job on three workers: at
 * each step a tick; copies the policy stops end at once, cuts shorten
 * their copy; then the oldest copy in flight (`sent`, the world's record,
 * carried across a restore) reports an item, and every third step ends
 * with its result. Returns each step's actions.
 */
function drive (p: JobPolicy, sent: Copy[], from: number, to: number): JobAction[][] {
  const out: JobAction[][] = []
  const view = room(['a', 'b', 'c'])
  const find = (taskId: string, workerId: string): number => sent.findIndex(c => c.taskId === taskId && c.workerId === workerId)
  const apply = (acts: JobAction[], t: number): void => {
    for (let i = 0; i < acts.length; i++) {
      const a = acts[i]
      if (a.type === 'send') sent.push({ taskId: a.spec.id, workerId: a.workerId, from: a.range?.from, to: a.range?.to })
      if (a.type === 'cut') {
        const c = sent[find(a.taskId, a.workerId)]
        if (c?.to != null) c.to = Math.min(c.to, a.at)
      }
      if (a.type === 'stop') {
        sent.splice(find(a.taskId, a.workerId), 1)
        acts.push(...p.failed(a.taskId, a.workerId, { code: 'ERR_ABORTED', message: a.why, lost: true }, t))
        p.copyEnded(a.taskId, a.workerId)
      }
    }
  }
  for (let step = from; step < to; step++) {
    const t = step * 100
    const acts: JobAction[] = [...p.tick(t, view)]
    apply(acts, t)
    const c = sent[0]
    if (c != null) {
      const more = c.from == null
        ? p.progress(c.taskId, c.workerId, undefined, t + 10)
        : p.progress(c.taskId, c.workerId, { done: c.from + 1, from: c.from, outputs: encodeOutputs([byteOut(c.from)]) }, t + 10)
      apply(more, t + 10)
      acts.push(...more)
      if (step % 3 === 2 && sent[0] === c) {
        sent.shift()
        const r = c.from == null || c.to == null
          ? { output: byteOut(step), ms: 90 }
          : { output: encodeOutputs(Array.from({ length: c.to - c.from }, (_, i) => byteOut(c.from! + i))), ms: 90, from: c.from, to: c.to }
        const ended = p.result(c.taskId, c.workerId, r, t + 50)
        p.copyEnded(c.taskId, c.workerId)
        apply(ended, t + 50)
        acts.push(...ended)
      }
    }
    out.push(acts)
  }
  return out
}

describe('a job\'s state is plain data', () => {
  const specs = (): TaskSpec[] => [task(1, 6), task(2), task(3, 4), task(4), task(5)]

  it('encodes to dag-cbor mid-job and back to the same state, byte for byte', () => {
    const p = policy(specs())
    drive(p, [], 0, 7)
    const bytes = dagCbor.encode(p.snapshot())
    const estimator = new TaskTimeEstimator()
    const back = JobPolicy.restore({ selfId: 'owner', scheduler: ectScheduler({ estimator }), estimator }, dagCbor.decode<JobState>(bytes))
    expect(dagCbor.encode(back.snapshot())).toEqual(bytes)
  })

  it('a job restored from its saved state mid-job takes the same decisions as the one that went on', () => {
    const going = policy(specs())
    const after = drive(going, [], 0, 40).slice(7)
    expect(going.finished).toBe(true)

    const saving = policy(specs())
    const sent: Copy[] = []
    drive(saving, sent, 0, 7)
    expect(saving.inflight.size).toBeGreaterThan(0)
    // the device's estimator is not the job's: the restored job goes on with the one that learned alongside
    const restored = JobPolicy.restore(saving.deps, dagCbor.decode<JobState>(dagCbor.encode(saving.snapshot())))
    const replay = drive(restored, sent, 7, 40)
    expect(dagCbor.encode(replay)).toEqual(dagCbor.encode(after))
    expect(restored.finished).toBe(true)
    expect(dagCbor.encode([...restored.outcomes()])).toEqual(dagCbor.encode([...going.outcomes()]))
  })

  it('a snapshot holds every field of the policy and of its parts (a field added and not saved fails here)', () => {
    const p = policy([task(1, 4), task(2)], { quorum: 1 })
    drive(p, [], 0, 4)
    const keys = (o: object): string[] => Object.keys(o).sort()
    const saved = (state: Plain): string[] => Object.keys(fromPlain(state) as object).sort()
    // the policy's own: saved, or a part saved on its own, or given anew on restore (deps, options), or derived
    const parts = ['deps', 'options', 'tracker', 'items', 'clock', 'waiting', 'book', 'quorum', 'quorumFailure', 'out']
    expect(keys(p).filter(k => !parts.includes(k))).toEqual([...SAVED_FIELDS].sort())
    expect(keys(p.tracker)).toEqual(saved(p.tracker.toState()))
    expect(keys(p.items)).toEqual(saved(p.items.toState()))
    expect(keys(p.waiting)).toEqual(saved(p.waiting.toState()))
    // the clock's estimator, its caps lookup and the device's id are given anew
    expect(keys(p.clock).filter(k => !['estimator', 'capsOf', 'selfId'].includes(k))).toEqual(saved(p.clock.toState()))
    const q = policy([task(1)], { quorum: 2 })
    q.tick(0, room(['a', 'b']))
    const book = q.book as NonNullable<JobPolicy['book']>
    expect(keys(book)).toEqual(saved(book.toState()))
  })

  it('refuses a state of another version or shape', () => {
    const p = policy([task(1)])
    expect(() => JobPolicy.restore(p.deps, { ...p.snapshot(), v: 2 } as unknown as JobState)).toThrow(/version 1/)
    expect(() => JobPolicy.restore(p.deps, { ...p.snapshot(), fields: 7 })).toThrow(/must be a map/)
  })
})
