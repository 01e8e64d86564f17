import { AdmissionRefusedError, FedraError, InvalidMessageError, codeOf, errorFromCode } from '../errors.js'
import { fromPlain, restoreFields, saveFields, toPlain } from './plain.js'
import type { Plain } from './plain.js'
import { JobTracker } from '../jobs/tracker.js'
import { admit } from '../scheduler/resource.js'
import { QuorumBook } from '../scheduler/quorum.js'
import { StealIndex } from '../scheduler/steal.js'
import { decodeOutputs } from '../protocol/batch.js'
import { QUIET_CUT_MS, runSpec, sizeOf } from './tasks.js'
import { BatchItems } from './batch-items.js'
import { CopyClock } from './copy-clock.js'
import { placeRound } from './placement.js'
import { cutQuiet } from './cuts.js'
import { tail } from './tail.js'
import { MemberCache, everyMet, requirementsOf } from './room-offers.js'
import { batchResult, failCopy, settle, wholeResult } from './results.js'
import { copyKey, splitKey } from './types.js'
import type { Capabilities } from '../requirements/capabilities.js'
import type { ItemRange } from '../protocol/task.js'
import type { ApplicationScheduler, Offer } from '../scheduler/types.js'
import type { TaskTimeEstimator } from '../scheduler/estimates.js'
import type { TimedTask } from './copy-clock.js'
import type { JobAction, JobPolicyOptions, JobProgress, RoomView, RunSpec, TaskOutcome, TaskSpec } from './types.js'

/** A job's state as plain data (`JobPolicy.snapshot`). */
export interface JobState {
  v: 1
  options: Plain
  fields: Plain
  /** Why a quorum failed, if it did. */
  failure: { code: string, message: string } | null
  tracker: Plain
  items: Plain
  clock: Plain
  waiting: Plain
  book: Plain
}

/** The policy's own fields a snapshot holds (the rest are its parts' states, or derived from its options). */
export const SAVED_FIELDS = [
  'byId', 'piecesOf', 'cutOnce', 'inflight', 'cancelled', 'capsOf', 'warmOn', 'cacheOf', 'backedOffUntil', 'broken',
  'failuresInARow', 'twinned', 'now', 'paused', 'given', 'sourceOpen', 'reported'
]

/** What the policy needs of the device it runs for. */
export interface JobPolicyDeps {
  /** The submitting device: it runs its own copies and is never quiet. */
  selfId: string
  scheduler: ApplicationScheduler
  /** Learns per-worker, per-function task times; kept across jobs. */
  estimator: TaskTimeEstimator
}

/** A worker's report on a copy: the first without `phase` says it left its queue for a slot. */
export interface CopyReport {
  done: number
  /** `'input'`: not started; its function or input is still arriving. */
  phase?: 'input'
  /** Batch copies sent with `partial`: outputs of items `from` to `done` (`encodeOutputs`), not reported before. */
  from?: number
  outputs?: Uint8Array
}

/** A copy's result. A batch copy's output holds the outputs of items `from` to `to`. */
export interface CopyResult {
  output: Uint8Array
  ms: number
  from?: number
  to?: number
  /** Quorum jobs (`wantsDigests`): the output's SHA-256, hex. */
  digest?: string
}

/** Why a copy ended without a result. `lost`: not the task's fault (the worker left, the link broke). */
export interface CopyFailure {
  code: string
  message: string
  lost: boolean
}

const NO_COPIES: ReadonlySet<string> = new Set()

/** The reason a `paused` event gives when the person paused the job. */
export const PAUSED_BY_PERSON = 'paused by you'

/**
 * One job's policy, written once: events in (tasks submitted, the room at
 * each tick, reports, results, failures, workers lost), actions out (send,
 * stop, cut, done, progress). It reads no clock: every event carries `now`.
 * It does no I/O: the browser's and Node's runner (src/peer/job-runner.ts)
 * turns its actions into messages.
 *
 * Its decisions: admission, placement (largest first, through the
 * application's scheduler), twins for a first round the room can hold
 * twice, spreads of batch tasks over idle workers, copies of a suspect
 * worker's tasks, cuts of quiet or unstarted batch copies, the tail's
 * splits, moves and backups, quorum replicas and votes, re-queues, and a
 * stream's end. The parts live in placement.ts, cuts.ts and tail.ts; this
 * class holds the state they share.
 *
 * Over 500 lines, on purpose: the state every part shares, the list of what
 * a snapshot saves, and the event API stay in one file, so that one file
 * says what a job's state is; the decisions themselves are in the parts.
 */
