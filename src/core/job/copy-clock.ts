import { lateFactor } from '../scheduler/estimates.js'
import { POLICY } from '../scheduler/policy-config.js'
import { PROGRESS_EVERY_MS } from '../protocol/task.js'
import type { Capabilities } from '../requirements/capabilities.js'
import type { TaskTimeEstimator } from '../scheduler/estimates.js'
import { restoreFields, saveFields } from './plain.js'
import type { Plain } from './plain.js'

/** What the clock needs of a task: its function and its size against the function's other tasks. */
export interface TimedTask {
  fnCid: string
  /** Size against the function's reference task (`TaskTimeEstimator.sizeScale`). */
  scale: number
}

interface Sent {
  dispatchedAt: number
  /** How many tasks' worth it queued behind on its worker (≥ 1). */
  queueFactor: number
  /** The link's cost of a task to that worker, ms. */
  linkMs: number
  /** Expected time, from the dispatch, for its function and input to reach the worker, ms (absent in older snapshots: 0). */
  fetchMs?: number
  /** When the worker said it started (left its queue for a slot). */
  startedAt?: number
  /** When the worker last said the copy's function or input was still arriving. */
  inputAt?: number
}

/**
 * The times of a job's copies on its workers: when each was sent, when its
 * worker said it started, when each worker was last heard from; and what
 * follows from them: when a copy is expected to end, whether it is
 * overdue. Keys are the runner's copy keys (`task@worker`).
 *
 * Lateness counts from a copy's start (waiting behind other tasks is not
 * lateness), against the estimate *without* the overrun floor that this
 * very lateness sets (`TaskTimeEstimator.observeOverrun`): read through the
 * floor, an overdue copy would seem about to end and never get its backup.
 */
export class CopyClock {
  private readonly sent = new Map<string, Sent>()
  /** Per worker: when it last reported anything (progress or a result). */
  private readonly heard = new Map<string, number>()

  constructor (
    private readonly estimator: TaskTimeEstimator,
    private readonly capsOf: (workerId: string) => Capabilities | undefined,
    /** The submitting device: it runs its own copies and is never quiet. */
    private readonly selfId: string
  ) {}

  /** The times as plain data (plain.ts); the estimator is not the job's and stays out. */
  toState (): Plain {
    return saveFields(this, ['sent', 'heard'])
  }

  /** Puts saved times back. */
  restore (state: Plain): this {
    return restoreFields(this, state)
  }

  /** A copy left for its worker; `fetchMs`: when its function and input are expected there, from now (`TaskTimeEstimator.fetchMs`). */
  dispatched (key: string, at: number, queueFactor: number, linkMs: number, fetchMs = 0): void {
    this.sent.set(key, { dispatchedAt: at, queueFactor, linkMs, fetchMs })
  }

  /** The worker reported on the copy: its first report says it started (and, after input reports, how long they took to arrive). */
  progress (key: string, workerId: string, at: number): void {
    const s = this.sent.get(key)
    if (s != null && s.startedAt == null) {
      s.startedAt = at
      if (s.inputAt != null) this.estimator.observeFetch(workerId, s.inputAt - s.dispatchedAt)
    }
    this.heard.set(workerId, at)
  }

  /**
   * The worker says the copy has not started: its function or input is
   * still arriving. The copy's clock waits for it: lateness and the start
   * it is due count from the input's arrival, not from the dispatch, so a
   * large input on a slow link makes no copy look overdue.
   */
  arriving (key: string, workerId: string, at: number): void {
    const s = this.sent.get(key)
    if (s != null && s.startedAt == null) s.inputAt = at
    this.heard.set(workerId, at)
  }

  /**
   * Whether the copy has not started and its worker said lately that its
   * input is still arriving, within what its fetch may take
   * (`arrivalAllowance`): past that, a copy is late like any other, however
   * its worker says it fetches (a microcontroller's 20 kB/s link held a
   * 1,000-peer job's tail for 30 s).
   */
  inputArriving (key: string, now: number): boolean {
    const s = this.sent.get(key)
    return s != null && s.startedAt == null && s.inputAt != null && now - s.inputAt <= POLICY.quietAfterReports * PROGRESS_EVERY_MS &&
      now - s.dispatchedAt <= arrivalAllowance(s)
  }

  /** Something came from the worker (a result). */
  heardFrom (workerId: string, at: number): void {
    this.heard.set(workerId, at)
  }

  /** The copy is over (a result, an error, a cancel). */
  forget (key: string): void {
    this.sent.delete(key)
  }

  dispatchedAt (key: string): number | undefined {
    return this.sent.get(key)?.dispatchedAt
  }

  started (key: string): boolean {
    return this.startedAt(key) != null
  }

  /** When the worker said the copy started, if it did. */
  startedAt (key: string): number | undefined {
    return this.sent.get(key)?.startedAt
  }

