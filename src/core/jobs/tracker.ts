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
  /*
   * Indexes over the state above (not saved: `fromState` rebuilds them), so
   * that a tick's questions cost what they return, not the whole job: each
   * task's place in `order`, the tasks each worker holds, the pending and
   * running lists (kept until a status changes), the first failed task.
   */
  #pos = new Map<string, number>()
  /** The tasks' states in `order` (a scan without a lookup per task). */
  #states: Array<TaskState<O>> = []
  #on = new Map<string, Set<string>>()
  #pending: string[] | undefined
  #running: Array<TaskState<O>> | undefined
  #failed: string | undefined

  constructor (taskIds: readonly string[], init: TrackerInit = {}) {
    this.maxAttempts = init.maxAttempts ?? 3
    this.order = []
    for (const id of taskIds) this.add(id)
  }

  /**
   * A task joins the job while it runs: a piece split off a running task
   * (its items after the split point) is a task of its own.
   */
  add (id: string): void {
    if (this.tasks.has(id)) throw new Error(`duplicate task id ${id}`)
    this.#pos.set(id, this.order.length)
    this.order.push(id)
    const t: TaskState<O> = { id, status: 'pending', attempts: 0, runningOn: new Set() }
    this.tasks.set(id, t)
    this.#states.push(t)
    this.#pending = undefined
  }

  get total (): number { return this.order.length }
  get done (): number { return this.doneCount }
  get finished (): boolean { return this.doneCount === this.order.length }
  get failed (): TaskState<O> | undefined {
    return this.#failed == null ? undefined : this.tasks.get(this.#failed)
  }

  /** Pending task ids, in submission order (the same array until a status changes: read it, do not change it). */
  pending (): string[] {
    if (this.#pending == null) {
      const out: string[] = []
      for (const t of this.#states) if (t.status === 'pending') out.push(t.id)
      this.#pending = out
    }
    return this.#pending
  }

  /** Running tasks, in submission order (the same array until a status changes: read it, do not change it). */
  running (): TaskState<O>[] {
    if (this.#running == null) {
      const out: Array<TaskState<O>> = []
      for (const t of this.#states) if (t.status === 'running') out.push(t)
      this.#running = out
    }
    return this.#running
  }

  inFlightOn (workerId: string): number {
    return this.#on.get(workerId)?.size ?? 0
  }

  get (id: string): TaskState<O> {
    const t = this.tasks.get(id)
    if (t == null) throw new Error(`unknown task ${id}`)
    return t
  }

  assign (id: string, workerId: string): void {
    const t = this.get(id)
    if (t.status === 'done' || t.status === 'failed') return
    this.#status(t, 'running')
    t.attempts++
    this.#add(t, workerId)
  }

  /** Records a result; false when the task was already done (a duplicate). */
  complete (id: string, workerId: string, output: O): boolean {
    const t = this.tasks.get(id)
    if (t == null) return false
    this.#delete(t, workerId)
    if (t.status === 'done') return false
    this.#status(t, 'done')
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
    this.#delete(t, workerId)
    if (t.status === 'done' || t.status === 'failed') return
    t.lastError = error
    if (t.runningOn.size > 0) return
    this.#status(t, t.attempts >= this.maxAttempts ? 'failed' : 'pending')
  }

  /**
   * One attempt ended through no fault of the task (its worker's stream
   * failed): back to pending, attempt given back, unless a copy still runs.
   */
  release (id: string, workerId: string): boolean {
    const t = this.tasks.get(id)
    if (t == null || !this.#delete(t, workerId)) return false
    if (t.status !== 'running' || t.runningOn.size > 0) return false
    this.#status(t, 'pending')
    t.attempts = Math.max(0, t.attempts - 1)
    this.requeued++
    return true
  }

  /** The worker left: every task it was running goes back to pending now. */
  workerLost (workerId: string): string[] {
    const back: string[] = []
    const held = [...this.#on.get(workerId) ?? []].sort((a, b) => (this.#pos.get(a) as number) - (this.#pos.get(b) as number))
    for (const id of held) {
      const t = this.tasks.get(id) as TaskState<O>
      this.#delete(t, workerId)
      if (t.status === 'running' && t.runningOn.size === 0) {
        this.#status(t, 'pending')
        // a lost worker is not the task's fault: give the attempt back
        t.attempts = Math.max(0, t.attempts - 1)
        back.push(t.id)
      }
    }
    this.requeued += back.length
    return back
  }

  #status (t: TaskState<O>, status: TaskStatus): void {
    if (t.status === status) return
    t.status = status
    this.#pending = undefined
    this.#running = undefined
    if (status === 'failed') this.#failed ??= t.id
  }

  #add (t: TaskState<O>, workerId: string): void {
    t.runningOn.add(workerId)
    let s = this.#on.get(workerId)
    if (s == null) this.#on.set(workerId, s = new Set())
    s.add(t.id)
  }

  /** Takes the worker off the task; false when it was not on it. */
  #delete (t: TaskState<O>, workerId: string): boolean {
    if (!t.runningOn.delete(workerId)) return false
    const s = this.#on.get(workerId)
    s?.delete(t.id)
    if (s?.size === 0) this.#on.delete(workerId)
    return true
  }

  /** Rebuilds the indexes from the saved state. */
  #index (): this {
    this.#pos = new Map(this.order.map((id, i) => [id, i]))
    this.#states = this.order.map(id => this.tasks.get(id) as TaskState<O>)
    this.#on = new Map()
    this.#pending = undefined
    this.#running = undefined
    this.#failed = undefined
    for (const id of this.order) {
      const t = this.tasks.get(id) as TaskState<O>
      for (const w of t.runningOn) {
        let s = this.#on.get(w)
        if (s == null) this.#on.set(w, s = new Set())
        s.add(id)
      }
      if (t.status === 'failed') this.#failed ??= id
    }
    return this
  }

  /** The tracker as plain data (src/core/job/plain.ts). */
  toState (): Plain {
    return saveFields(this, ['tasks', 'order', 'maxAttempts', 'doneCount', 'requeued'])
  }

  static fromState<O> (state: Plain): JobTracker<O> {
    return restoreFields(new JobTracker<O>([]), state).#index()
  }

  outputs (): O[] {
    return this.order.map(id => {
      const t = this.get(id)
      if (t.status !== 'done') throw new Error(`task ${id} is not done`)
      return t.output as O
    })
  }
}
