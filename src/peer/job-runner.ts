import { logger } from '@libp2p/logger'
import { AbortedError, AdmissionRefusedError, FedraError, InvalidMessageError, WorkerLostError, codeOf, errorFromCode } from '../core/errors.js'
import { JobTracker } from '../core/jobs/tracker.js'
import { admit } from '../core/scheduler/resource.js'
import { satisfies } from '../core/requirements/requirement.js'
import type { Capabilities } from '../core/requirements/capabilities.js'
import type { Requirement } from '../core/requirements/requirement.js'
import type { DataRef, TaskLimits, TaskRequest, TaskResult } from '../core/protocol/task.js'
import type { Registry } from '../core/registry/registry.js'
import { chooseBackups } from '../core/scheduler/backups.js'
import { POLICY } from '../core/scheduler/policy-config.js'
import { sortBySizeDesc } from '../core/scheduler/ect-scheduler.js'
import { QuorumBook } from '../core/scheduler/quorum.js'
import { sha256Hex } from '../core/digest.js'
import { MAX_INLINE_BYTES } from '../core/protocol/task.js'
import type { ApplicationScheduler, Offer, PendingTask } from '../core/scheduler/types.js'
import type { TaskTimeEstimator } from '../core/scheduler/estimates.js'
import type { RunningTaskInfo } from '../core/scheduler/backups.js'
import { StealIndex } from '../core/scheduler/steal.js'
import { chooseSplits, chooseSpread } from '../core/scheduler/split.js'
import type { SplitCandidate, SpreadSlot } from '../core/scheduler/split.js'
import { MAX_BATCH_ITEMS, decodeOutputs } from '../core/protocol/batch.js'
import { BatchItems } from './batch-items.js'
import { PROGRESS_EVERY_MS } from '../core/protocol/task.js'
import type { ItemRange, TaskProgress } from '../core/protocol/task.js'
import type { BatchControl, ProgressReport, TaskOutput } from './worker-service.js'
import { CopyClock } from './copy-clock.js'
import type { TimedTask } from './copy-clock.js'

const log = logger('fedra:peer:job')

export interface TaskSpec {
  id: string
  fnCid: string
  entry: string
  input: DataRef
  params: Uint8Array
  requirement: Requirement
  limits: TaskLimits
  /**
   * A batch task: `input` is a batch of this many items
   * (src/core/protocol/batch.ts), each run by the function on its own. The
   * runner may cut it while it runs and send its last items to an idle
   * worker (a split), and keeps the outputs of items done by a worker that
   * is lost. The outcome's output holds every item's output, in order
   * (`decodeOutputs`).
   */
  items?: number
}

export interface TaskOutcome {
  output: Uint8Array
  workerId: string
  ms: number
  /** Batch tasks: which worker's output each item holds (a split task's items come from several). */
  itemWorkers?: string[]
}

export type JobProgress =
  /** A copy of a task was sent to a worker (its first, a re-queue, a backup, a quorum replica). */
  | { type: 'dispatched', taskId: string, workerId: string }
  | { type: 'task-done', taskId: string, workerId: string, done: number, total: number }
  | { type: 'requeued', taskIds: string[], workerId: string, /** why the worker was given up on */ reason: string }
  | { type: 'backup', taskId: string, workerId: string, /** where the copies already ran */ runningOn: string[] }
  /** A task still waiting in one worker's queue went to a worker that came free (late binding). */
  | { type: 'moved', taskId: string, from: string, to: string }
  /**
   * A batch task running on `from` was cut: its last `items` items went to
   * `to` as task `pieceId` ('' : back to pending, for the fastest worker to
   * take). `placed`: cut as it was placed, before it was sent (a spread
   * over idle workers), not while it ran.
   */
  | { type: 'split', taskId: string, pieceId: string, from: string, to: string, items: number, placed?: true }
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
}

/** A task as the runner holds it: a piece of a batch task runs a range of its items. */
interface RunSpec extends TaskSpec {
  /** The task the caller gave (a piece's parent, or itself). */
  root: string
  /** Batch tasks: the items this task is for (a cut shortens it). */
  range?: ItemRange
}

function pendingOf (s: RunSpec, splittable = false): PendingTask {
  const size = sizeOf(s)
  const p: PendingTask = 'cid' in s.input
    ? { id: s.id, functionCid: s.fnCid, requirement: s.requirement, inputCids: [s.input.cid], ...(s.range != null ? { sizeBytes: size } : {}) }
    : { id: s.id, functionCid: s.fnCid, requirement: s.requirement, inputCids: [], sizeBytes: size }
  if (splittable && s.range != null && s.range.to - s.range.from > 1) {
    p.splittable = true
    p.items = s.range.to - s.range.from
  }
  return p
}

/**
 * A task's size relative to its function's other tasks: its inline input
 * bytes (0: unknown), or for a batch task, its items (work grows with them;
 * a piece is smaller than its parent).
 */
function sizeOf (s: RunSpec): number {
  if (s.range != null) return s.range.to - s.range.from
  return 'bytes' in s.input ? s.input.bytes.byteLength : 0
}

/** A batch copy's worker silent this long has its copy cut after its item (`POLICY.quietCutReports` report periods). */
const QUIET_CUT_MS = POLICY.quietCutReports * PROGRESS_EVERY_MS

/** The reason a `paused` event gives when the person paused the job. */
export const PAUSED_BY_PERSON = 'paused by you'

/**
 * Runs a set of independent tasks on the room: place, dispatch, collect,
 * re-queue what a vanished worker held, retry failures on other workers.
 * Resolves with every task's output, or rejects with a typed error.
 */
export async function runTasks (env: JobEnv, jobId: string, specs: readonly TaskSpec[], options: RunTasksOptions = {}): Promise<Map<string, TaskOutcome>> {
  return new JobRun(env, jobId, specs, options).run()
}