  /**
   * Whether the worker running this started copy has sent nothing at all
   * for a while (gone silently, or stalled); one report late is no sign: a
   * throttled tab sends them late (`POLICY.quietAfterReports`). Never the
   * submitter itself.
   */
  quiet (key: string, workerId: string, now: number, afterMs = POLICY.quietAfterReports * PROGRESS_EVERY_MS): boolean {
    const started = this.sent.get(key)?.startedAt
    return started != null && workerId !== this.selfId && now - Math.max(started, this.heard.get(workerId) ?? 0) > afterMs
  }

  /**
   * Whether a copy not yet started is late with its start report by more
   * than `afterMs` while its worker sends nothing else either (gone before
   * it started). Its start is due once the link has brought it and the
   * tasks it queued behind have run; a worker heard from since is alive,
   * and only its queue is slow. Never the submitter itself.
   */
  startOverdue (key: string, task: TimedTask, workerId: string, now: number, afterMs: number): boolean {
    const s = this.sent.get(key)
    if (s == null || s.startedAt != null || workerId === this.selfId) return false
    const ms = this.expectedMs(task, workerId, false)
    if (!Number.isFinite(ms)) return false
    const due = readyAt(s) + s.linkMs + ms * (s.queueFactor - 1)
    return now - Math.max(due, this.heard.get(workerId) ?? 0) > afterMs
  }

  /** Expected compute of the task on the worker, ms (Infinity when its capabilities are unknown); `floor`: with the worker's overrun floor. */
  expectedMs (task: TimedTask, workerId: string, floor = true): number {
    const caps = this.capsOf(workerId)
    if (caps == null) return Infinity
    const ms = this.estimator.taskMs(workerId, caps, task.fnCid, task.scale)
    return floor ? ms : ms / this.estimator.overrunOf(workerId)
  }

  /**
   * When the copy is expected to end, by today's estimate of its compute
   * (a copy sent before its function was measured was expected on a
   * guess), behind its queue and link as sent; Infinity when unknown.
   */
  expectedEnd (key: string, task: TimedTask, workerId: string, now: number): number {
    const s = this.sent.get(key)
    if (s == null) return Infinity
    // once it started, its own run counts; before, a whole run is still ahead of it
    if (s.startedAt != null) return s.startedAt + this.expectedMs(task, workerId, false) + s.linkMs / 2
    const ms = this.expectedMs(task, workerId)
    return Math.max(readyAt(s, false) + ms * s.queueFactor + s.linkMs, now + ms)
  }

  /**
   * Whether the copy is overdue: it has run past its estimate by more than
   * its worker's late factor (the function measured already), or its worker
   * stopped reporting progress on it (gone silently, or stalled). A copy
   * running late also floors its worker's slowness (a censored sample), so
   * that placement stops treating a hidden straggler as fast.
   */
  overdue (key: string, task: TimedTask, workerId: string, now: number): boolean {
    const s = this.sent.get(key)
    if (s == null) return false
    const started = s.startedAt
    if (this.quiet(key, workerId, now)) return true
    if (!this.estimator.knows(task.fnCid)) return false
    // late beyond the worker's own usual dispersion: a throttled or busy device strays a lot
    const factor = lateFactor(this.estimator.dispersion(workerId))
    const expected = this.expectedMs(task, workerId, false)
    // from its start when the worker said so: time spent waiting behind
    // other tasks is not lateness (it made queued tasks look overdue)
    if (started != null) {
      const ran = (now - started) / expected
      if (ran <= factor) return false
      this.estimator.observeOverrun(workerId, ran)
      return true
    }
    // its input still arriving, reported lately: not late, whatever the time since dispatch
    if (this.inputArriving(key, now)) return false
    return now - readyAt(s) > factor * (s.queueFactor * expected + s.linkMs)
  }
}

/** How long after its dispatch a copy's input may still be arriving before it is late: `arrivalSlack` × its expected fetch, plus a grace. */
function arrivalAllowance (s: Sent): number {
  return s.linkMs + POLICY.arrivalSlack * (s.fetchMs ?? 0) + POLICY.arrivalGraceReports * PROGRESS_EVERY_MS
}

/**
 * Where an unstarted copy's clock counts from: its worker's last word that
 * its function and input were still arriving, up to the allowance, and no
 * sooner than their expected arrival (`fetch`: the due start and lateness;
 * not its expected end, which a backup's, priced without a fetch, is
 * weighed against).
 */
function readyAt (s: Sent, fetch = true): number {
  const expected = s.dispatchedAt + (fetch ? s.fetchMs ?? 0 : 0)
  return s.inputAt == null ? expected : Math.max(expected, Math.min(s.inputAt, s.dispatchedAt + arrivalAllowance(s)))
}
