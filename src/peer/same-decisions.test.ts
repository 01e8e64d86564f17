import { afterEach, describe, expect, it, vi } from 'vitest'
import { AbortedError } from '../core/errors.js'
import { ectScheduler } from '../core/scheduler/ect-scheduler.js'
import { TaskTimeEstimator } from '../core/scheduler/estimates.js'
import { POLICY } from '../core/scheduler/policy-config.js'
import { PROGRESS_EVERY_MS } from '../core/protocol/task.js'
import { JobDriver, newStats } from '../core/sim/drive.js'
import { PROFILES } from '../core/sim/peers.js'
import { Rng } from '../core/sim/prng.js'
import { taskSpec } from '../core/sim/simulator.js'
import { World } from '../core/sim/world.js'
import { MAP_FN, MAP_REQ } from '../core/sim/workload.js'
import { runTasks } from './job-runner.js'
import type { JobAction, JobPolicyOptions } from '../core/job/types.js'
import type { Registry } from '../core/registry/registry.js'
import type { TaskProgress, TaskResult } from '../core/protocol/task.js'
import type { SimPeer } from '../core/sim/peers.js'
import type { SimCopy, WorldInit } from '../core/sim/world.js'
import type { SimTask } from '../core/sim/workload.js'
import type { JobEnv } from './job-runner.js'

/**
 * One job, one room, two drivers of the one job policy: the runner that
 * browsers and Node peers run (`runTasks`, src/peer/job-runner.ts) and the
 * simulator's (src/core/sim/drive.ts). Both drive the same simulated world
 * (src/core/sim/world.ts): the runner through an in-memory `JobEnv` on
 * vitest's fake timers, each of the world's events a fake timer; the
 * simulator on its own event queue. They must send, stop and cut the same
 * copies, on the same workers, at the same times.
 *
 * Exact, by design of the scenario: fake timers keep whole milliseconds
 * (a delay is truncated) and fire a 0 ms timer set during a tick 1 ms
 * late, so every time in this world is a whole number of ms and no event
 * follows another at no delay (round trips are even, items and downloads
 * take whole ms, the run-to-run noise is off, the submitter does not
 * volunteer: its own copies would reach it at no delay). Timers due at the
 * same time fire in the order they were set, as the simulator's queue
 * pops them: so the order of events, not only their times, is the same.
 */

const SELF = { id: 'owner', caps: { ...PROFILES[1].caps, runtimes: ['wasm' as const], videoDecode: [], videoEncode: [] }, consent: false }
/** A silent leaver is dropped by the registry this long after it left, ms. */
const DETECT_MS = 1000

/** Four workers: two fast of two slots (the second leaves silently mid-job), a slower one, and one eight times slower. */
function room (): SimPeer[] {
  const worker = (idx: number, slots: number, speed: number, rttMs: number, leaveAt = Infinity): SimPeer => ({
    id: `w${idx}`, idx, profile: 'laptop', caps: { ...SELF.caps, slots }, speed, rttMs, bandwidthBps: 100_000,
    joinAt: 0, leaveAt, cleanLeave: false, straggler: false, liar: false, self: false
  })
  return [worker(0, 2, 1, 20), worker(1, 2, 1, 30, 1500), worker(2, 1, 0.5, 40), worker(3, 1, 0.125, 50)]
}

/**
 * A dozen tasks: eight batch tasks of 8 items of 100 ms (at speed 1), four
 * whole ones of 400 ms; each input 1,000 bytes (10 ms to fetch), the
 * function's module 2,000 (pushed with a worker's first tasks: 20 ms).
 */
function tasks (): SimTask[] {
  return Array.from({ length: 12 }, (_, n): SimTask => ({
    id: `t${n}`, n, phase: 'map', functionCid: MAP_FN, functionBytes: 2000, requirement: MAP_REQ,
    inputCids: [`in:${n}`], inputBytes: [1000], ...(n < 8 ? { workMs: 800, items: 8 } : { workMs: 400 })
  }))
}

function worldInit (): WorldInit {
  return { rng: new Rng(1), progressMs: PROGRESS_EVERY_MS, partialOutputs: true, detectMs: DETECT_MS, jitter: 0 }
}

/** The options `runTasks` gives its policy when called with none. */
const RUNNER_OPTIONS: JobPolicyOptions = { backups: undefined, quorum: undefined, waitForWorkers: undefined, lateBinding: undefined, split: undefined, streaming: false }

/** A decision: when, what, which task on which worker (a send's range, a cut's item, a stop's reason). */
type Decision = [at: number, type: 'send' | 'stop' | 'cut', taskId: string, workerId: string, detail: string]