/** One job's run; all state lives here for the run's lifetime. */
class JobRun {
  private readonly byId: Map<string, RunSpec>
  /** Batch tasks: the outputs of their items as they come in (progress reports, results), by root task id. */
  /** Batch tasks: their items' outputs as they come in, and how far each copy is. */
  private readonly items = new BatchItems()
  /** Batch tasks: the ids of a root's pieces (itself included). */
  private readonly piecesOf = new Map<string, string[]>()
  /** Batch copies run by this peer: a cut lands on their control. */
  private readonly controls = new Map<string, BatchControl>()
  /** Batch copies cut already for running late or a late report (once each). */
  private readonly cutOnce = new Set<string>()
  private readonly tracker: JobTracker<TaskOutcome>
  private readonly inflight = new Map<string, AbortController>() // `${taskId}@${worker}`
  private readonly cancelled = new Set<string>() // losing copies we stopped ourselves
  /** Same keys: when each copy left and started, when each worker was last heard from, and what follows (expected ends, overdue). */
  private readonly clock: CopyClock
  /** Copies sent, latest expected end first: waiting ones may move to a worker that comes free. */
  private readonly waiting = new StealIndex<string>()
  private readonly capsOf = new Map<string, Capabilities>()
  private readonly warmOn = new Map<string, Set<string>>() // worker → function CIDs it ran for us
  /** A worker whose stream just failed sits out until then (`POLICY.backOffFirstMs`, doubling per failure in a row). */
  private readonly backedOffUntil = new Map<string, number>()
  /** Workers whose answers broke the protocol (a batch result for items they were not sent): no more tasks in this job. */
  private readonly broken = new Set<string>()
  private readonly failuresInARow = new Map<string, number>()
  private readonly quorum: number
  private readonly book?: QuorumBook
  private quorumFailure?: Error
  private readonly life = new AbortController()
  private readonly signal: AbortSignal
  private wake: () => void = () => {}
  private paused?: string
  /** The first placement round has been looked at for twins (`twin`). */
  private twinned = false
  /** The caller's tasks, in the order given (the specs, then the source's). */
  private readonly given: string[] = []
  /** The streaming source is still open: the job cannot end yet. */
  private sourceOpen: boolean
  private sourceError?: unknown
  /** Tasks already given to `onTaskDone`. */
  private readonly reported = new Set<string>()

  constructor (private readonly env: JobEnv, private readonly jobId: string, specs: readonly TaskSpec[], private readonly options: RunTasksOptions) {
    this.byId = new Map()
    this.clock = new CopyClock(env.estimator, w => this.capsOf.get(w), env.selfId)
    this.tracker = new JobTracker<TaskOutcome>([])
    for (const s of specs) this.addTask(s)
    this.sourceOpen = options.source != null
    // twins are for a job whose whole first round is known; a stream's first task is not that
    this.twinned = this.sourceOpen
    this.quorum = Math.max(1, options.quorum ?? 1)
    if (this.quorum > 1) this.book = new QuorumBook({ k: this.quorum })
    this.signal = options.signal != null ? AbortSignal.any([options.signal, this.life.signal]) : this.life.signal
  }

  /** A task joins the job (from the specs, or later from the source). */
  private addTask (s: TaskSpec): void {
    if (this.byId.has(s.id)) throw new InvalidMessageError(`task id ${s.id} is given twice in one job`)
    this.byId.set(s.id, runSpec(s))
    if (s.items != null) {
      this.items.add(s.id, s.items)
      this.piecesOf.set(s.id, [s.id])
    }
    this.tracker.add(s.id)
    this.given.push(s.id)
  }

  /** Takes the source's tasks as they come; each one wakes the loop to place it. */
  private async pump (source: AsyncIterable<TaskSpec>): Promise<void> {
    try {
      for await (const s of source) {
        if (this.signal.aborted) return
        this.addTask(s)
        this.wake()
      }
    } catch (err) {
      this.sourceError = err
    } finally {
      this.sourceOpen = false
      this.wake()
    }
  }

  async run (): Promise<Map<string, TaskOutcome>> {
    const unsubscribe = this.env.onPeerLost(peerId => { this.onPeerLost(peerId) })
    if (this.options.source != null) void this.pump(this.options.source)
    try {
      while (this.sourceOpen || !this.tracker.finished) {
        this.signal.throwIfAborted()
        this.throwIfFailed()
        this.plan()
        await new Promise<void>(resolve => {
          const t = setTimeout(resolve, POLICY.tickMs)
          this.wake = () => { clearTimeout(t); resolve() }
        })
      }
      this.throwIfFailed()
      return new Map(this.given.map(id => [id, this.outcome(id)]))
    } finally {
      unsubscribe()
      this.life.abort(new AbortedError('job finished'))
    }
  }

  /** A task's outcome; a batch task's output gathers its items, whoever ran them. */
  private outcome (id: string): TaskOutcome {
    const o = this.tracker.get(id).output as TaskOutcome
    const r = this.book == null ? this.items.result(id) : undefined
    return r == null ? o : { ...o, ...r }
  }

  private throwIfFailed (): void {
    if (this.sourceError != null) throw this.sourceError
    const failed = this.tracker.failed
    if (failed != null) {
      throw errorFromCode(failed.lastError?.code ?? 'ERR_FEDRA', `task ${failed.id} failed ${failed.attempts} times: ${failed.lastError?.message ?? 'unknown error'}`)
    }
    if (this.quorumFailure != null) throw this.quorumFailure
  }

  /** One round: admission, then placement of pending tasks (or backups near the end). */
  private plan (): void {
    this.cutQuiet()
    if (this.options.isPaused?.() === true) {
      if (this.paused !== PAUSED_BY_PERSON) {
        this.paused = PAUSED_BY_PERSON
        this.options.onProgress?.({ type: 'paused', reason: PAUSED_BY_PERSON })
      }
      return
    }
    if (this.paused === PAUSED_BY_PERSON) {
      this.paused = undefined
      this.options.onProgress?.({ type: 'resumed' })
    }
    const pendingIds = this.tracker.pending()
    // a worker gone quiet gets no new work until heard again (admission still counts it)
    const quiet = this.quietWorkers(Date.now())
    const usable = (list: Offer[]): Offer[] => quiet.size === 0 ? list : list.filter(o => !quiet.has(o.workerId))
    if (pendingIds.length === 0) {
      // no tail while a source may still bring tasks: idle workers wait for them
      if (this.book == null && this.options.backups !== false && !this.sourceOpen) {
        const current = usable(this.offers())
        if (this.options.lateBinding === true) this.moveWaiting(current)
        this.splitTail(current)
        this.launchBackups(current)
      }
      return
    }
    const all = this.offers()
    const requirements = [...new Map(pendingIds.map(id => {
      const r = this.spec(id).requirement
      return [JSON.stringify(r), r]
    })).values()]
    const admission = admit(requirements, all.map(o => ({ workerId: o.workerId, caps: o.caps, consent: true, verified: true, self: o.self })))
    if (!admission.admitted) {
      if (this.options.waitForWorkers !== true) throw new AdmissionRefusedError(admission.reason)
      if (this.paused !== admission.reason) {
        this.paused = admission.reason
        this.options.onProgress?.({ type: 'paused', reason: admission.reason })
      }
      return
    }
    if (this.paused != null) {
      this.paused = undefined
      this.options.onProgress?.({ type: 'resumed' })
    }
    const current = usable(all)
    if (this.book != null) {
      this.placeReplicas(pendingIds, current)
      return
    }
    // largest first (LPT); equal tiles keep their order
    // batch tasks are cut in the tail: the placement may give them to slower workers
    const splittable = this.options.split !== false
    const pending = sortBySizeDesc(pendingIds.map(id => pendingOf(this.spec(id), splittable)), t => t.sizeBytes ?? 0)
    const placed = this.env.scheduler.place(pending, current)
    if (splittable && this.options.backups !== false) this.spread(placed, pending.length, current)
    else for (const p of placed) this.dispatch(this.spec(p.taskId), p.workerId)
    if (this.options.backups !== false) {
      this.twin(placed, pending, current)
      this.copySuspects(current)
    }
  }

