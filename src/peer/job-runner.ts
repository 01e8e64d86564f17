import { logger } from '@libp2p/logger'
import { AbortedError, FedraError, WorkerLostError, codeOf } from '../core/errors.js'
import { sha256Hex } from '../core/digest.js'
import { POLICY } from '../core/scheduler/policy-config.js'
import { MAX_INLINE_BYTES } from '../core/protocol/task.js'
import { JobPolicy, PAUSED_BY_PERSON } from '../core/job/policy.js'
import { copyKey } from '../core/job/types.js'
import type { Capabilities } from '../core/requirements/capabilities.js'
import type { DataRef, TaskProgress, TaskRequest, TaskResult } from '../core/protocol/task.js'
import type { Registry } from '../core/registry/registry.js'
import type { ApplicationScheduler } from '../core/scheduler/types.js'
import type { TaskTimeEstimator } from '../core/scheduler/estimates.js'
import type { JobAction, JobProgress, RoomView, TaskOutcome, TaskSpec } from '../core/job/types.js'
import type { BatchControl, ProgressReport, TaskOutput } from './worker-service.js'

export type { JobProgress, TaskOutcome, TaskSpec } from '../core/job/types.js'
export { PAUSED_BY_PERSON }

const log = logger('fedra:peer:job')

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
  /**
   * Late binding: with nothing pending, a worker with a free slot takes over
   * tasks still waiting in another worker's queue (the waiting copy is
   * cancelled). Off by default: in the 6-browser cgroup bench it cost
   * efficiency (0.73–0.83 with it, 1.05 without; docs/decisions.md), though
   * the simulator gains from it at 10,000 peers. Kept while the simulator
   * runs it by default: the one policy (issue 26) settles one value for both.
   */
  lateBinding?: boolean
  /**
   * Batch tasks (`TaskSpec.items`): near the end of the job, cut the tasks
   * expected to end last and send their last items to idle workers
   * (default on).
   */
  split?: boolean
  /**
   * A streaming job: tasks that join while it runs (a video read or
   * recorded as it is filtered). The job ends when the source is exhausted
   * and every task is done; the returned map holds the tasks of `specs` and
   * of the source. A source that throws fails the job.
   */
  source?: AsyncIterable<TaskSpec>
  /**
   * The person paused the job: while this says so, no copy is sent (those
   * running finish); `paused`/`resumed` events say when it changes.
   */
  isPaused?: () => boolean
  /** Called once per task the caller gave (not per piece or copy) as its output is in. */
  onTaskDone?: (taskId: string, outcome: TaskOutcome) => void
  /**
   * Keep outputs until the job ends (default). False: each output goes only
   * to `onTaskDone` and is dropped; the returned map holds empty outputs
   * (a long streaming job's memory stays bounded).
   */
  keepOutputs?: boolean
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
  /** `onProgress`: the worker's `progress` reports, the first when the task left its queue for a slot, then every `PROGRESS_EVERY_MS` while it runs. */
  runLocal: (req: TaskRequest, signal: AbortSignal, onProgress?: (p?: ProgressReport) => void, control?: BatchControl) => Promise<TaskOutput>
  submitRemote: (peerId: string, req: Omit<TaskRequest, 'v' | 't'>, signal: AbortSignal, onProgress?: (p: TaskProgress) => void) => Promise<TaskResult>
  /** Tells a worker to stop a batch task before item `at` (protocol `cut`). */
  cutRemote: (peerId: string, taskId: string, at: number) => void
  fetchOutput: (ref: DataRef, signal: AbortSignal) => Promise<Uint8Array>
  /** Module bytes to push to a worker that may not have them yet. */
  moduleBytes: (cid: string) => Uint8Array | undefined
  /** Subscribes to "this worker is gone"; returns the unsubscribe function. */
  onPeerLost: (fn: (peerId: string) => void) => () => void
  /** The clock the policy reads, ms (default `Date.now`). */
  now?: () => number
}