export class JobPolicy {
  /** @internal The job's tasks and pieces, by id. */
  readonly byId = new Map<string, RunSpec>()
  /** @internal Batch tasks: their items' outputs as they come in, and how far each copy is. */
  readonly items = new BatchItems()
  /** @internal Batch tasks: the ids of a root's pieces (itself included). */
  readonly piecesOf = new Map<string, string[]>()
  /** @internal Batch copies cut already for running late or a late report (once each). */
  readonly cutOnce = new Set<string>()
  /** @internal */
  readonly tracker = new JobTracker<TaskOutcome>([])
  /** @internal Copies sent and not yet ended, in the order sent (`task@worker`). */
  readonly inflight = new Set<string>()
  /** @internal Copies the policy stopped itself: their end is no failure. */
  readonly cancelled = new Set<string>()
  /** @internal When each copy left and started, when each worker was last heard from, and what follows. */
  readonly clock: CopyClock
  /** @internal Copies sent, latest expected end first: waiting ones may move to a worker that comes free. */
  readonly waiting = new StealIndex<string>()
  /** @internal */
  readonly capsOf = new Map<string, Capabilities>()
  /** @internal Worker → function CIDs it ran for us. */
  readonly warmOn = new Map<string, Set<string>>()
  /** @internal Worker → function CIDs its heartbeat says it holds. */
  readonly cacheOf = new Map<string, ReadonlySet<string>>()
  /** @internal A worker whose stream just failed sits out until then (`POLICY.backOffFirstMs`, doubling per failure in a row). */
  readonly backedOffUntil = new Map<string, number>()
  /** @internal Workers whose answers broke the protocol: no more tasks in this job. */
  readonly broken = new Set<string>()
  /** @internal */
  readonly failuresInARow = new Map<string, number>()
  /** @internal */
  readonly quorum: number
  /** @internal */
  readonly book?: QuorumBook
  /** @internal The first placement round has been looked at for twins. */
  twinned: boolean
  /** @internal The time of the event being handled. */
  now = 0
  /** @internal */
  quorumFailure?: Error
  private paused?: string
  /** The caller's tasks, in the order given. */
  private readonly given: string[] = []
  private sourceOpen: boolean
  /** Tasks already reported done. */
  private readonly reported = new Set<string>()
  private out: JobAction[] = []
  /** Sets built from the room's entries, kept while they say the same (derived: not saved). */
  readonly #members = new MemberCache()
  /** `inflight` by task, in the order sent (derived: rebuilt on restore). */
  readonly #copies = new Map<string, Set<string>>()
  /** When each worker was last heard from, as the clock has it (derived: empty after a restore, which only makes `heardWithin` answer no). */
  readonly #heard = new Map<string, number>()

  constructor (readonly deps: JobPolicyDeps, specs: readonly TaskSpec[], readonly options: JobPolicyOptions = {}) {
    this.clock = new CopyClock(deps.estimator, w => this.capsOf.get(w), deps.selfId)
    for (const s of specs) this.add(s)
    this.sourceOpen = options.streaming === true
    // twins are for a job whose whole first round is known; a stream's first task is not that
    this.twinned = this.sourceOpen
    this.quorum = Math.max(1, options.quorum ?? 1)
    if (this.quorum > 1) this.book = new QuorumBook({ k: this.quorum })
  }

  // — events —

  /** A task joins the job (a streaming job's source). */
  submit (s: TaskSpec): void {
    this.add(s)
  }

  /** The streaming source is exhausted: the job ends once every task is done. */
  closeSource (): void {
    this.sourceOpen = false
  }