  /**
   * A job the room can hold twice over (its first round places every task,
   * and the free slots left are at least as many) starts each task twice,
   * on two workers, largest first — three times over, three times
   * (`POLICY.phaseCopies`): a reduce phase's largest task is its critical path,
   * and a copy sent a round later, once the fast workers were taken, ran
   * on a slow one (a 10,000-peer simulated room: its reduce phase 0.4 s
   * shorter on average, 6.6 → 6.2 s). The first result wins; the other
   * copies are cancelled.
   */
  private twin (placed: ReadonlyArray<{ taskId: string, workerId: string }>, pending: readonly PendingTask[], current: Offer[]): void {
    if (this.twinned || this.book != null) return
    this.twinned = true
    if (placed.length === 0 || placed.length < pending.length) return
    const taken = new Map<string, number>()
    for (const p of placed) taken.set(p.workerId, (taken.get(p.workerId) ?? 0) + 1)
    const room = (o: Offer): number => o.caps.slots - o.inFlight - (taken.get(o.workerId) ?? 0)
    let free = 0
    for (const o of current) free += Math.max(0, room(o))
    // a room that holds the job three times over starts each task three times
    const copies = Math.min(POLICY.phaseCopies - 1, Math.floor(free / placed.length))
    if (copies < 1) return
    const pendingById = new Map(pending.map(t => [t.id, t]))
    // the largest task's copies first, on the best workers left
    for (const p of placed) {
      const task = pendingById.get(p.taskId)
      for (let c = 0; c < copies && task != null; c++) {
        const runningOn = [...this.tracker.get(p.taskId).runningOn]
        const offers = current.filter(o => !runningOn.includes(o.workerId) && room(o) > 0).map(o => ({ ...o, inFlight: o.inFlight + (taken.get(o.workerId) ?? 0) }))
        const copy = this.env.scheduler.place([task], offers)[0]
        if (copy == null) break
        taken.set(copy.workerId, (taken.get(copy.workerId) ?? 0) + 1)
        this.dispatch(this.spec(p.taskId), copy.workerId)
        this.options.onProgress?.({ type: 'backup', taskId: p.taskId, workerId: copy.workerId, runningOn })
      }
    }
  }

  /**
   * Dispatches the placed tasks; a batch task placed while workers idle to
   * spare (free slots beyond every task that waits) is spread over them at
   * once (`spreadItems`): its worker keeps its first items, each helper a
   * piece of the last ones. Placed whole, it ran its items one after
   * another while the others idled, and the tail's splits halved it once a
   * round (src/core/sim: a 10,000-peer room's maps ended 0.1 s sooner).
   */
  private spread (placed: ReadonlyArray<{ taskId: string, workerId: string }>, pendingCount: number, current: Offer[]): void {
    const taken = new Map<string, number>()
    for (const p of placed) taken.set(p.workerId, (taken.get(p.workerId) ?? 0) + 1)
    const free = (o: Offer): number => o.caps.slots - o.inFlight - (taken.get(o.workerId) ?? 0)
    let spare = -(pendingCount - placed.length)
    for (const o of current) spare += Math.max(0, free(o))
    const est = this.env.estimator
    const termsOf = (o: Offer, spec: RunSpec): SpreadSlot => ({
      workerId: o.workerId,
      startMs: o.self ? 0 : est.linkMs(o.workerId) ?? POLICY.runnerUnknownLinkMs,
      itemMs: est.taskMs(o.workerId, o.caps, spec.fnCid, est.sizeScale(spec.fnCid, 1))
    })
    for (const p of placed) {
      const spec = this.spec(p.taskId)
      const placedOn = current.find(o => o.workerId === p.workerId)
      const left = spec.range == null ? 0 : spec.range.to - this.firstMissing(spec)
      if (spare < 1 || placedOn == null || spec.range == null || left < 2) {
        this.dispatch(spec, p.workerId)
        continue
      }
      const helpers = current
        .filter(o => o.workerId !== p.workerId && free(o) > 0 && satisfies(o.caps, spec.requirement))
        .map(o => termsOf(o, spec))
        .sort((a, b) => a.startMs + a.itemMs - (b.startMs + b.itemMs))
        .slice(0, Math.min(left - 1, spare, POLICY.spreadMaxHelpers))
      const slots = [termsOf(placedOn, spec), ...helpers]
      const plan = chooseSpread(left, slots)
      if (plan == null) {
        this.dispatch(spec, p.workerId)
        continue
      }
      const { first } = plan
      let to = spec.range.to
      for (let j = slots.length - 1; j > first; j--) {
        if (plan.items[j] === 0) continue
        to -= plan.items[j]
        const piece = this.cutWaiting(this.spec(spec.id), to)
        const w = slots[j].workerId
        taken.set(w, (taken.get(w) ?? 0) + 1)
        spare--
        this.dispatch(piece, w)
        this.options.onProgress?.({ type: 'split', taskId: spec.root, pieceId: piece.id, from: slots[first].workerId, to: w, items: plan.items[j], placed: true })
      }
      if (first > 0) {
        taken.set(p.workerId, (taken.get(p.workerId) ?? 0) - 1)
        taken.set(slots[first].workerId, (taken.get(slots[first].workerId) ?? 0) + 1)
      }
      this.dispatch(this.spec(spec.id), slots[first].workerId)
    }
  }

  /** Workers with a started copy quiet for a cut's while (gone silently, or stalled). */
  private quietWorkers (now: number): Set<string> {
    const out = new Set<string>()
    for (const t of this.tracker.running()) {
      for (const w of t.runningOn) if (this.clock.quiet(copyKey(t.id, w), w, now, QUIET_CUT_MS)) out.add(w)
    }
    return out
  }

  /** Stops a copy we no longer want (its error is then no failure: the task is released, not retried). */
  private stopCopy (key: string, why: string): void {
    this.cancelled.add(key)
    this.inflight.get(key)?.abort(new AbortedError(why))
  }

