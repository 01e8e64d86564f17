import { AbortedError, WorkerLostError } from '../errors.js'
import { JobPolicy } from '../job/policy.js'
import { satisfies } from '../requirements/requirement.js'
import type { JobAction, JobPolicyOptions, JobProgress, TaskOutcome, TaskSpec } from '../job/types.js'
import type { ApplicationScheduler } from '../scheduler/types.js'
import type { TaskTimeEstimator } from '../scheduler/estimates.js'
import type { SimResult } from './config.js'
import type { SimPeer } from './peers.js'
import type { SimCopy, SimResultMsg, World } from './world.js'
import type { SimTask } from './workload.js'

/** The counters a run's result reports as the drivers counted them (their meaning: SimResult). */
type SimCounters = Pick<SimResult, 'ticks' | 'duplicates' | 'reExecuted' | 'backupsLaunched' | 'backupsWon' | 'steals' | 'splits' | 'spreads' | 'quietCuts' | 'keptWorkMs' | 'violations'>

/** What the drivers count as the policy decides. */
export interface SimStats extends SimCounters {
  sends: number
  policyMs: number
  /** Of `policyMs`, in ticks. */
  tickMs: number
  /** The liars caught, by id (SimResult reports how many). */
  liarsCaught: Set<string>
  /** `task@worker` of backup copies, to tell a backup's win. */
  backupCopies: Set<string>
}

export function newStats (): SimStats {
  return { sends: 0, ticks: 0, policyMs: 0, tickMs: 0, duplicates: 0, reExecuted: 0, backupsLaunched: 0, backupsWon: 0, steals: 0, splits: 0, spreads: 0, quietCuts: 0, keptWorkMs: 0, liarsCaught: new Set(), violations: 0, backupCopies: new Set() }
}

export interface DriveInit {
  world: World
  /** The submitting device: its own copies run on it without a link. */
  selfId: string
  scheduler: ApplicationScheduler
  estimator: TaskTimeEstimator
  options: JobPolicyOptions
  tickMs: number
  eventTickMs: number
  clock: () => number
  stats: SimStats
  peerById: ReadonlyMap<string, SimPeer>
  /** The caller's tasks by id: a copy's true work is its root's. */
  taskById: ReadonlyMap<string, SimTask>
  onDispatch?: (c: SimCopy) => void
  /** Every action of the policy, as it is applied (tests compare decisions). */
  onAction?: (a: JobAction, at: number) => void
  /** A task the caller gave is done. */
  onDone: (taskId: string, outcome: TaskOutcome, at: number) => void
}

/**
 * One job's run in the simulated world, as src/peer/job-runner.ts runs
 * it in a browser: the policy's actions become the world's sends, aborts
 * and cuts; what reaches the submitter becomes the policy's events, at
 * the simulated time; the policy ticks every `tickMs` and after every event
 * that wakes the runner's loop (a copy ended, a peer was lost). A stopped
 * copy's failure and end come before the next tick, as the runner's
 * promise chain has them; a lost peer's copies fail just after the tick
 * its loss wakes (a microtask further in the runner).
 */
export class JobDriver {
  readonly policy: JobPolicy
  finished = false
  /** This job's copies in flight, by `task@worker`. */
  private readonly copies = new Map<string, SimCopy>()
  private readonly onPeer = new Map<SimPeer, Set<SimCopy>>()
  private stopping: SimCopy[] = []
  private readonly why = new Map<SimCopy, string>()
  private woke = false
  private lastTick = -Infinity
  private tickAt = Infinity
  private tickGen = 0
  private ticking = false

  constructor (private readonly init: DriveInit, specs: readonly TaskSpec[], private readonly onFinished: () => void) {
    const { selfId, scheduler, estimator } = init
    this.policy = new JobPolicy({ selfId, scheduler, estimator }, specs, init.options)
  }

  /** The runner's loop starts with a tick. */
  start (): void {
    this.tick()
  }

  // — what reaches the submitter —

  report (c: SimCopy, report: Parameters<JobPolicy['progress']>[2]): void {
    if (this.finished || this.copies.get(c.key) !== c) return
    const { world } = this.init
    this.apply(this.timed(() => this.policy.progress(c.taskId, c.peer.id, report, world.now)))
    this.settle()
    this.afterEvent()
  }

  result (c: SimCopy, r: SimResultMsg): void {
    if (this.finished || this.copies.get(c.key) !== c) {
      this.init.stats.duplicates++
      return
    }
    const { world, estimator, selfId } = this.init
    // the link's share of the round trip sets how deep this worker's queue should be
    if (c.peer.id !== selfId) estimator.observeLink(c.peer.id, Math.max(0, world.now - c.sentAt - r.heldMs))
    const digest = this.policy.wantsDigests ? digestOf(c) : undefined
    this.apply(this.timed(() => this.policy.result(c.taskId, c.peer.id, { output: r.output, ms: r.ms, from: r.from, to: r.to, digest }, world.now)))
    this.settle()
    this.ended(c)
    this.afterEvent()
  }

  /** The registry dropped a peer: the runner aborts its copies and tells the policy. */
  dropped (p: SimPeer): void {
    if (this.finished) return
    const { world } = this.init
    const lost = [...this.onPeer.get(p) ?? []]
    this.apply(this.timed(() => this.policy.peerLost(p.id, world.now)))
    this.settle()
    this.woke = true
    this.afterEvent()
    if (this.finished) return
    for (const c of lost) {
      if (this.copies.get(c.key) !== c) continue
      this.apply(this.timed(() => this.policy.failed(c.taskId, p.id, { code: WorkerLostError.code, message: `worker ${p.id} left`, lost: true }, world.now)))
    }
    this.settle()
    for (const c of lost) if (this.copies.get(c.key) === c) this.ended(c)
    this.afterEvent()
  }