  /**
   * One round: cuts of quiet copies, admission, then placement of pending
   * tasks, or, with nothing pending, the tail (splits, moves, backups).
   * `paused`: the person paused the job; nothing new is sent.
   */
  tick (now: number, room: RoomView, paused = false): JobAction[] {
    this.now = now
    cutQuiet(this)
    if (paused) {
      if (this.paused !== PAUSED_BY_PERSON) {
        this.paused = PAUSED_BY_PERSON
        this.emit({ type: 'paused', reason: PAUSED_BY_PERSON })
      }
      return this.drain()
    }
    if (this.paused === PAUSED_BY_PERSON) {
      this.paused = undefined
      this.emit({ type: 'resumed' })
    }
    const all = this.offers(room)
    // a worker gone quiet gets no new work until heard again (admission still counts it)
    const quiet = this.quietWorkers()
    const usable = quiet.size === 0 ? all : all.filter(o => !quiet.has(o.workerId))
    const pendingIds = this.tracker.pending()
    if (pendingIds.length === 0) {
      // no tail while a source may still bring tasks: idle workers wait for them
      if (this.book == null && this.options.backups !== false && !this.sourceOpen) tail(this, usable)
      return this.drain()
    }
    if (!this.admitted(pendingIds, all)) return this.drain()
    placeRound(this, pendingIds, usable)
    // every task placed: the tail's turn in the same round, on the offers as
    // they are now (a few pieces pending each round kept a 1,000-peer
    // room's last maps from being split for seconds while it idled)
    if (this.tracker.pending().length === 0 && this.book == null && this.options.backups !== false && !this.sourceOpen) {
      const now = this.offers(room)
      tail(this, quiet.size === 0 ? now : now.filter(o => !quiet.has(o.workerId)))
    }
    return this.drain()
  }

  /** A worker reported on a copy (its first report: the copy left the queue for a slot). */
  progress (taskId: string, workerId: string, report: CopyReport | undefined, now: number): JobAction[] {
    this.now = now
    this.#heard.set(workerId, now)
    const key = copyKey(taskId, workerId)
    if (report?.phase === 'input') {
      this.clock.arriving(key, workerId, now)
      return this.drain()
    }
    this.clock.progress(key, workerId, now)
    const spec = this.byId.get(taskId)
    if (report == null || spec == null || this.items.rangeOf(key) == null) return this.drain()
    this.items.reported(key, report.done, now)
    if (report.outputs == null || report.from == null || this.book != null) return this.drain()
    let outputs: Uint8Array[]
    try {
      outputs = decodeOutputs(report.outputs, report.done - report.from)
    } catch {
      // a malformed report costs its items nothing: they come with the result or run again
      return this.drain()
    }
    this.items.store(spec.root, report.from, outputs, workerId)
    settle(this, spec.root, key)
    return this.drain()
  }

  /** A copy's result came in (its output fetched, and hashed for a quorum). */
  result (taskId: string, workerId: string, r: CopyResult, now: number): JobAction[] {
    this.now = now
    const spec = this.spec(taskId)
    const key = copyKey(taskId, workerId)
    try {
      if (spec.range != null && this.book == null) batchResult(this, spec, workerId, key, r)
      else wholeResult(this, spec, workerId, key, r)
    } catch (err) {
      failCopy(this, spec, workerId, key, { code: codeOf(err), message: (err as Error).message, lost: false })
    }
    return this.drain()
  }

  /** A copy ended without a result. */
  failed (taskId: string, workerId: string, failure: CopyFailure, now: number): JobAction[] {
    this.now = now
    failCopy(this, this.spec(taskId), workerId, copyKey(taskId, workerId), failure)
    return this.drain()
  }

  /** A copy is over (after its result or failure): its bookkeeping goes. */
  copyEnded (taskId: string, workerId: string): void {
    const key = copyKey(taskId, workerId)
    this.inflight.delete(key)
    this.#indexCopy(taskId, key, false)
    this.clock.forget(key)
    this.items.forget(key)
    this.cutOnce.delete(key)
  }

  /** A worker left the room: its copies go back to pending (their ends follow as failures, `lost`). */
  peerLost (peerId: string, now: number): JobAction[] {
    this.now = now
    const back = this.tracker.workerLost(peerId)
    if (back.length > 0) this.emit({ type: 'requeued', taskIds: back, workerId: peerId, reason: 'left the room' })
    return this.drain()
  }

  // — what the driver reads —

  /** Every task is done and no more can come. */
  get finished (): boolean {
    return !this.sourceOpen && this.tracker.finished
  }

  /** Results must carry their digest (a quorum votes on them). */
  get wantsDigests (): boolean {
    return this.book != null
  }