  /** Scale of a task against its function's reference size. */
  private scale (spec: RunSpec): number {
    return this.env.estimator.sizeScale(spec.fnCid, sizeOf(spec))
  }

  /** What the copy clock needs of a task. */
  private timed (spec: RunSpec): TimedTask {
    return { fnCid: spec.fnCid, scale: this.scale(spec) }
  }

  /** When the task's copy on the worker is expected to end (Infinity when not sent there). */
  private expectedEnd (spec: RunSpec, workerId: string): number {
    return this.clock.expectedEnd(copyKey(spec.id, workerId), this.timed(spec), workerId, Date.now())
  }

  /** Whether the task's copy on the worker is overdue (late beyond the worker's dispersion, or its worker quiet). */
  private overdue (spec: RunSpec, workerId: string, now: number): boolean {
    return this.clock.overdue(copyKey(spec.id, workerId), this.timed(spec), workerId, now)
  }

  /**
   * Whether the copy is queued behind at least a slotful of this job's tasks
   * sent to its worker before it: the worker runs them first in, first out,
   * so it cannot have started, whatever its start report (which a starved
   * tab sends late) says. Moving a copy that had started would throw its
   * work away.
   */
  private queuedBehind (key: string): boolean {
    const { workerId } = splitKey(key)
    const slots = this.capsOf.get(workerId)?.slots ?? 1
    let ahead = 0
    for (const k of this.inflight.keys()) {
      if (k === key) return ahead >= slots
      if (!this.cancelled.has(k) && splitKey(k).workerId === workerId) ahead++
    }
    return false
  }

  /**
   * Nothing pending, a worker has a free slot: it takes over copies still
   * waiting in another worker's queue (not started: moving one loses no
   * work) that it would finish sooner. The waiting copy is cancelled.
   * Without it the last tasks sat queued behind slow ones while faster
   * workers idled (late binding, src/core/scheduler/steal.ts).
   */
  private moveWaiting (current: Offer[]): void {
    if (this.waiting.size === 0) return
    const now = Date.now()
    const byWorker = new Map(current.map(o => [o.workerId, o]))
    for (const o of current) {
      while (o.inFlight < o.caps.slots) {
        const pick = this.waiting.choose(o.caps, now,
          key => this.inflight.has(key) && !this.clock.started(key) && !this.cancelled.has(key) && this.queuedBehind(key),
          key => {
            const { taskId, workerId } = splitKey(key)
            if (workerId === o.workerId || this.tracker.get(taskId).runningOn.size !== 1) return undefined
            const link = o.self ? 0 : this.env.estimator.linkMs(o.workerId) ?? 0
            return now + this.clock.expectedMs(this.timed(this.spec(taskId)), o.workerId) + link
          },
          key => { const { taskId, workerId } = splitKey(key); return this.expectedEnd(this.spec(taskId), workerId) },
          { minGainMs: POLICY.runnerLateBindingMinGainMs })
        if (pick == null) break
        const { taskId, workerId: from } = splitKey(pick.item)
        this.stopCopy(pick.item, 'moved to a worker that came free')
        // the offers stay true for the backups placed after the moves
        const victim = byWorker.get(from)
        if (victim != null) victim.inFlight--
        o.inFlight++
        this.dispatch(this.spec(taskId), o.workerId)
        this.options.onProgress?.({ type: 'moved', taskId, from, to: o.workerId })
      }
    }
  }

  /**
   * While tasks are still pending: a worker with one task overdue is
   * suspect (a device slowed down, a link gone quiet), and every task it
   * holds gets one copy elsewhere, placed like any task, first result wins.
   * Waiting for the tail to do it costs the whole job a task's length.
   */
  private copySuspects (current: Offer[]): void {
    const now = Date.now()
    const running = this.tracker.running()
    const suspects = new Set<string>()
    for (const t of running) {
      for (const w of t.runningOn) if (this.overdue(this.spec(t.id), w, now)) suspects.add(w)
    }
    if (suspects.size === 0) return
    const room = current.filter(o => !suspects.has(o.workerId))
    const drain = this.drainMs(current)
    for (const t of running) {
      const [worker] = t.runningOn
      if (t.runningOn.size !== 1 || !suspects.has(worker)) continue
      const spec = this.spec(t.id)
      // a slow worker still reporting, whose started copy would end before
      // the room drains what is pending (if it runs as long again as it
      // has), is capacity, not a stall: a copy would cost a faster worker a
      // pending task, and cancel the slow one's work (the 0.15-core tab of
      // the 6-browser bench had all its tasks overtaken this way)
      const key = copyKey(t.id, worker)
      const started = this.clock.startedAt(key)
      if (started != null && !this.clock.quiet(key, worker, now) && now - started <= drain) continue
      // a batch task is not copied whole: its worker keeps the items done
      // and the one it is on, the rest waits for a faster worker like any
      // pending task (a worker gone silent loses only its own part)
      // (a starved device's start report may not have come yet: it keeps its first item)
      // once per copy: a room whose every device runs late (a loaded
      // machine) would otherwise cut its tasks ever finer at each round
      const pos = this.items.position(key)
      if (spec.range != null && pos != null && !this.cutOnce.has(key)) {
        const at = pos + 1
        this.cutOnce.add(key)
        if (spec.range.to - at >= 2) {
          const piece = this.cut(spec, key, at)
          this.options.onProgress?.({ type: 'split', taskId: spec.root, pieceId: piece.id, from: worker, to: '', items: spec.range.to - at })
          continue
        }
      }
      const [p] = this.env.scheduler.place([pendingOf(spec)], room.filter(o => !t.runningOn.has(o.workerId)))
      if (p == null) continue
      const o = room.find(x => x.workerId === p.workerId)
      if (o != null) o.inFlight++
      const runningOn = [...t.runningOn]
      this.dispatch(spec, p.workerId)
      this.options.onProgress?.({ type: 'backup', taskId: t.id, workerId: p.workerId, runningOn })
    }
  }

  /**
   * Time the room needs to run the pending tasks, ms: their work over the
   * offered slots' speed, by today's estimates (0 when nothing is pending).
   */
  private drainMs (current: Offer[]): number {
    const pending = this.tracker.pending()
    if (pending.length === 0) return 0
    const est = this.env.estimator
    let work = 0
    for (const id of pending) {
      const spec = this.spec(id)
      work += est.workMs(spec.fnCid) * this.scale(spec)
    }
    // speeds for the first pending task's function: a job's tasks share few functions
    const fn = this.spec(pending[0]).fnCid
    let speed = 0
    for (const o of current) {
      const ms = est.taskMs(o.workerId, o.caps, fn)
      if (ms > 0 && Number.isFinite(ms)) speed += o.caps.slots * est.workMs(fn) / ms
    }
    return speed > 0 ? work / speed : Infinity
  }

