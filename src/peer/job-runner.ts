import { logger } from '@libp2p/logger'
import { AbortedError, AdmissionRefusedError, FedraError, WorkerLostError, codeOf, errorFromCode } from '../core/errors.js'
import { JobTracker } from '../core/jobs/tracker.js'
import { admit } from '../core/scheduler/resource.js'
import type { Capabilities } from '../core/requirements/capabilities.js'
import type { Requirement } from '../core/requirements/requirement.js'
import type { DataRef, TaskLimits, TaskRequest, TaskResult } from '../core/protocol/task.js'
import type { Registry } from '../core/registry/registry.js'
import { chooseBackups } from '../core/scheduler/backups.js'
import { QuorumBook } from '../core/scheduler/quorum.js'
import type { ApplicationScheduler, Offer, PendingTask } from '../core/scheduler/types.js'
import type { TaskTimeEstimator } from '../core/scheduler/estimates.js'
import type { RunningTaskInfo } from '../core/scheduler/backups.js'

const log = logger('fedra:peer:job')

export interface TaskSpec {
  id: string
  fnCid: string
  entry: string
  input: DataRef
  params: Uint8Array
  requirement: Requirement
  limits: TaskLimits
}

export interface TaskOutcome {
  output: Uint8Array
  workerId: string
  ms: number
}

export type JobProgress =
  | { type: 'task-done', taskId: string, workerId: string, done: number, total: number }
  | { type: 'requeued', taskIds: string[], workerId: string }
  | { type: 'backup', taskId: string, workerId: string }
  | { type: 'liar', workerId: string, taskId: string }
  | { type: 'task-failed', taskId: string, workerId: string, code: string, message: string }
  | { type: 'paused', reason: string }
  | { type: 'resumed' }

export interface RunTasksOptions {
  signal?: AbortSignal
  /**
   * Near the end of the job, run copies of the slowest tasks on idle workers;
   * the first result wins and the other copy is cancelled (default on).
   */
  backups?: boolean
  /**
   * Untrusted volunteers: run each task on this many different workers and
   * accept a result only when that many agree (BOINC's quorum). A worker
   * caught disagreeing with an agreed result is not trusted again in the job.
   * Default 1. Backups are off when above 1.
   */
  quorum?: number
  onProgress?: (event: JobProgress) => void
  /** Keep waiting when no volunteer fits (paused) instead of refusing at once. */
  waitForWorkers?: boolean
}

/** What the runner needs from the peer around it. */
export interface JobEnv {
  selfId: string
  registry: Registry
  scheduler: ApplicationScheduler
  /** Learns per-worker, per-function task times; kept across jobs. */
  estimator: TaskTimeEstimator
  selfCaps: () => Capabilities
  selfConsent: () => boolean
  runLocal: (req: TaskRequest, signal: AbortSignal) => Promise<{ output: DataRef, ms: number }>
  submitRemote: (peerId: string, req: Omit<TaskRequest, 'v' | 't'>, signal: AbortSignal) => Promise<TaskResult>
  fetchOutput: (ref: DataRef, signal: AbortSignal) => Promise<Uint8Array>
  /** Module bytes to push to a worker that may not have them yet. */
  moduleBytes: (cid: string) => Uint8Array | undefined
  /** Subscribes to "this worker is gone"; returns the unsubscribe function. */
  onPeerLost: (fn: (peerId: string) => void) => () => void
}

function pendingOf (s: TaskSpec): PendingTask {
  return { id: s.id, functionCid: s.fnCid, requirement: s.requirement, inputCids: 'cid' in s.input ? [s.input.cid] : [] }
}

async function sha256Hex (bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  let s = ''
  for (const b of d) s += b.toString(16).padStart(2, '0')
  return s
}

/**
 * Runs a set of independent tasks on the room: place, dispatch, collect,
 * re-queue what a vanished worker held, retry failures on other workers.
 * Resolves with every task's output, or rejects with a typed error.
 */