function simulatorDecisions (): Decision[] {
  const peers = room()
  const world = new World(peers, SELF, worldInit())
  const estimator = new TaskTimeEstimator()
  const out: Decision[] = []
  const stopped = new Set<string>()
  const record = (a: JobAction, at: number): void => {
    if (a.type === 'send') {
      stopped.delete(`${a.spec.id}@${a.workerId}`)
      out.push([at, 'send', a.spec.id, a.workerId, a.range == null ? '' : `${a.range.from}-${a.range.to}`])
    } else if (a.type === 'cut') {
      out.push([at, 'cut', a.taskId, a.workerId, String(a.at)])
    } else if (a.type === 'stop' && !stopped.has(`${a.taskId}@${a.workerId}`)) {
      // a copy's stream aborts once, however often it is stopped
      stopped.add(`${a.taskId}@${a.workerId}`)
      out.push([at, 'stop', a.taskId, a.workerId, a.why])
    }
  }
  let done = false
  const driver = new JobDriver({
    world, selfId: SELF.id, scheduler: ectScheduler({ estimator }), estimator, options: RUNNER_OPTIONS,
    tickMs: POLICY.tickMs, eventTickMs: 0, clock: () => 0, stats: newStats(),
    peerById: new Map(peers.map(p => [p.id, p])), taskById: new Map(tasks().map(t => [t.id, t])),
    onAction: record, onDone: () => {}
  }, tasks().map(taskSpec), () => { done = true })
  world.start({ dropped: p => { driver.dropped(p) } })
  driver.start()
  while (!done && world.step()) { /* the world's next event */ }
  expect(done).toBe(true)
  return out
}

async function runnerDecisions (): Promise<Decision[]> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  vi.setSystemTime(0)
  const peers = room()
  const peerById = new Map(peers.map(p => [p.id, p]))
  const taskById = new Map(tasks().map(t => [t.id, t]))
  const odd: string[] = []
  const world = new World(peers, SELF, {
    ...worldInit(),
    timers: {
      at: (t, run) => {
        const delay = t - Date.now()
        // what fake timers cannot keep exact (see above): the scenario must not make it
        if (!Number.isInteger(delay) || delay <= 0) odd.push(`an event ${delay} ms after ${Date.now()}`)
        setTimeout(run, delay)
      },
      clock: () => Date.now()
    }
  })
  const lost = new Set<(peerId: string) => void>()
  world.start({ dropped: p => { for (const fn of lost) fn(p.id) } })
  const out: Decision[] = []
  const copies = new Map<string, SimCopy>()
  const estimator = new TaskTimeEstimator()
  const registry = {
    list: () => world.room().members.map(m => ({ id: m.id, verified: m.verified, lastSeen: 0, beat: { caps: m.caps, consent: m.consent, load: { queued: 0, running: 0 }, cache: m.cache } }))
  } as unknown as Registry
  const env: JobEnv = {
    selfId: SELF.id,
    registry,
    scheduler: ectScheduler({ estimator }),
    estimator,
    selfCaps: () => SELF.caps,
    selfConsent: () => SELF.consent,
    runLocal: async () => { throw new Error('the submitter does not volunteer in this room') },
    submitRemote: async (peerId, req, signal, onProgress) => await new Promise<TaskResult>((resolve, reject) => {
      // the runner pushes the module with a task until the worker is known to hold it
      const c = world.send(req.id, taskById.get(req.id.split('~')[0]) as SimTask, peerById.get(peerId) as SimPeer, req.range, req.partial === true, req.fn.bytes == null)
      copies.set(c.key, c)
      out.push([Date.now(), 'send', req.id, peerId, req.range == null ? '' : `${req.range.from}-${req.range.to}`])
      c.job = {
        report: (_c, r) => { onProgress?.(r as TaskProgress) },
        result: (_c, r) => { resolve({ v: 1, t: 'result', id: req.id, output: { bytes: r.output }, ms: r.ms, heldMs: r.heldMs, from: r.from, to: r.to }) }
      }
      signal.addEventListener('abort', () => {
        world.abort(c)
        const why = signal.reason as Error
        // the policy's stops (not a lost worker's copies, nor those still out when the job ends)
        if (why instanceof AbortedError && why.message !== 'job finished') out.push([Date.now(), 'stop', req.id, peerId, why.message])
        reject(why)
      }, { once: true })
    }),
    cutRemote: (peerId, taskId, at) => {
      out.push([Date.now(), 'cut', taskId, peerId, String(at)])
      const c = copies.get(`${taskId}@${peerId}`)
      if (c != null) world.cut(c, at)
    },
    fetchOutput: async ref => (ref as { bytes: Uint8Array }).bytes,
    moduleBytes: () => new Uint8Array(2000),
    onPeerLost: fn => { lost.add(fn); return () => { lost.delete(fn) } },
    now: () => Date.now()
  }
  let done = false
  const run = runTasks(env, 'job', tasks().map(taskSpec)).finally(() => { done = true })
  for (let i = 0; i < 600 && !done; i++) await vi.advanceTimersByTimeAsync(100)
  await run
  expect(odd).toEqual([])
  return out
}

describe('the runner and the simulator drive the one policy alike', () => {
  afterEach(() => { vi.useRealTimers() })

  it('sends, stops and cuts the same copies at the same times (4 workers, one slow, one leaving; 12 tasks, 8 of them batches)', async () => {
    const sim = simulatorDecisions()
    const runner = await runnerDecisions()
    // the scenario exercises what it should: copies sent again after the leaver, cuts, stops
    const types = new Set(sim.map(d => d[1]))
    expect([...types].sort()).toEqual(['cut', 'send', 'stop'])
    expect(sim.some(d => d[1] === 'send' && d[0] > 1500 && d[3] !== 'w1')).toBe(true)
    expect(runner).toEqual(sim)
  })
})