  private spec (id: string): RunSpec {
    return this.byId.get(id) as RunSpec
  }

  private onPeerLost (peerId: string): void {
    for (const [key, ac] of this.inflight) {
      if (key.endsWith(`@${peerId}`)) ac.abort(new WorkerLostError(`worker ${peerId.slice(-6)} left`))
    }
    const back = this.tracker.workerLost(peerId)
    if (back.length > 0) this.options.onProgress?.({ type: 'requeued', taskIds: back, workerId: peerId, reason: 'left the room' })
    this.wake()
  }

  /** Verified, consenting, trusted workers not backed off, this peer included when it volunteers. */
  private offers (): Offer[] {
    const { env, tracker } = this
    const list: Offer[] = []
    this.capsOf.set(env.selfId, env.selfCaps())
    if (env.selfConsent()) {
      list.push({ workerId: env.selfId, caps: env.selfCaps(), inFlight: tracker.inFlightOn(env.selfId), reportedLoad: 0, cached: new Set(), self: true, rttMs: 0 })
    }
    const now = Date.now()
    for (const e of env.registry.list()) {
      if (!e.verified || !e.beat.consent) continue
      if (this.book != null && !this.book.isTrusted(e.id)) continue
      if (this.broken.has(e.id)) continue
      if ((this.backedOffUntil.get(e.id) ?? 0) > now) continue
      const cached = new Set([...e.beat.cache, ...(this.warmOn.get(e.id) ?? [])])
      this.capsOf.set(e.id, e.beat.caps)
      list.push({ workerId: e.id, caps: e.beat.caps, inFlight: tracker.inFlightOn(e.id), reportedLoad: e.beat.load.queued + e.beat.load.running, cached, self: false, rttMs: env.estimator.linkMs(e.id) })
    }
    const accepts = env.scheduler.accepts
    return accepts == null ? list : list.filter(o => accepts(o))
  }

  private request (spec: RunSpec, workerId: string): Omit<TaskRequest, 'v' | 't'> {
    const req: Omit<TaskRequest, 'v' | 't'> = {
      id: spec.id, job: this.jobId, epoch: 0, fn: { cid: spec.fnCid }, entry: spec.entry,
      input: spec.input, params: spec.params, limits: spec.limits, output: 'inline'
    }
    // the owner holds every input it sends by CID: the worker fetches it from here directly
    if ('cid' in spec.input && spec.input.from == null) req.input = { ...spec.input, from: this.env.selfId }
    if (spec.range != null) {
      // a batch task resumes at its first item not yet in (a lost run's
      // reported items are kept); quorum votes on whole outputs instead
      req.range = this.book == null ? { from: this.firstMissing(spec), to: spec.range.to } : spec.range
      req.partial = this.book == null
    }
    // push the module with the task until the worker is known to hold it
    const warm = this.warmOn.get(workerId)?.has(spec.fnCid) === true || this.env.registry.get(workerId)?.beat.cache.includes(spec.fnCid) === true
    const bytes = warm ? undefined : this.env.moduleBytes(spec.fnCid)
    // a module too big to push is fetched by the worker by its CID
    if (bytes != null && bytes.byteLength <= MAX_INLINE_BYTES) req.fn = { cid: spec.fnCid, bytes }
    return req
  }

  private dispatch (spec: RunSpec, workerId: string): void {
    const { env } = this
    this.tracker.assign(spec.id, workerId)
    const ac = new AbortController()
    const key = copyKey(spec.id, workerId)
    this.inflight.set(key, ac)
    const now = Date.now()
    // expected end: behind what the worker already holds for this job (its
    // slots share the queue), plus the link; compute alone would make every
    // queued task look overdue
    const caps = this.capsOf.get(workerId)
    const queueFactor = Math.max(1, this.tracker.inFlightOn(workerId) / Math.max(1, caps?.slots ?? 1))
    const link = workerId === env.selfId ? 0 : env.estimator.linkMs(workerId) ?? 0
    this.clock.dispatched(key, now, queueFactor, link)
    this.options.onProgress?.({ type: 'dispatched', taskId: spec.id, workerId })
    const taskSignal = AbortSignal.any([this.signal, ac.signal])
    const req = this.request(spec, workerId)
    if (req.range != null) this.items.sentFor(key, req.range)
    const onProgress = (p?: ProgressReport): void => {
      this.clock.progress(key, workerId, Date.now())
      if (p != null && req.range != null) this.onItems(spec.root, key, p)
    }
    const control: BatchControl = {}
    if (req.range != null && workerId === env.selfId) this.controls.set(key, control)
    if (this.book == null && this.options.lateBinding === true) this.waiting.add(`${spec.fnCid}\u0000${JSON.stringify(spec.requirement)}`, spec.requirement, key, this.expectedEnd(spec, workerId))
    const run = workerId === env.selfId
      ? env.runLocal({ v: 1, t: 'task', ...req }, taskSignal, onProgress, control)
      : env.submitRemote(workerId, req, taskSignal, onProgress)
    run
      .then(async r => {
        // the link's share of the round trip sets how deep this worker's queue should be
        const held = (r as Partial<TaskResult>).heldMs
        if (held != null) env.estimator.observeLink(workerId, Math.max(0, Date.now() - now - held))
        const output = await env.fetchOutput(r.output, taskSignal)
        if (req.range != null && this.book == null) await this.onBatchResult(this.spec(spec.id), workerId, key, output, r)
        else await this.onResult(spec, workerId, key, output, r.ms)
      })
      .catch((err: unknown) => { this.onError(spec, workerId, key, err) })
      .finally(() => {
        this.inflight.delete(key)
        this.clock.forget(key)
        this.items.forget(key)
        this.controls.delete(key)
        this.cutOnce.delete(key)
        this.wake()
      })
  }

  /** The first item of the batch task's range not in yet (its range's end when all are). */
  private firstMissing (spec: RunSpec): number {
    return this.items.firstMissing(spec.root, spec.range as ItemRange)
  }

  /** A batch copy's progress report: how far it is, and the outputs of items it finished. */
  private onItems (root: string, key: string, p: ProgressReport): void {
    this.items.reported(key, p.done, Date.now())
    if (p.outputs == null || p.from == null || this.book != null) return
    let outputs: Uint8Array[]
    try {
      outputs = decodeOutputs(p.outputs, p.done - p.from)
    } catch (err) {
      // a malformed report costs its items nothing: they come with the result or run again
      log('malformed partial outputs for %s: %s', key, (err as Error).message)
      return
    }
    this.items.store(root, p.from, outputs, splitKey(key).workerId)
    this.settle(root, key)
  }