  // — inside —

  private timed<T> (fn: () => T): T {
    const t0 = this.init.clock()
    try {
      return fn()
    } finally {
      this.init.stats.policyMs += this.init.clock() - t0
    }
  }

  private apply (actions: readonly JobAction[]): void {
    const { world, stats, peerById, taskById } = this.init
    for (const a of actions) {
      this.init.onAction?.(a, world.now)
      switch (a.type) {
        case 'send': {
          const peer = peerById.get(a.workerId) as SimPeer
          const task = taskById.get(a.spec.root) as SimTask
          const c = world.send(a.spec.id, task, peer, a.range ?? a.spec.range, a.partial === true, a.warm)
          c.job = this
          this.copies.set(c.key, c)
          let set = this.onPeer.get(peer)
          if (set == null) this.onPeer.set(peer, set = new Set())
          set.add(c)
          stats.sends++
          if (!satisfies(peer.caps, a.spec.requirement)) stats.violations++
          this.init.onDispatch?.(c)
          break
        }
        case 'stop': {
          const c = this.copies.get(`${a.taskId}@${a.workerId}`)
          if (c == null || c.stopped) break
          world.abort(c)
          this.why.set(c, a.why)
          this.stopping.push(c)
          break
        }
        case 'cut': {
          const c = this.copies.get(`${a.taskId}@${a.workerId}`)
          if (c != null) world.cut(c, a.at)
          break
        }
        case 'done': this.init.onDone(a.taskId, a.outcome, world.now); break
        case 'progress': this.count(a.event); break
      }
    }
  }

  private count (e: JobProgress): void {
    const s = this.init.stats
    switch (e.type) {
      case 'requeued': s.reExecuted += e.taskIds.length; break
      case 'backup': s.backupsLaunched++; s.backupCopies.add(`${e.taskId}@${e.workerId}`); break
      case 'task-done': if (s.backupCopies.has(`${e.taskId}@${e.workerId}`)) s.backupsWon++; break
      case 'moved': s.steals++; break
      case 'split':
        if (e.placed === true) s.spreads++
        else if (e.to === '') s.quietCuts++
        else s.splits++
        break
      case 'liar': s.liarsCaught.add(e.workerId); break
    }
  }

  /** Copies the policy stopped: their streams fail at once (aborted: no failure of the task), then they end. */
  private settle (): void {
    const { world } = this.init
    while (this.stopping.length > 0) {
      const list = this.stopping
      this.stopping = []
      for (const c of list) {
        const message = this.why.get(c) ?? 'stopped'
        this.apply(this.timed(() => this.policy.failed(c.taskId, c.peer.id, { code: AbortedError.code, message, lost: true }, world.now)))
      }
      for (const c of list) this.ended(c)
    }
  }

  /** A copy is over: the runner's `finally` forgets it, and its loop wakes. */
  private ended (c: SimCopy): void {
    this.why.delete(c)
    this.onPeer.get(c.peer)?.delete(c)
    if (this.copies.get(c.key) !== c) return
    this.copies.delete(c.key)
    this.timed(() => { this.policy.copyEnded(c.taskId, c.peer.id) })
    this.woke = true
  }

  private afterEvent (): void {
    const err = this.policy.error()
    if (err != null) throw err
    if (!this.woke || this.ticking) return
    this.woke = false
    this.wake()
  }

  /** The runner's loop wakes: it ends the job if it is done, else ticks (now, or once the last tick is `eventTickMs` old). */
  private wake (): void {
    if (this.policy.finished) {
      this.finish()
      return
    }
    const { world, eventTickMs } = this.init
    if (eventTickMs <= 0 || world.now - this.lastTick >= eventTickMs) this.tick()
    else this.timer(this.lastTick + eventTickMs, true)
  }

  private tick (): void {
    const { world, stats, tickMs } = this.init
    this.ticking = true
    try {
      do {
        this.woke = false
        if (this.policy.finished) {
          this.finish()
          return
        }
        this.lastTick = world.now
        stats.ticks++
        const before = stats.policyMs
        const actions = this.timed(() => this.policy.tick(world.now, world.room(), false))
        stats.tickMs += stats.policyMs - before
        this.apply(actions)
        this.settle()
        this.timer(world.now + tickMs, false)
        // copies it stopped ended: the runner's loop wakes again at once
      } while (this.woke && this.init.eventTickMs <= 0)
    } finally {
      this.ticking = false
    }
    const err = this.policy.error()
    if (err != null) throw err
    if (this.woke) {
      this.woke = false
      this.wake()
    }
  }

  /** The loop's timer: a tick at `t` (`sooner`: only if none is due before). */
  private timer (t: number, sooner: boolean): void {
    if (sooner && this.tickAt <= t) return
    const gen = ++this.tickGen
    this.tickAt = t
    this.init.world.at(t, () => { if (gen === this.tickGen && !this.finished) this.tick() })
  }

  /** The job is done: the runner's copies still out are aborted, and the next job may start. */
  private finish (): void {
    if (this.finished) return
    this.finished = true
    this.tickGen++
    for (const c of this.copies.values()) if (!c.stopped) this.init.world.abort(c)
    this.copies.clear()
    this.onFinished()
  }
}

/** What a quorum votes on: the same for every honest worker, the worker's own for a liar. */
function digestOf (c: SimCopy): string {
  return c.peer.liar ? `bad:${c.peer.id}:${c.task.id}` : `ok:${c.task.id}`
}