  /** Why the job failed, if it did. */
  error (): Error | undefined {
    const failed = this.tracker.failed
    if (failed != null) {
      return errorFromCode(failed.lastError?.code ?? 'ERR_FEDRA', `task ${failed.id} failed ${failed.attempts} times: ${failed.lastError?.message ?? 'unknown error'}`)
    }
    return this.quorumFailure
  }

  /** Every task the caller gave, in order, with its outcome (once `finished`). */
  outcomes (): Map<string, TaskOutcome> {
    return new Map(this.given.map(id => [id, this.outcome(id)]))
  }

  /** A task or piece by id (the driver builds its request from it). */
  spec (id: string): RunSpec {
    const s = this.byId.get(id)
    if (s == null) throw new InvalidMessageError(`no task ${id} in this job`)
    return s
  }

  /**
   * The job's whole state as plain data (`Plain`: dag-cbor encodes it), to
   * store or hand to another device; `JobPolicy.restore` makes the same
   * policy again. Taken between events (no actions are ever held back).
   */
  snapshot (): JobState {
    const failure = this.quorumFailure
    return {
      v: 1,
      options: toPlain(this.options),
      fields: saveFields(this, SAVED_FIELDS),
      failure: failure == null ? null : { code: codeOf(failure), message: failure.message },
      tracker: this.tracker.toState(),
      items: this.items.toState(),
      clock: this.clock.toState(),
      waiting: this.waiting.toState(),
      book: this.book?.toState() ?? null
    }
  }

  /** The policy a snapshot was taken of, driven from here on with `deps` (the estimator is the device's, not the job's). */
  static restore (deps: JobPolicyDeps, state: JobState): JobPolicy {
    if (state == null || typeof state !== 'object' || state.v !== 1) throw new InvalidMessageError('a saved job state must be version 1')
    const p = new JobPolicy(deps, [], (fromPlain(state.options) ?? {}) as JobPolicyOptions)
    restoreFields(p, state.fields)
    Object.assign(p, {
      tracker: JobTracker.fromState<TaskOutcome>(state.tracker),
      items: BatchItems.fromState(state.items),
      waiting: StealIndex.fromState<string>(state.waiting),
      book: state.book == null ? undefined : QuorumBook.fromState(state.book)
    })
    p.clock.restore(state.clock)
    for (const key of p.inflight) p.#indexCopy(splitKey(key).taskId, key, true)
    if (state.failure != null) p.quorumFailure = new FedraError(state.failure.message, state.failure.code)
    return p
  }

  // — shared by the policy's parts —

  /** @internal */
  emit (event: JobProgress): void {
    this.out.push({ type: 'progress', event })
  }

  /** @internal Sends a copy of the task to the worker. */
  dispatch (spec: RunSpec, workerId: string): void {
    const { selfId, estimator } = this.deps
    this.tracker.assign(spec.id, workerId)
    const key = copyKey(spec.id, workerId)
    this.inflight.delete(key)
    this.inflight.add(key)
    this.#indexCopy(spec.id, key, true)
    // expected end: behind what the worker already holds for this job (its
    // slots share the queue), plus the link; compute alone would make every
    // queued task look overdue
    const caps = this.capsOf.get(workerId)
    const queueFactor = Math.max(1, this.tracker.inFlightOn(workerId) / Math.max(1, caps?.slots ?? 1))
    const self = workerId === selfId
    const link = self ? 0 : estimator.linkMs(workerId) ?? 0
    // its function and input still have to reach it: the start it is due, and how long it may say they are arriving
    this.clock.dispatched(key, this.now, queueFactor, link, self ? 0 : estimator.fetchMs(workerId))
    this.emit({ type: 'dispatched', taskId: spec.id, workerId })
    let range: ItemRange | undefined
    if (spec.range != null) {
      // a batch task resumes at its first item not yet in (a lost run's
      // reported items are kept); quorum votes on whole outputs instead
      range = this.book == null ? { from: this.firstMissing(spec), to: spec.range.to } : spec.range
      this.items.sentFor(key, range)
    }
    if (this.book == null && this.options.lateBinding === true) this.waiting.add(`${spec.fnCid}\u0000${JSON.stringify(spec.requirement)}`, spec.requirement, key, this.expectedEnd(spec, workerId))
    const warm = this.warmOn.get(workerId)?.has(spec.fnCid) === true || this.cacheOf.get(workerId)?.has(spec.fnCid) === true
    this.out.push({ type: 'send', spec, workerId, ...(range != null ? { range, partial: this.book == null } : {}), warm })
  }