  /**
   * A batch copy's result: its items are kept, and every task of the same
   * root whose items are now all in is done (a worker past a cut covers its
   * piece too). A result that leaves its own range short fails the copy.
   */
  private async onBatchResult (spec: RunSpec, workerId: string, key: string, output: Uint8Array, r: { ms: number, from?: number, to?: number }): Promise<void> {
    const sent = this.items.rangeOf(key) as ItemRange
    const from = r.from ?? sent.from
    const to = r.to ?? sent.to
    let outputs: Uint8Array[]
    try {
      if (from < sent.from || to > sent.to || from > to) throw new InvalidMessageError(`result for ${spec.id} from worker ${workerId.slice(-6)} covers items ${from}–${to}, outside the ${sent.from}–${sent.to} it was sent`)
      outputs = decodeOutputs(output, to - from)
    } catch (err) {
      // not the task's fault: the worker broke the protocol, and gets no more of this job
      this.broken.add(workerId)
      throw err
    }
    this.items.store(spec.root, from, outputs, workerId)
    // what its time is measured against: the items this run did
    this.heardResult(workerId, spec.fnCid, r.ms, to > sent.from ? this.env.estimator.sizeScale(spec.fnCid, to - sent.from) : undefined)
    this.settle(spec.root, key, workerId, r.ms)
    if (this.tracker.get(spec.id).status !== 'done') {
      const missing = this.firstMissing(this.spec(spec.id))
      throw new InvalidMessageError(`result for ${spec.id} ends at item ${to}, but item ${missing} is still missing`)
    }
  }

  /** Tells the caller a task it gave is done (once; a batch task when all its pieces are). */
  private reportDone (root: string): void {
    if (this.options.onTaskDone == null || this.reported.has(root)) return
    if ((this.piecesOf.get(root) ?? [root]).some(id => this.tracker.get(id).status !== 'done')) return
    this.reported.add(root)
    this.options.onTaskDone(root, this.outcome(root))
  }

  /** Marks done every task of the root whose items are all in, and cancels their other copies. */
  private settle (root: string, key: string, workerId = splitKey(key).workerId, ms = 0): void {
    this.settlePieces(root, key, workerId, ms)
    this.reportDone(root)
  }

  private settlePieces (root: string, key: string, workerId: string, ms: number): void {
    for (const id of this.piecesOf.get(root) ?? []) {
      const s = this.spec(id)
      if (s.range == null || this.tracker.get(s.id).status === 'done') continue
      if (this.firstMissing(s) < s.range.to) continue
      this.tracker.assign(s.id, workerId)
      this.tracker.complete(s.id, workerId, { output: new Uint8Array(0), workerId, ms })
      this.options.onProgress?.({ type: 'task-done', taskId: s.id, workerId, done: this.tracker.done, total: this.tracker.total })
      for (const k of this.inflight.keys()) {
        if (k.startsWith(`${s.id}@`) && k !== key) {
          this.stopCopy(k, 'its items are all in')
        }
      }
    }
  }

  /**
   * Nothing pending, workers idle: the batch tasks expected to end last
   * are cut where their worker and an idle helper would end together, and
   * the items after the cut go to the helper as a task of their own
   * (SkewTune's repartitioning, src/core/scheduler/split.ts). A copy makes
   * a slow worker's whole task run again; a split shares what is left, and
   * the worker's items done so far are kept.
   */
  private splitTail (current: Offer[]): void {
    if (this.book != null || this.options.split === false) return
    const idle = current.filter(o => o.inFlight < o.caps.slots)
    if (idle.length === 0) return
    // a split takes one idle slot: as many as there are in one round (a
    // cap of 64 left a 10,000-peer tail's tasks waiting rounds for theirs)
    let idleSlots = 0
    for (const o of idle) idleSlots += o.caps.slots - o.inFlight
    const now = Date.now()
    const cands: SplitCandidate[] = []
    const keyOf = new Map<string, string>()
    /** Per candidate task, its other copies: behind the one split, they are cancelled with the split. */
    const othersOf = new Map<string, string[]>()
    for (const t of this.tracker.running()) {
      const spec = this.spec(t.id)
      if (spec.range == null) continue
      // of a task's copies (a backup, a copy of a suspect's task), the one
      // its reports say ends first is split: splitting another left the
      // one nearly done to be cancelled by the split
      let best: SplitCandidate | undefined
      let bestKey: string | undefined
      for (const worker of t.runningOn) {
        const key = copyKey(t.id, worker)
        // a starved device's start report can come late: count from dispatch then
        const started = this.clock.startedAt(key) ?? this.clock.dispatchedAt(key)
        const sent = this.items.rangeOf(key)
        if (started == null || sent == null) continue
        const report = this.items.reportOf(key)
        const done = Math.max(sent.from, report?.done ?? sent.from)
        const itemsLeft = spec.range.to - done
        // by the worker's own pace on this task once it has done an item (a
        // worker reports its first item at once); before that, by the
        // estimates, but no less than, for each item left, the time its first
        // item had been running at its last report (the items are alike)
        const remainingMs = done > sent.from
          ? ((report?.at ?? now) - started) / (done - sent.from) * itemsLeft - (now - (report?.at ?? now))
          : Math.max(this.expectedEnd(spec, worker) - now, ((report?.at ?? started) - started) * itemsLeft)
        if (!(remainingMs > 0) || !Number.isFinite(remainingMs)) continue
        if (best == null || remainingMs < best.remainingMs) {
          best = { taskId: t.id, itemsLeft, remainingMs }
          bestKey = key
        }
      }
      if (best == null || bestKey == null) continue
      cands.push(best)
      keyOf.set(t.id, bestKey)
      const splitOn = splitKey(bestKey).workerId
      othersOf.set(t.id, [...t.runningOn].filter(w => w !== splitOn))
    }
    if (cands.length === 0) return
    const load = new Map(idle.map(o => [o.workerId, o.inFlight]))
    const est = this.env.estimator
    chooseSplits(cands, ({ taskId, itemsLeft: left }) => {
      const spec = this.spec(taskId)
      const worker = splitKey(keyOf.get(taskId) as string).workerId
      let best: { workerId: string, startMs: number, allMs: number } | undefined
      for (const o of idle) {
        if (o.workerId === worker || (load.get(o.workerId) ?? 0) >= o.caps.slots || !satisfies(o.caps, spec.requirement)) continue
        const startMs = o.self ? 0 : est.linkMs(o.workerId) ?? POLICY.runnerUnknownLinkMs
        const allMs = est.taskMs(o.workerId, o.caps, spec.fnCid, est.sizeScale(spec.fnCid, left))
        if (best == null || startMs + allMs < best.startMs + best.allMs) best = { workerId: o.workerId, startMs, allMs }
      }
      return best
    }, { minGainMs: POLICY.splitMinGainReports * PROGRESS_EVERY_MS, maxPerRound: idleSlots }, plan => {
      const key = keyOf.get(plan.taskId) as string
      const spec = this.spec(plan.taskId)
      for (const w of othersOf.get(plan.taskId) ?? []) {
        const k = copyKey(plan.taskId, w)
        this.stopCopy(k, 'a copy ahead of it was split; its rest runs elsewhere')
      }
      const piece = this.cut(spec, key, (spec.range as ItemRange).to - plan.items)
      load.set(plan.workerId, (load.get(plan.workerId) ?? 0) + 1)
      const o = current.find(x => x.workerId === plan.workerId)
      if (o != null) o.inFlight++
      this.dispatch(piece, plan.workerId)
      this.options.onProgress?.({ type: 'split', taskId: spec.root, pieceId: piece.id, from: splitKey(key).workerId, to: plan.workerId, items: plan.items })
    })
  }