/**
 * Runs a set of independent tasks on the room: the job's policy
 * (src/core/job) decides; this driver turns its actions into task
 * streams, cuts and cancels, and the room's answers into its events.
 * Resolves with every task's output, or rejects with a typed error.
 */
export async function runTasks (env: JobEnv, jobId: string, specs: readonly TaskSpec[], options: RunTasksOptions = {}): Promise<Map<string, TaskOutcome>> {
  return new JobRun(env, jobId, specs, options).run()
}

type SendAction = Extract<JobAction, { type: 'send' }>

/** One job's run: the policy, and the copies in flight on the network. */
class JobRun {
  private readonly policy: JobPolicy
  /** Copies in flight, `task@worker`: stopping one aborts its stream. */
  private readonly copies = new Map<string, AbortController>()
  /** Batch copies run by this peer: a cut lands on their control. */
  private readonly controls = new Map<string, BatchControl>()
  private readonly life = new AbortController()
  private readonly signal: AbortSignal
  private readonly now: () => number
  private wake: () => void = () => {}
  private sourceError?: unknown

  constructor (private readonly env: JobEnv, private readonly jobId: string, specs: readonly TaskSpec[], private readonly options: RunTasksOptions) {
    this.now = env.now ?? Date.now
    this.policy = new JobPolicy({ selfId: env.selfId, scheduler: env.scheduler, estimator: env.estimator }, specs, {
      backups: options.backups,
      quorum: options.quorum,
      waitForWorkers: options.waitForWorkers,
      lateBinding: options.lateBinding,
      split: options.split,
      streaming: options.source != null,
      keepOutputs: options.keepOutputs
    })
    this.signal = options.signal != null ? AbortSignal.any([options.signal, this.life.signal]) : this.life.signal
  }

  async run (): Promise<Map<string, TaskOutcome>> {
    const unsubscribe = this.env.onPeerLost(peerId => { this.onPeerLost(peerId) })
    if (this.options.source != null) void this.pump(this.options.source)
    try {
      while (!this.policy.finished) {
        this.signal.throwIfAborted()
        this.throwIfFailed()
        this.apply(this.policy.tick(this.now(), this.room(), this.options.isPaused?.() === true))
        await new Promise<void>(resolve => {
          const t = setTimeout(resolve, POLICY.tickMs)
          this.wake = () => { clearTimeout(t); resolve() }
        })
      }
      this.throwIfFailed()
      return this.policy.outcomes()
    } finally {
      unsubscribe()
      this.life.abort(new AbortedError('job finished'))
    }
  }

  /** Takes the source's tasks as they come; each one wakes the loop to place it. */
  private async pump (source: AsyncIterable<TaskSpec>): Promise<void> {
    try {
      for await (const s of source) {
        if (this.signal.aborted) return
        this.policy.submit(s)
        this.wake()
      }
    } catch (err) {
      this.sourceError = err
    } finally {
      this.policy.closeSource()
      this.wake()
    }
  }

  private throwIfFailed (): void {
    if (this.sourceError != null) throw this.sourceError
    const err = this.policy.error()
    if (err != null) throw err
  }

  /** The room as the registry knows it now. */
  private room (): RoomView {
    const { env } = this
    return {
      self: { caps: env.selfCaps(), consent: env.selfConsent() },
      members: env.registry.list().map(e => ({
        id: e.id, caps: e.beat.caps, verified: e.verified, consent: e.beat.consent, load: e.beat.load.queued + e.beat.load.running, cache: e.beat.cache
      }))
    }
  }