  /** @internal Stops a copy we no longer want (its error is then no failure: the task is released, not retried). */
  stopCopy (key: string, why: string): void {
    if (!this.inflight.has(key)) return
    this.cancelled.add(key)
    const { taskId, workerId } = splitKey(key)
    this.out.push({ type: 'stop', taskId, workerId, why })
  }

  /**
   * @internal Cuts a running batch task before item `at`: its worker is
   * told to stop there (one already past it stops after the item it is on,
   * and its result covers the first items of the piece too), and the items
   * from `at` on become a task of their own, returned pending.
   */
  cut (spec: RunSpec, key: string, at: number): RunSpec {
    this.out.push({ type: 'cut', taskId: spec.id, workerId: splitKey(key).workerId, at })
    return this.cutWaiting(spec, at)
  }

  /** @internal Cuts a batch task not sent anywhere before item `at`: the items from `at` on become a task of their own, returned pending. */
  cutWaiting (spec: RunSpec, at: number): RunSpec {
    const range = spec.range as ItemRange
    this.byId.set(spec.id, { ...spec, range: { from: range.from, to: at } })
    const piece: RunSpec = { ...spec, id: `${spec.root}~${at}`, range: { from: at, to: range.to } }
    this.byId.set(piece.id, piece)
    this.piecesOf.get(spec.root)?.push(piece.id)
    this.tracker.add(piece.id)
    return piece
  }

  /** @internal The first item of the batch task's range not in yet (its range's end when all are). */
  firstMissing (spec: RunSpec): number {
    return this.items.firstMissing(spec.root, spec.range as ItemRange)
  }

  /** @internal Scale of a task against its function's reference size. */
  scale (spec: RunSpec): number {
    return this.deps.estimator.sizeScale(spec.fnCid, sizeOf(spec))
  }

  /** @internal What the copy clock needs of a task. */
  timed (spec: RunSpec): TimedTask {
    return { fnCid: spec.fnCid, scale: this.scale(spec) }
  }

  /** @internal When the task's copy on the worker is expected to end (Infinity when not sent there). */
  expectedEnd (spec: RunSpec, workerId: string): number {
    return this.clock.expectedEnd(copyKey(spec.id, workerId), this.timed(spec), workerId, this.now)
  }

  /** @internal Whether the task's copy on the worker is overdue (late beyond the worker's dispersion, or its worker quiet). */
  overdue (spec: RunSpec, workerId: string): boolean {
    return this.clock.overdue(copyKey(spec.id, workerId), this.timed(spec), workerId, this.now)
  }

  /** @internal Workers with a started copy quiet for a cut's while (gone silently, or stalled). */
  quietWorkers (): Set<string> {
    const out = new Set<string>()
    for (const t of this.tracker.running()) {
      for (const w of t.runningOn) if (!out.has(w) && !this.heardWithin(w, QUIET_CUT_MS) && this.clock.quiet(copyKey(t.id, w), w, this.now, QUIET_CUT_MS)) out.add(w)
    }
    return out
  }

  /**
   * @internal Whether the worker was heard from within `ms` of now: then
   * none of its copies is quiet, nor late with its start report, by that
   * while (a round's scans skip it).
   */
  heardWithin (workerId: string, ms: number): boolean {
    const at = this.#heard.get(workerId)
    return at != null && this.now - at <= ms
  }

  /** @internal The task's copies in flight (`task@worker`), in the order sent. */
  copiesOf (taskId: string): ReadonlySet<string> {
    return this.#copies.get(taskId) ?? NO_COPIES
  }

  // — inside —