  /**
   * A batch copy whose worker is late with its progress report (gone
   * silently, or stalled) is cut after the last item it reported, once:
   * the rest goes back to pending now, long before the room would write
   * the worker off. A worker merely slow keeps the item it is on.
   */
  private cutQuiet (): void {
    if (this.book != null || this.options.split === false) return
    const now = Date.now()
    for (const t of this.tracker.running()) {
      const spec = this.spec(t.id)
      if (spec.range == null) continue
      for (const worker of t.runningOn) {
        const key = copyKey(t.id, worker)
        if (!this.cutOnce.has(key) && !this.clock.started(key)) {
          if (this.cutUnstarted(t.id, t.runningOn, worker, now)) break
          continue
        }
        const pos = this.items.position(key)
        if (pos == null || this.cutOnce.has(key) || !this.clock.quiet(key, worker, now, QUIET_CUT_MS)) continue
        // another copy as far along covers the task; copies behind (a backup
        // started later) would redo items that are in: they are cancelled
        const others = [...t.runningOn].filter(w => w !== worker)
        if (others.some(w => (this.items.position(copyKey(t.id, w)) ?? 0) >= pos)) continue
        this.cutOnce.add(key)
        const at = pos + 1
        if (spec.range.to - at < 2) continue
        for (const w of others) {
          const k = copyKey(t.id, w)
          this.stopCopy(k, 'a quiet copy ahead of it was cut; the rest runs again')
        }
        const piece = this.cut(spec, key, at)
        this.options.onProgress?.({ type: 'split', taskId: spec.root, pieceId: piece.id, from: worker, to: '', items: spec.range.to - at })
        break
      }
    }
  }

  /**
   * A batch copy whose start report is overdue while its worker sends
   * nothing else (gone before it started) keeps the first item left, and
   * the rest goes back to pending, as a quiet copy's does; unless another
   * copy of it runs and reports. True when it cut.
   */
  private cutUnstarted (taskId: string, runningOn: ReadonlySet<string>, worker: string, now: number): boolean {
    const spec = this.spec(taskId)
    const key = copyKey(taskId, worker)
    if (spec.range == null || !this.clock.startOverdue(key, this.timed(spec), worker, now, QUIET_CUT_MS)) return false
    const others = [...runningOn].filter(w => w !== worker)
    if (others.some(w => this.clock.started(copyKey(taskId, w)) && !this.clock.quiet(copyKey(taskId, w), w, now, QUIET_CUT_MS))) return false
    this.cutOnce.add(key)
    const at = this.firstMissing(spec) + 1
    if (spec.range.to - at < 2) return false
    for (const w of others) this.stopCopy(copyKey(taskId, w), 'a copy whose worker never started it was cut; the rest runs again')
    const piece = this.cut(spec, key, at)
    this.options.onProgress?.({ type: 'split', taskId: spec.root, pieceId: piece.id, from: worker, to: '', items: spec.range.to - at })
    return true
  }

  /**
   * Cuts a running batch task before item `at`: its worker is told to stop
   * there (one already past it stops after the item it is on, and its
   * result covers the first items of the piece too), and the items from
   * `at` on become a task of their own, returned pending.
   */
  private cut (spec: RunSpec, key: string, at: number): RunSpec {
    const worker = splitKey(key).workerId
    if (worker === this.env.selfId) {
      const c = this.controls.get(key)
      if (c != null) c.cutAt = Math.min(c.cutAt ?? at, at)
    } else this.env.cutRemote(worker, spec.id, at)
    return this.cutWaiting(spec, at)
  }

  /** Cuts a batch task not sent anywhere before item `at`: the items from `at` on become a task of their own, returned pending. */
  private cutWaiting (spec: RunSpec, at: number): RunSpec {
    const range = spec.range as ItemRange
    this.byId.set(spec.id, { ...spec, range: { from: range.from, to: at } })
    const piece: RunSpec = { ...spec, id: `${spec.root}~${at}`, range: { from: at, to: range.to } }
    this.byId.set(piece.id, piece)
    this.piecesOf.get(spec.root)?.push(piece.id)
    this.tracker.add(piece.id)
    return piece
  }

  /** A result came from the worker: it is alive and warm for the function, and its time (at `scale`; none: nothing to learn) teaches the estimator. */
  private heardResult (workerId: string, fnCid: string, ms: number, scale: number | undefined): void {
    this.failuresInARow.delete(workerId)
    this.clock.heardFrom(workerId, Date.now())
    let warm = this.warmOn.get(workerId)
    if (warm == null) this.warmOn.set(workerId, warm = new Set())
    warm.add(fnCid)
    const caps = this.capsOf.get(workerId)
    if (caps != null && scale != null) this.env.estimator.observe(workerId, caps, fnCid, ms, scale)
  }

  private async onResult (spec: RunSpec, workerId: string, key: string, output: Uint8Array, ms: number): Promise<void> {
    this.heardResult(workerId, spec.fnCid, ms, this.scale(spec))
    if (this.book != null && !(await this.settleVote(spec, workerId, output))) return
    if (!this.tracker.complete(spec.id, workerId, { output, workerId, ms })) return
    this.options.onProgress?.({ type: 'task-done', taskId: spec.id, workerId, done: this.tracker.done, total: this.tracker.total })
    this.reportDone(spec.root)
    // first result wins: stop the other copies
    for (const k of this.inflight.keys()) {
      if (k.startsWith(`${spec.id}@`) && k !== key) {
        this.stopCopy(k, 'another copy finished first')
      }
    }
  }

