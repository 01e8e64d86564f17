import { restoreFields, saveFields } from '../job/plain.js'
import type { Plain } from '../job/plain.js'

/**
 * The state of one job's tasks: pending → running (on a worker, an attempt)
 * → done. A task whose worker vanishes goes back to pending; a result for a
 * task already done is ignored, so a task finished twice counts once.
 */
export type TaskStatus = 'pending' | 'running' | 'done' | 'failed'

export interface TaskState<O> {
  id: string
  status: TaskStatus
  attempts: number
  /** Workers currently running this task (more than one with backups). */
  runningOn: Set<string>
  doneBy?: string
  output?: O
  lastError?: { code: string, message: string }
}

export interface TrackerInit {
  /** Attempts that end in an error before the task, and so the job, fails. */
  maxAttempts?: number
}

export class JobTracker<O> {
  private readonly tasks = new Map<string, TaskState<O>>()
  private readonly order: string[]
  private readonly maxAttempts: number
  private doneCount = 0
  requeued = 0

  constructor (taskIds: readonly string[], init: TrackerInit = {}) {
    this.maxAttempts = init.maxAttempts ?? 3
    this.order = [...taskIds]
    for (const id of taskIds) {
      if (this.tasks.has(id)) throw new Error(`duplicate task id ${id}`)
      this.tasks.set(id, { id, status: 'pending', attempts: 0, runningOn: new Set() })
    }
  }

  /**
   * A task joins the job while it runs: a piece split off a running task
   * (its items after the split point) is a task of its own.
   */
  add (id: string): void {
    if (this.tasks.has(id)) throw new Error(`duplicate task id ${id}`)
    this.order.push(id)
    this.tasks.set(id, { id, status: 'pending', attempts: 0, runningOn: new Set() })
  }

  get total (): number { return this.order.length }
  get done (): number { return this.doneCount }
  get finished (): boolean { return this.doneCount === this.order.length }
  get failed (): TaskState<O> | undefined {
    for (const t of this.tasks.values()) if (t.status === 'failed') return t
    return undefined
  }

  /** Pending task ids, in submission order. */
  pending (): string[] {
    return this.order.filter(id => this.tasks.get(id)?.status === 'pending')
  }

  running (): TaskState<O>[] {
    return this.order.map(id => this.tasks.get(id) as TaskState<O>).filter(t => t.status === 'running')
  }

  inFlightOn (workerId: string): number {
    let n = 0
    for (const t of this.tasks.values()) if (t.runningOn.has(workerId)) n++
    return n
  }

  get (id: string): TaskState<O> {
    const t = this.tasks.get(id)
    if (t == null) throw new Error(`unknown task ${id}`)
    return t
  }

  assign (id: string, workerId: string): void {
    const t = this.get(id)
    if (t.status === 'done' || t.status === 'failed') return
    t.status = 'running'
    t.attempts++
    t.runningOn.add(workerId)
  }

  /** Records a result; false when the task was already done (a duplicate). */
  complete (id: string, workerId: string, output: O): boolean {
    const t = this.tasks.get(id)
    if (t == null) return false
    t.runningOn.delete(workerId)
    if (t.status === 'done') return false
    t.status = 'done'
    t.doneBy = workerId
    t.output = output
    this.doneCount++
    return true
  }

  /**
   * An attempt failed. Back to pending while attempts remain and no other
   * copy is still running; after maxAttempts the task fails for good.
   */
  fail (id: string, workerId: string, error: { code: string, message: string }): void {
    const t = this.tasks.get(id)
    if (t == null) return
    t.runningOn.delete(workerId)
    if (t.status === 'done' || t.status === 'failed') return
    t.lastError = error
    if (t.runningOn.size > 0) return
    t.status = t.attempts >= this.maxAttempts ? 'failed' : 'pending'
  }

  /**
   * One attempt ended through no fault of the task (its worker's stream
   * failed): back to pending, attempt given back, unless a copy still runs.
   */
  release (id: string, workerId: string): boolean {
    const t = this.tasks.get(id)
    if (t == null || !t.runningOn.delete(workerId)) return false
    if (t.status !== 'running' || t.runningOn.size > 0) return false
    t.status = 'pending'
    t.attempts = Math.max(0, t.attempts - 1)
    this.requeued++
    return true
  }

  /** The worker left: every task it was running goes back to pending now. */
  workerLost (workerId: string): string[] {
    const back: string[] = []
    for (const t of this.tasks.values()) {
      if (!t.runningOn.delete(workerId)) continue
      if (t.status === 'running' && t.runningOn.size === 0) {
        t.status = 'pending'
        // a lost worker is not the task's fault: give the attempt back
        t.attempts = Math.max(0, t.attempts - 1)
        back.push(t.id)
      }
    }
    this.requeued += back.length
    return back
  }

  /** The tracker as plain data (src/core/job/plain.ts). */
  toState (): Plain {
    return saveFields(this, ['tasks', 'order', 'maxAttempts', 'doneCount', 'requeued'])
  }

  static fromState<O> (state: Plain): JobTracker<O> {
    return restoreFields(new JobTracker<O>([]), state)
  }

  outputs (): O[] {
    return this.order.map(id => {
      const t = this.get(id)
      if (t.status !== 'done') throw new Error(`task ${id} is not done`)
      return t.output as O
    })
  }
}