  #indexCopy (taskId: string, key: string, sent: boolean): void {
    let keys = this.#copies.get(taskId)
    if (keys == null) {
      if (!sent) return
      this.#copies.set(taskId, keys = new Set())
    }
    keys.delete(key)
    if (sent) keys.add(key)
    else if (keys.size === 0) this.#copies.delete(taskId)
  }

  private drain (): JobAction[] {
    const out = this.out
    this.out = []
    return out
  }

  private add (s: TaskSpec): void {
    if (this.byId.has(s.id)) throw new InvalidMessageError(`task id ${s.id} is given twice in one job`)
    this.byId.set(s.id, runSpec(s))
    if (s.items != null) {
      this.items.add(s.id, s.items)
      this.piecesOf.set(s.id, [s.id])
    }
    this.tracker.add(s.id)
    this.given.push(s.id)
  }

  /** A task's outcome; a batch task's output gathers its items, whoever ran them. */
  private outcome (id: string): TaskOutcome {
    const o = this.tracker.get(id).output as TaskOutcome
    const r = this.book == null ? this.items.result(id) : undefined
    return r == null ? o : { ...o, ...r }
  }

  /** Admission of the pending tasks' requirements; pauses (or refuses) when nobody fits. */
  private admitted (pendingIds: readonly string[], all: Offer[]): boolean {
    const requirements = requirementsOf(pendingIds, id => this.spec(id).requirement)
    // the refusal's reason is worked out only when some requirement is unmet
    const admission = everyMet(requirements, all)
      ? { admitted: true as const }
      : admit(requirements, all.map(o => ({ workerId: o.workerId, caps: o.caps, consent: true, verified: true, self: o.self })))
    if (!admission.admitted) {
      if (this.options.waitForWorkers !== true) throw new AdmissionRefusedError(admission.reason)
      if (this.paused !== admission.reason) {
        this.paused = admission.reason
        this.emit({ type: 'paused', reason: admission.reason })
      }
      return false
    }
    if (this.paused != null) {
      this.paused = undefined
      this.emit({ type: 'resumed' })
    }
    return true
  }

  /** Verified, consenting, trusted workers not backed off, this device included when it volunteers. */
  private offers (room: RoomView): Offer[] {
    const { selfId, estimator, scheduler } = this.deps
    const list: Offer[] = []
    this.capsOf.set(selfId, room.self.caps)
    if (room.self.consent) {
      list.push({ workerId: selfId, caps: room.self.caps, inFlight: this.tracker.inFlightOn(selfId), reportedLoad: 0, cached: new Set(), self: true, rttMs: 0 })
    }
    for (const e of room.members) {
      const sets = this.#members.sets(e, this.warmOn.get(e.id))
      this.cacheOf.set(e.id, sets.cache)
      if (!e.verified || !e.consent) continue
      if (this.book != null && !this.book.isTrusted(e.id)) continue
      if (this.broken.has(e.id)) continue
      if ((this.backedOffUntil.get(e.id) ?? 0) > this.now) continue
      this.capsOf.set(e.id, e.caps)
      list.push({ workerId: e.id, caps: e.caps, inFlight: this.tracker.inFlightOn(e.id), reportedLoad: e.load, cached: sets.cached, self: false, rttMs: estimator.linkMs(e.id) })
    }
    const accepts = scheduler.accepts
    return accepts == null ? list : list.filter(o => accepts(o))
  }

  /** A result came from the worker: it is alive and warm for the function, and its time (at `scale`; none: nothing to learn) teaches the estimator. */
  /** @internal */
  heardResult (workerId: string, fnCid: string, ms: number, scale: number | undefined): void {
    this.failuresInARow.delete(workerId)
    this.clock.heardFrom(workerId, this.now)
    this.#heard.set(workerId, this.now)
    let warm = this.warmOn.get(workerId)
    if (warm == null) this.warmOn.set(workerId, warm = new Set())
    warm.add(fnCid)
    const caps = this.capsOf.get(workerId)
    if (caps != null && scale != null) this.deps.estimator.observe(workerId, caps, fnCid, ms, scale)
  }

  /** @internal Tells the caller a task it gave is done (once; a batch task when all its pieces are). */
  reportDone (root: string): void {
    if (this.reported.has(root)) return
    if ((this.piecesOf.get(root) ?? [root]).some(id => this.tracker.get(id).status !== 'done')) return
    this.reported.add(root)
    this.out.push({ type: 'done', taskId: root, outcome: this.outcome(root) })
    if (this.options.keepOutputs === false) {
      const t = this.tracker.get(root)
      if (t.output != null) t.output = { ...t.output, output: new Uint8Array(0) }
      this.items.release(root)
    }
  }


}