export async function runTasks (env: JobEnv, jobId: string, specs: readonly TaskSpec[], options: RunTasksOptions = {}): Promise<Map<string, TaskOutcome>> {
  const byId = new Map(specs.map(s => [s.id, s]))
  const tracker = new JobTracker<TaskOutcome>(specs.map(s => s.id))
  const inflight = new Map<string, AbortController>() // `${taskId}@${worker}`
  const timing = new Map<string, { dispatchedAt: number, expectedEnd: number }>() // same keys
  const cancelled = new Set<string>() // losing copies we stopped ourselves
  const capsOf = new Map<string, Capabilities>()
  const quorum = Math.max(1, options.quorum ?? 1)
  const book = quorum > 1 ? new QuorumBook({ k: quorum }) : undefined
  const votedOutputs = new Map<string, Uint8Array>() // `${taskId}:${digest}`
  let quorumFailure: Error | undefined
  const warmOn = new Map<string, Set<string>>() // worker → function CIDs it has run for us
  const life = new AbortController()
  const signal = options.signal != null ? AbortSignal.any([options.signal, life.signal]) : life.signal
  // a worker whose stream just failed sits out a moment, or a dead link
  // would bounce the same tasks back and forth
  const benchedUntil = new Map<string, number>()
  const BENCH_MS = 1500
  let wake: () => void = () => {}
  let paused: string | undefined

  const unsubscribe = env.onPeerLost(peerId => {
    for (const [key, ac] of inflight) {
      if (key.endsWith(`@${peerId}`)) ac.abort(new WorkerLostError(`worker ${peerId.slice(-6)} left`))
    }
    const back = tracker.workerLost(peerId)
    if (back.length > 0) options.onProgress?.({ type: 'requeued', taskIds: back, workerId: peerId })
    wake()
  })

  const offers = (): Offer[] => {
    const list: Offer[] = []
    capsOf.set(env.selfId, env.selfCaps())
    if (env.selfConsent()) {
      list.push({ workerId: env.selfId, caps: env.selfCaps(), inFlight: tracker.inFlightOn(env.selfId), reportedLoad: 0, cached: new Set(), self: true })
    }
    const now = Date.now()
    for (const e of env.registry.list()) {
      if (!e.verified || !e.beat.consent) continue
      if (book != null && !book.isTrusted(e.id)) continue
      if ((benchedUntil.get(e.id) ?? 0) > now) continue
      const cached = new Set([...e.beat.cache, ...(warmOn.get(e.id) ?? [])])
      capsOf.set(e.id, e.beat.caps)
      list.push({ workerId: e.id, caps: e.beat.caps, inFlight: tracker.inFlightOn(e.id), reportedLoad: e.beat.load.queued + e.beat.load.running, cached, self: false })
    }
    return list
  }

  const dispatch = (spec: TaskSpec, workerId: string): void => {
    tracker.assign(spec.id, workerId)
    const ac = new AbortController()
    const key = `${spec.id}@${workerId}`
    inflight.set(key, ac)
    const now = Date.now()
    const caps = capsOf.get(workerId)
    const expected = caps != null ? env.estimator.taskMs(workerId, caps, spec.fnCid) : 0
    timing.set(key, { dispatchedAt: now, expectedEnd: now + expected })
    const taskSignal = AbortSignal.any([signal, ac.signal])
    const req: Omit<TaskRequest, 'v' | 't'> = {
      id: spec.id, job: jobId, epoch: 0, fn: { cid: spec.fnCid }, entry: spec.entry,
      input: spec.input, params: spec.params, limits: spec.limits, output: 'inline'
    }
    const warm = warmOn.get(workerId)?.has(spec.fnCid) === true || env.registry.get(workerId)?.beat.cache.includes(spec.fnCid) === true
    const bytes = warm ? undefined : env.moduleBytes(spec.fnCid)
    if (bytes != null) req.fn = { cid: spec.fnCid, bytes }
    const run = workerId === env.selfId
      ? env.runLocal({ v: 1, t: 'task', ...req }, taskSignal)
      : env.submitRemote(workerId, req, taskSignal)
    run.then(async r => {
      const output = await env.fetchOutput(r.output, taskSignal)
      let set = warmOn.get(workerId)
      if (set == null) warmOn.set(workerId, set = new Set())
      set.add(spec.fnCid)
      const caps = capsOf.get(workerId)
      if (caps != null) env.estimator.observe(workerId, caps, spec.fnCid, r.ms)
      if (book != null && !(await settleVote(spec, workerId, output))) return
      if (tracker.complete(spec.id, workerId, { output, workerId, ms: r.ms })) {
        options.onProgress?.({ type: 'task-done', taskId: spec.id, workerId, done: tracker.done, total: tracker.total })
        // first result wins: stop the other copies
        for (const [k, other] of inflight) {
          if (k.startsWith(`${spec.id}@`) && k !== key) {
            cancelled.add(k)
            other.abort(new AbortedError('another copy finished first'))
          }
        }
      }
    }).catch((err: unknown) => {
      if (signal.aborted) return
      book?.lost(spec.id, workerId)
      if (cancelled.delete(key)) {
        tracker.release(spec.id, workerId)
        return
      }
      const lost = err instanceof WorkerLostError || (err instanceof FedraError && err.code === AbortedError.code)
      if (lost) {
        // not the task's fault: back to pending without spending an attempt
        if (tracker.release(spec.id, workerId)) options.onProgress?.({ type: 'requeued', taskIds: [spec.id], workerId })
        benchedUntil.set(workerId, Date.now() + BENCH_MS)
      } else {
        log('task %s failed on %s: %s', spec.id, workerId, (err as Error).message)
        const failure = { code: codeOf(err), message: (err as Error).message }
        options.onProgress?.({ type: 'task-failed', taskId: spec.id, workerId, ...failure })
        tracker.fail(spec.id, workerId, failure)
      }
    }).finally(() => {
      inflight.delete(key)
      timing.delete(key)
      wake()
    })
  }

  /**
   * Quorum mode: records a replica's vote. True when the vote decided the
   * task and `output` is the agreed result; otherwise the replica's slot is
   * released so the loop can launch what the book still wants.
   */
  const settleVote = async (spec: TaskSpec, workerId: string, output: Uint8Array): Promise<boolean> => {
    if (book == null) return true
    const digest = await sha256Hex(output)
    votedOutputs.set(`${spec.id}:${digest}`, output)
    const vote = book.record(spec.id, workerId, digest)
    if (vote.type === 'agreed') {
      for (const liar of vote.liars) {
        log('worker %s disagreed with an agreed result: not trusted any more', liar)
        options.onProgress?.({ type: 'liar', workerId: liar, taskId: spec.id })
      }
      return true
    }
    if (vote.type === 'failed') {
      quorumFailure = new FedraError(`task ${spec.id}: no ${quorum} workers agreed on its result`, 'ERR_NO_QUORUM')
    }
    tracker.release(spec.id, workerId)
    return false
  }

  /** Quorum mode: places the replicas the book wants, each on a worker that has not run the task. */
  const placeReplicas = (pendingIds: readonly string[], current: Offer[]): void => {
    if (book == null) return
    for (const id of pendingIds) {
      const spec = byId.get(id) as TaskSpec
      for (let n = book.wanted(id); n > 0; n--) {
        const ran = book.ranOn(id)
        const candidates = current.filter(o => !ran.has(o.workerId))
        const [p] = env.scheduler.place([pendingOf(spec)], candidates)
        if (p == null) break
        book.started(id, p.workerId)
        const o = candidates.find(c => c.workerId === p.workerId)
        if (o != null) o.inFlight++
        dispatch(spec, p.workerId)
      }
    }
  }

  /**
   * Nothing pending, some worker idle: copy the tasks expected to finish
   * last onto idle workers where a copy would finish sooner.
   */
  const launchBackups = (current: Offer[]): void => {
    const idle = current.filter(o => o.inFlight < o.caps.slots)
    if (idle.length === 0) return
    const now = Date.now()
    const running: RunningTaskInfo[] = tracker.running().map(t => {
      const keys = [...t.runningOn].map(w => timing.get(`${t.id}@${w}`)).filter(x => x != null)
      return {
        taskId: t.id,
        workers: [...t.runningOn],
        dispatchedAt: Math.min(...keys.map(k => k.dispatchedAt)),
        expectedEnd: Math.min(...keys.map(k => k.expectedEnd))
      }
    }).filter(t => Number.isFinite(t.expectedEnd))
    const load = new Map(idle.map(o => [o.workerId, o.inFlight]))
    chooseBackups(running, now, (taskId, exclude) => {
      const spec = byId.get(taskId) as TaskSpec
      let best: { workerId: string, ectMs: number } | undefined
      for (const o of idle) {
        if (exclude.has(o.workerId) || (load.get(o.workerId) ?? 0) >= o.caps.slots) continue
        if (!admit([spec.requirement], [{ workerId: o.workerId, caps: o.caps, consent: true, verified: true, self: o.self }]).admitted) continue
        // a remote copy also pays a round trip and its input fetch
        const ectMs = env.estimator.taskMs(o.workerId, o.caps, spec.fnCid) + (o.self ? 0 : 5)
        if (best == null || ectMs < best.ectMs) best = { workerId: o.workerId, ectMs }
      }
      return best
    }, { minGainMs: 20 }, b => {
      load.set(b.workerId, (load.get(b.workerId) ?? 0) + 1)
      dispatch(byId.get(b.taskId) as TaskSpec, b.workerId)
      options.onProgress?.({ type: 'backup', taskId: b.taskId, workerId: b.workerId })
    })
  }

  try {
    while (!tracker.finished) {
      signal.throwIfAborted()
      const failed = tracker.failed
      if (failed != null) {
        throw errorFromCode(failed.lastError?.code ?? 'ERR_FEDRA', `task ${failed.id} failed ${failed.attempts} times: ${failed.lastError?.message ?? 'unknown error'}`)
      }
      const pendingIds = tracker.pending()
      if (pendingIds.length > 0) {
        const current = offers()
        const requirements = [...new Map(pendingIds.map(id => {
          const r = (byId.get(id) as TaskSpec).requirement
          return [JSON.stringify(r), r]
        })).values()]
        const admission = admit(requirements, current.map(o => ({
          workerId: o.workerId, caps: o.caps, consent: true, verified: true, self: o.self
        })))
        if (quorumFailure != null) throw quorumFailure
        if (!admission.admitted) {
          if (options.waitForWorkers !== true) throw new AdmissionRefusedError(admission.reason)
          if (paused !== admission.reason) {
            paused = admission.reason
            options.onProgress?.({ type: 'paused', reason: admission.reason })
          }
        } else {
          if (paused != null) {
            paused = undefined
            options.onProgress?.({ type: 'resumed' })
          }
          if (book != null) {
            placeReplicas(pendingIds, current)
          } else {
            const pending = pendingIds.map(id => pendingOf(byId.get(id) as TaskSpec))
            for (const p of env.scheduler.place(pending, current)) dispatch(byId.get(p.taskId) as TaskSpec, p.workerId)
          }
        }
      } else if (book == null && options.backups !== false && !tracker.finished) {
        launchBackups(offers())
      }
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, 250)
        wake = () => { clearTimeout(t); resolve() }
      })
    }
    const out = new Map<string, TaskOutcome>()
    for (const s of specs) out.set(s.id, tracker.get(s.id).output as TaskOutcome)
    return out
  } finally {
    unsubscribe()
    life.abort(new AbortedError('job finished'))
  }
}