  private onError (spec: RunSpec, workerId: string, key: string, err: unknown): void {
    if (this.signal.aborted) return
    this.book?.lost(spec.id, workerId)
    if (this.cancelled.delete(key)) {
      this.tracker.release(spec.id, workerId)
      return
    }
    const lost = err instanceof WorkerLostError || (err instanceof FedraError && err.code === AbortedError.code)
    if (lost) {
      // not the task's fault: back to pending without spending an attempt
      if (this.tracker.release(spec.id, workerId)) this.options.onProgress?.({ type: 'requeued', taskIds: [spec.id], workerId, reason: (err as Error).message })
      const n = (this.failuresInARow.get(workerId) ?? 0) + 1
      this.failuresInARow.set(workerId, n)
      this.backedOffUntil.set(workerId, Date.now() + Math.min(POLICY.backOffMaxMs, POLICY.backOffFirstMs * 2 ** (n - 1)))
      return
    }
    log('task %s failed on %s: %s', spec.id, workerId, (err as Error).message)
    const failure = { code: codeOf(err), message: (err as Error).message }
    this.options.onProgress?.({ type: 'task-failed', taskId: spec.id, workerId, ...failure })
    this.tracker.fail(spec.id, workerId, failure)
  }

  /**
   * Quorum mode: records a replica's vote. True when the vote decided the
   * task and `output` is the agreed result; otherwise the replica's slot is
   * released so the loop can launch what the book still wants.
   */
  private async settleVote (spec: RunSpec, workerId: string, output: Uint8Array): Promise<boolean> {
    const book = this.book
    if (book == null) return true
    const vote = book.record(spec.id, workerId, await sha256Hex(output))
    if (vote.type === 'agreed') {
      for (const liar of vote.liars) {
        log('worker %s disagreed with an agreed result: not trusted any more', liar)
        this.options.onProgress?.({ type: 'liar', workerId: liar, taskId: spec.id })
      }
      return true
    }
    if (vote.type === 'failed') {
      this.quorumFailure = new FedraError(`task ${spec.id}: no ${this.quorum} workers agreed on its result`, 'ERR_NO_QUORUM')
    }
    this.tracker.release(spec.id, workerId)
    return false
  }

  /** Quorum mode: places the replicas the book wants, each on a worker that has not run the task. */
  private placeReplicas (pendingIds: readonly string[], current: Offer[]): void {
    const book = this.book
    if (book == null) return
    for (const id of pendingIds) {
      const spec = this.spec(id)
      for (let n = book.wanted(id); n > 0; n--) {
        const ran = book.ranOn(id)
        const candidates = current.filter(o => !ran.has(o.workerId))
        const [p] = this.env.scheduler.place([pendingOf(spec)], candidates)
        if (p == null) break
        book.started(id, p.workerId)
        const o = candidates.find(c => c.workerId === p.workerId)
        if (o != null) o.inFlight++
        this.dispatch(spec, p.workerId)
      }
    }
  }

  /**
   * Nothing pending, some worker idle: copy the tasks expected to finish
   * last onto idle workers where a copy would finish sooner.
   */
  private launchBackups (current: Offer[]): void {
    const idle = current.filter(o => o.inFlight < o.caps.slots)
    if (idle.length === 0) return
    const now = Date.now()
    const running: RunningTaskInfo[] = this.tracker.running().map(t => {
      const sent = [...t.runningOn].map(w => this.clock.dispatchedAt(copyKey(t.id, w))).filter(x => x != null)
      const spec = this.spec(t.id)
      return {
        taskId: t.id,
        workers: [...t.runningOn],
        dispatchedAt: Math.min(...sent),
        expectedEnd: Math.min(...[...t.runningOn].map(w => this.expectedEnd(spec, w))),
        // copies on workers gone slow, or quiet for a cut's while, do not count against the copy limit
        healthy: [...t.runningOn].filter(w => !this.overdue(spec, w, now) && !this.clock.quiet(copyKey(t.id, w), w, now, QUIET_CUT_MS) && !this.clock.startOverdue(copyKey(t.id, w), this.timed(spec), w, now, QUIET_CUT_MS)).length
      }
    }).filter(t => Number.isFinite(t.expectedEnd))
    let idleSlots = 0
    for (const o of idle) idleSlots += o.caps.slots - o.inFlight
    const load = new Map(idle.map(o => [o.workerId, o.inFlight]))
    chooseBackups(running, Date.now(), (taskId, exclude) => {
      const spec = this.spec(taskId)
      let best: { workerId: string, ectMs: number } | undefined
      for (const o of idle) {
        if (exclude.has(o.workerId) || (load.get(o.workerId) ?? 0) >= o.caps.slots) continue
        if (!satisfies(o.caps, spec.requirement)) continue
        // a remote copy also pays a round trip and its input fetch
        const ectMs = this.env.estimator.taskMs(o.workerId, o.caps, spec.fnCid, this.scale(spec)) + (o.self ? 0 : POLICY.runnerRemoteCopyMs)
        if (best == null || ectMs < best.ectMs) best = { workerId: o.workerId, ectMs }
      }
      return best
    }, { minGainMs: POLICY.runnerBackupMinGainMs, insure: idleSlots > POLICY.insureIdleShare * running.length ? POLICY.insureWithin : undefined }, b => {
      load.set(b.workerId, (load.get(b.workerId) ?? 0) + 1)
      const runningOn = [...this.tracker.get(b.taskId).runningOn]
      this.dispatch(this.spec(b.taskId), b.workerId)
      this.options.onProgress?.({ type: 'backup', taskId: b.taskId, workerId: b.workerId, runningOn })
    })
  }
}

/** The key of a task's copy on a worker, `${taskId}@${workerId}` (peer ids hold no '@'). */
function copyKey (taskId: string, workerId: string): string {
  return `${taskId}@${workerId}`
}

/** The inverse of `copyKey`. */
function splitKey (key: string): { taskId: string, workerId: string } {
  const at = key.lastIndexOf('@')
  return { taskId: key.slice(0, at), workerId: key.slice(at + 1) }
}

/** The runner's view of a caller's task; a batch task's items are checked here, before anything runs. */
function runSpec (s: TaskSpec): RunSpec {
  if (s.items == null) return { ...s, root: s.id }
  if (!Number.isInteger(s.items) || s.items < 1 || s.items > MAX_BATCH_ITEMS) {
    throw new InvalidMessageError(`task ${s.id}: items must be an integer from 1 to ${MAX_BATCH_ITEMS}, not ${s.items}`)
  }
  return { ...s, root: s.id, range: { from: 0, to: s.items } }
}