  private apply (actions: readonly JobAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send': this.send(a); break
        case 'stop': this.copies.get(copyKey(a.taskId, a.workerId))?.abort(new AbortedError(a.why)); break
        case 'cut': this.cut(a.taskId, a.workerId, a.at); break
        case 'done': this.options.onTaskDone?.(a.taskId, a.outcome); break
        case 'progress':
          if (a.event.type === 'liar') log('worker %s disagreed with an agreed result: not trusted any more', a.event.workerId)
          if (a.event.type === 'task-failed') log('task %s failed on %s: %s', a.event.taskId, a.event.workerId, a.event.message)
          this.options.onProgress?.(a.event)
          break
      }
    }
  }

  private cut (taskId: string, workerId: string, at: number): void {
    if (workerId !== this.env.selfId) {
      this.env.cutRemote(workerId, taskId, at)
      return
    }
    const c = this.controls.get(copyKey(taskId, workerId))
    if (c != null) c.cutAt = Math.min(c.cutAt ?? at, at)
  }

  private onPeerLost (peerId: string): void {
    for (const [key, ac] of this.copies) {
      if (key.endsWith(`@${peerId}`)) ac.abort(new WorkerLostError(`worker ${peerId.slice(-6)} left`))
    }
    this.apply(this.policy.peerLost(peerId, this.now()))
    this.wake()
  }

  private request (a: SendAction): Omit<TaskRequest, 'v' | 't'> {
    const { spec } = a
    const req: Omit<TaskRequest, 'v' | 't'> = {
      id: spec.id, job: this.jobId, epoch: 0, fn: { cid: spec.fnCid }, entry: spec.entry,
      input: spec.input, params: spec.params, limits: spec.limits, output: 'inline'
    }
    // the owner holds every input it sends by CID: the worker fetches it from here directly
    if ('cid' in spec.input && spec.input.from == null) req.input = { ...spec.input, from: this.env.selfId }
    if (a.range != null) {
      req.range = a.range
      req.partial = a.partial
    }
    // push the module with the task until the worker is known to hold it;
    // a module too big to push is fetched by the worker by its CID
    const bytes = a.warm ? undefined : this.env.moduleBytes(spec.fnCid)
    if (bytes != null && bytes.byteLength <= MAX_INLINE_BYTES) req.fn = { cid: spec.fnCid, bytes }
    return req
  }

  private send (a: SendAction): void {
    const { env, policy } = this
    const { spec, workerId } = a
    const taskId = spec.id
    const key = copyKey(taskId, workerId)
    const ac = new AbortController()
    this.copies.set(key, ac)
    const sentAt = this.now()
    const taskSignal = AbortSignal.any([this.signal, ac.signal])
    const req = this.request(a)
    const onProgress = (p?: ProgressReport): void => {
      this.apply(policy.progress(taskId, workerId, p, this.now()))
    }
    const control: BatchControl = {}
    if (req.range != null && workerId === env.selfId) this.controls.set(key, control)
    const run = workerId === env.selfId
      ? env.runLocal({ v: 1, t: 'task', ...req }, taskSignal, onProgress, control)
      : env.submitRemote(workerId, req, taskSignal, onProgress)
    run
      .then(async r => {
        // the link's share of the round trip sets how deep this worker's queue should be
        const held = (r as Partial<TaskResult>).heldMs
        if (held != null) env.estimator.observeLink(workerId, Math.max(0, this.now() - sentAt - held))
        const output = await env.fetchOutput(r.output, taskSignal)
        const digest = policy.wantsDigests ? await sha256Hex(output) : undefined
        this.apply(policy.result(taskId, workerId, { output, ms: r.ms, from: r.from, to: r.to, digest }, this.now()))
      })
      .catch((err: unknown) => {
        if (this.signal.aborted) return
        const lost = err instanceof WorkerLostError || (err instanceof FedraError && err.code === AbortedError.code)
        this.apply(policy.failed(taskId, workerId, { code: codeOf(err), message: (err as Error).message, lost }, this.now()))
      })
      .finally(() => {
        // a copy sent again to the same worker since is not this one's to forget
        if (this.copies.get(key) === ac) {
          this.copies.delete(key)
          this.controls.delete(key)
          policy.copyEnded(taskId, workerId)
        }
        this.wake()
      })
  }
}
