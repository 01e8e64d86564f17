import { satisfies } from '../requirements/requirement.js'
import { IndexedMinHeap } from './indexed-heap.js'
import { TaskTimeEstimator, lateFactor } from './estimates.js'
import { POLICY } from './policy-config.js'
import type { Capabilities } from '../requirements/capabilities.js'
import type { Requirement } from '../requirements/requirement.js'
import type { PendingTask } from './types.js'

/**
 * Estimated-completion-time placement.
 *
 * Over 500 lines, on purpose: one placer whose queue model, per-class task
 * index and placement loop share private state on its hot path (10,000
 * workers, 100,000 tasks); split into modules, that state would have to be
 * public and the loop would pay for calls across them.
 *
 *   ECT(w, t) = max(arrival, wait(w)) + perTask(w, f) + RTT(w) / 2
 *   arrival   = RTT(w) / 2 + bytes of t's function and inputs that w lacks
 *               / bandwidth(w) + cold start
 *   wait(w)   = 0 while w holds fewer tasks than slots; else until its
 *               earliest slot frees, by a model of the worker's queue (the
 *               tasks this placer gave it, run first in, first out on its
 *               slots), and never less than the fluid (load + 1) / slots − 1
 *               tasks
 *
 * The fluid term alone underestimates a burst: eight tasks started together
 * on eight slots free none of them for a whole task, not an eighth of one,
 * and a ninth task placed there by the fluid count waited a whole task.
 *
 * Workers are kept, per requirement class (function + requirement), in two
 * indexed heaps keyed by ECT: `open` (room left in their queue) and `full`.
 * A placement peeks both tops and the few workers that cache the task's
 * inputs, so a decision costs O(log P), not O(P). A task goes to the best
 * open worker unless waiting for a better busy one is cheaper than the work
 * still queued for the class ("delay scheduling"): this keeps slow devices
 * out of the tail and fills them only while there is a backlog to drain.
 */
export interface EctInit {
  /** Shared so the runner (or simulator) can feed it observed durations. */
  estimator?: TaskTimeEstimator
  /**
   * Tasks kept in flight per slot; above 1 hides the round trip. A worker
   * whose measured link cost (`rttMs`) exceeds its typical task gets more:
   * 1 + ⌈link ÷ task⌉, up to `maxDepthPerSlot`.
   */
  depthPerSlot?: number
  maxDepthPerSlot?: number
  /**
   * Tasks per slot for a worker that has not yet returned a result: its
   * speed is only guessed, so it is not trusted with a deep queue (slow start).
   */
  probationDepth?: number
  /** Battery level under which a worker not charging is used only as a last resort. */
  batteryThreshold?: number
  /**
   * Share of the class's drain time (backlog / room speed) a slower free
   * worker may exceed the best busy one by. Lower keeps slow devices out of
   * the tail sooner; estimates are optimistic, so below 1.
   */
  drainFactor?: number
  /** A cache holder's ECT is multiplied by this when compared (< 1 prefers it). */
  cacheBias?: number
  /** Compile/instantiate cost of a function the worker does not hold, ms. */
  coldStartMs?: number
  defaultRttMs?: number
  defaultBandwidthBps?: number
  /**
   * Clock of the expected ends (ms): the simulator's time, the runner's
   * `performance.now`. Default: none (0), enough for one batch of
   * placements made at once (`ectScheduler`).
   */
  now?: () => number
}

/*
 * The delay rule for a task that can be split while it runs
 * (`PendingTask.splittable`; `POLICY.splitDrainFactor`, `splitItemShare`,
 * `splitItemDrain`): a slow worker's late task is cut in the tail, so slow
 * devices may keep taking such tasks longer (10,000 simulated peers, 20 %
 * churn: mean ratio 1.335 → 1.308 over seeds 1-4; 5 let microcontrollers
 * hold one-item pieces nothing rescued). A cut leaves its worker the item
 * it is on, so only on a worker whose one item takes at most
 * `splitItemShare` of the task's whole time on the best worker: a
 * microcontroller's item (seconds) is no piece to leave behind (without
 * this bound a 10,000-peer job's end was set by one: a ratio of 1.7–1.9 on
 * 1 to 3 seeds of 32, by variant). While the room's queued work would take
 * longer than `splitItemDrain` of a worker's items, such a worker takes a
 * splittable task even past the delay rule: the items it does before the
 * tail are work the fast workers need not do, and the tail cuts the rest
 * off (seeds 1-32: mean ratio 1.147 → 1.141).
 */

/** What the placer knows of a worker. */
export interface EctWorker {
  id: string
  caps: Capabilities
  rttMs?: number
  bandwidthBps?: number
  /** Content ids held warm: functions, models, input blocks. */
  cached?: Iterable<string>
  /** Tasks already queued or running there. */
  load?: number
}

export interface PlaceOptions {
  /**
   * Tasks of this class still waiting, this one included, in reference
   * tasks (Σ of their sizes against the function's reference size; the
   * count when tasks are unsized). Default 1: the tail.
   */
  backlog?: number
  /**
   * Work still waiting in every class, this task's included, as
   * reference-core ms (Σ backlog × `estimator.workMs`). Classes share
   * workers: a task refused by a free worker does not wait for one better
   * busy worker but behind all of this work, so the room's drain time of
   * it bounds the delay rule from below (default: this class's backlog only).
   */
  queuedWorkMs?: number
  /** Workers that must not get this task (quorum replicas, a backup's original). */
  exclude?: ReadonlySet<string>
  /** Only a worker with a free slot now, and no backlog rule (backup copies). */
  idleOnly?: boolean
}

/** A worker whose speed counts in the room's and its classes' (not held in reserve, not quiet). */
function offered (k: Wk): boolean { return !k.reserve && !k.quiet }

/** Takes the worker out of every heap of the class (it stays a member). */
function unlist (k: Wk, c: Cls): void {
  c.open.delete(k.idx); c.full.delete(k.idx); c.idle.delete(k.idx); c.reserveOpen.delete(k.idx); c.reserveFull.delete(k.idx)
}

interface Wk {
  idx: number
  id: string
  caps: Capabilities
  rtt: number
  /** The RTT was measured (given), not the default. */
  rttKnown: boolean
  bw: number
  load: number
  cap: number
  cached: Set<string>
  classes: number[]
  reserve: boolean
  /** Its reports stopped (`silenced`): no new work until it is heard again. */
  quiet: boolean
  /** Work units per ms this worker adds to a class it belongs to. */
  speed: number
  /** Expected time each slot frees once every task this placer gave it has run (absolute, `now` clock). */
  slotFree: Float64Array
  /** The tasks this placer gave it, in dispatch order: the worker runs them first in, first out. */
  expect: Map<string, Expected>
  /** Of `expect`, how many the model has started. */
  started: number
  /**
   * When the worker's link is expected to be free of the downloads of the
   * tasks given to it (absolute): a worker fetches what it lacks one task
   * after another on one link, so eight big inputs sent to one desktop
   * arrive one after another, not together.
   */
  linkFree: number
  /** `syncWorkers`: the offer it was last synced from (its given RTT, bandwidth, cache), its estimator version, and the sync that saw it. */
  given?: { rttMs?: number, bandwidthBps?: number, cached?: Iterable<string>, version: number, gen: number }
  /** Content ids it holds only because this placer gave it tasks since the last sync. */
  extra?: string[]
}

/** A task in a worker's modelled queue. */
interface Expected {
  fnCid: string
  /** Its size against its function's reference task (its work is today's estimate of the function's × this). */
  scale: number
  /** When it can start: dispatched + arrival (round trip, fetch), absolute. */
  ready: number
  /** When the model started it on a slot (a slot freed, or it arrived to a free one). */
  start?: number
  /** When it is expected to end, by today's estimates. */
  end: number
}

interface Cls {
  idx: number
  fnCid: string
  req: Requirement
  fnBytes: number
  /** Input bytes of a typical task, for the heap keys (exact ECT is computed for candidates). */
  inputBytes: number
  open: IndexedMinHeap
  full: IndexedMinHeap
  /**
   * Of `open`, the workers with a free slot now (backup copies go only
   * there). In the tail the best open workers are busy fast ones with room
   * in their queues; skipping a few dozen of them to reach an idle one
   * failed, and copies were never placed while thousands of slots idled.
   */
  idle: IndexedMinHeap
  reserveOpen: IndexedMinHeap
  reserveFull: IndexedMinHeap
  speed: number
  /** Function work the keys were computed with; re-keyed when the estimate drifts. */
  workRef: number
  /** Members still keyed with an older `workRef` (swept a few per decision). */
  stale: Int32Array
  staleLeft: number
}

const MAX_SKIP = 32
/**
 * Workers re-keyed per decision after a drift of the work estimate. A full
 * rebuild is O(P log P) in one decision (milliseconds at 10,000 peers);
 * sweeping shares it out, and workers that get or finish a task are re-keyed
 * anyway. Keys only pick candidates: their exact ECT is computed.
 */
const SWEEP = 48

export class EctPlacer {
  readonly estimator: TaskTimeEstimator
  private readonly depth: number
  private readonly maxDepth: number
  private readonly probation: number
  private readonly drainFactor: number
  private readonly batteryThreshold: number
  private readonly cacheBias: number
  private readonly coldStartMs: number
  private readonly defaultRtt: number
  private readonly defaultBw: number
  private readonly now: () => number
  private readonly workers: Array<Wk | undefined> = []
  private readonly byId = new Map<string, number>()
  private readonly free: number[] = []
  private readonly classes: Cls[] = []
  private readonly classByKey = new Map<string, Cls>()
  private readonly reqKeys = new WeakMap<Requirement, string>()
  /** Content id → workers holding it. */
  private readonly holders = new Map<string, Set<number>>()
  /** Number of the last `syncWorkers` call. */
  private gen = 0
  /** Speed of every worker not held in reserve (work units per ms). */
  private roomSpeed = 0
  /** Slots of every worker not held in reserve. */
  private roomSlots = 0

  constructor (init: EctInit = {}) {
    this.estimator = init.estimator ?? new TaskTimeEstimator()
    this.depth = init.depthPerSlot ?? POLICY.depthPerSlot
    this.maxDepth = Math.max(this.depth, init.maxDepthPerSlot ?? POLICY.maxDepthPerSlot)
    // 1 since backlogs are priced by their tasks' sizes (0.5 was tuned on a
    // count × the reference task's work, which overstated them by half)
    this.drainFactor = init.drainFactor ?? POLICY.drainFactor
    this.probation = Math.min(init.probationDepth ?? POLICY.probationDepth, this.depth)
    this.batteryThreshold = init.batteryThreshold ?? POLICY.batteryThreshold
    this.cacheBias = init.cacheBias ?? POLICY.cacheBias
    this.coldStartMs = init.coldStartMs ?? POLICY.coldStartMs
    this.defaultRtt = init.defaultRttMs ?? POLICY.defaultRttMs
    this.defaultBw = init.defaultBandwidthBps ?? POLICY.defaultBandwidthBps
    this.now = init.now ?? (() => 0)
  }

  get size (): number { return this.byId.size }

  has (id: string): boolean { return this.byId.has(id) }

  loadOf (id: string): number { return this.wk(id)?.load ?? 0 }

  /** Adds a worker, or replaces its description (caps, battery, RTT) when known. */
  addWorker (w: EctWorker): void {
    const prev = this.wk(w.id)
    if (prev != null) this.removeWorker(w.id)
    const idx = this.free.pop() ?? this.workers.length
    const k: Wk = {
      idx,
      id: w.id,
      caps: w.caps,
      rtt: w.rttMs ?? this.defaultRtt,
      rttKnown: w.rttMs != null,
      bw: Math.max(1, w.bandwidthBps ?? this.defaultBw),
      load: w.load ?? prev?.load ?? 0,
      cap: 1,
      cached: new Set(),
      classes: [],
      reserve: lowBattery(w.caps, this.batteryThreshold),
      quiet: false,
      speed: 0,
      slotFree: new Float64Array(Math.max(1, w.caps.slots)),
      expect: new Map(),
      started: 0,
      linkFree: prev?.linkFree ?? 0
    }
    if (prev != null) {
      for (const [t, e] of prev.expect) k.expect.set(t, e)
      k.started = prev.started
    }
    k.speed = this.speedOf(k)
    if (!k.reserve) { this.roomSpeed += k.speed; this.roomSlots += k.caps.slots }
    this.workers[idx] = k
    this.byId.set(w.id, idx)
    this.recap(k)
    for (const cid of w.cached ?? prev?.cached ?? []) this.hold(k, cid)
    for (const c of this.classes) {
      if (satisfies(k.caps, c.req)) this.join(k, c)
    }
  }

  /**
   * Makes the placer's workers exactly `ws`, each as a fresh placer would
   * hold it (its load as given, an empty queue model, its offer's cache),
   * for a placer kept across calls: a worker whose offer, estimates and
   * load are as they were costs a few lookups, a changed one a re-key, and
   * only new or changed descriptions (caps, RTT, bandwidth) are added
   * afresh. O(P) plus O(changed × classes × log P), against O(P log P) for
   * a new placer (a 10,000-peer room builds one per call, several a tick).
   */
  syncWorkers (ws: readonly EctWorker[]): void {
    const gen = ++this.gen
    for (const w of ws) {
      let k = this.wk(w.id)
      if (k != null && (k.caps !== w.caps || k.given == null || k.given.rttMs !== w.rttMs || k.given.bandwidthBps !== w.bandwidthBps)) {
        this.removeWorker(w.id)
        k = undefined
      }
      const version = this.estimator.versionOf(w.id)
      if (k == null) {
        this.addWorker(w)
        k = this.wk(w.id) as Wk
        k.given = { rttMs: w.rttMs, bandwidthBps: w.bandwidthBps, cached: w.cached, version, gen }
        continue
      }
      const given = k.given as NonNullable<Wk['given']>
      given.gen = gen
      let dirty = k.expect.size > 0 || k.linkFree !== 0
      k.expect.clear()
      k.started = 0
      k.linkFree = 0
      if (k.extra != null) {
        for (const cid of k.extra) this.unhold(k, cid)
        k.extra = undefined
        dirty = true
      }
      if (w.cached !== given.cached) {
        const now = new Set(w.cached ?? [])
        for (const cid of [...k.cached]) if (!now.has(cid)) this.unhold(k, cid)
        for (const cid of now) this.hold(k, cid)
        given.cached = w.cached
        dirty = true
      }
      const load = w.load ?? 0
      if (k.load !== load) {
        k.load = load
        dirty = true
      }
      if (given.version !== version) {
        given.version = version
        this.respeed(k)
        this.recap(k)
        dirty = true
      }
      if (!dirty) continue
      this.project(k)
      this.rekey(k)
    }
    if (this.byId.size === ws.length) return
    for (const [id, i] of [...this.byId]) if ((this.workers[i] as Wk).given?.gen !== gen) this.removeWorker(id)
  }

  removeWorker (id: string): boolean {
    const k = this.wk(id)
    if (k == null) return false
    for (const ci of k.classes) unlist(k, this.classes[ci])
    this.count(k, -1)
    for (const cid of k.cached) this.holders.get(cid)?.delete(k.idx)
    this.workers[k.idx] = undefined
    this.byId.delete(id)
    this.free.push(k.idx)
    return true
  }

  /**
   * The worker's reports stopped (a device gone silently, or stalled): it
   * gets no new work, and its speed leaves the room's, until it is heard
   * again (`heard`). A peer is written off only after missed heartbeats,
   * seconds later; a 10,000-peer room sent new tasks to such a device all
   * that while, the largest reduce of a job among them.
   */
  silenced (id: string): void {
    const k = this.wk(id)
    if (k == null || k.quiet) return
    this.count(k, -1)
    k.quiet = true
    this.rekey(k)
  }

  /** A report or result came from a worker `silenced` before: it takes work again. */
  heard (id: string): void {
    const k = this.wk(id)
    if (k == null || !k.quiet) return
    k.quiet = false
    this.count(k, 1)
    this.rekey(k)
  }

  /** Adds (`sign` 1) or takes out (-1) an offered worker's speed and slots from its classes' and the room's. */
  private count (k: Wk, sign: 1 | -1): void {
    if (!offered(k)) return
    for (const ci of k.classes) this.classes[ci].speed += sign * k.speed
    this.roomSpeed += sign * k.speed
    this.roomSlots += sign * k.caps.slots
  }

  isQuiet (id: string): boolean { return this.wk(id)?.quiet ?? false }

  /** The worker now holds a content id (function, model or block). */
  noteCached (id: string, cid: string): void {
    const k = this.wk(id)
    if (k == null || k.cached.has(cid)) return
    this.hold(k, cid)
    this.rekey(k)
  }

  /** A task was dispatched to the worker; it will hold the task's function and inputs. */
  assigned (id: string, task: PendingTask): void {
    const k = this.wk(id)
    if (k == null) return
    // its place at the end of the worker's modelled queue
    const now = this.now()
    const ready = now + this.arrivalOf(k, task)
    const bytes = this.missingBytes(k, task)
    if (bytes > 0) k.linkFree = Math.max(now + k.rtt / 2, k.linkFree) + bytes * 1000 / k.bw
    k.expect.set(task.id, { fnCid: task.functionCid, scale: this.scaleOf(task), ready, end: now })
    k.load++
    for (const cid of [task.functionCid, ...task.inputCids]) {
      if (k.cached.has(cid)) continue
      this.hold(k, cid)
      if (k.given != null) (k.extra ??= []).push(cid)
    }
    this.advance(k, now)
    this.project(k)
    this.rekey(k)
  }

  /**
   * A task ended on the worker (a result, a cancel); `computeMs` (when it
   * ran to completion) teaches the estimator; `taskId` frees its slot in
   * the worker's modelled queue, and the next task waiting there starts.
   */
  finished (id: string, fnCid: string, computeMs?: number, scale = 1, taskId?: string): void {
    const k = this.wk(id)
    if (k == null) return
    k.load = Math.max(0, k.load - 1)
    // without its id, the oldest started task of the function ended (first in, first out)
    const ended = taskId ?? oldestStarted(k.expect, fnCid)
    const e = ended == null ? undefined : k.expect.get(ended)
    if (e != null) {
      k.expect.delete(ended as string)
      if (e.start != null) k.started--
      // its slot freed: the next task waiting in the model starts now
      this.advance(k, this.now())
    }
    if (computeMs != null) {
      this.estimator.observe(id, k.caps, fnCid, computeMs, scale)
      this.respeed(k)
      this.recap(k)
    }
    this.project(k)
    this.rekey(k)
  }

  /**
   * The task on the worker shrank to `scale` (split: the items after a
   * point went to another worker); its expected end and the worker's
   * queue behind it move up.
   */
  resized (id: string, taskId: string, scale: number): void {
    const k = this.wk(id)
    const e = k?.expect.get(taskId)
    if (k == null || e == null) return
    e.scale = scale
    this.project(k)
    this.rekey(k)
  }

  /**
   * When the task is expected to end on the worker, by the model of its
   * queue and today's estimates (absolute, `now` clock); undefined when this
   * placer did not give it the task.
   */
  expectedEnd (id: string, taskId: string): number | undefined {
    const k = this.wk(id)
    if (k == null) return undefined
    const e = k.expect.get(taskId)
    if (e == null) return undefined
    // the model may have aged since the last event on the worker
    return Math.max(e.end, this.now())
  }

  /**
   * How long the task has run on the worker against its expected run time
   * (1: due now), counted from when the model started it (a slot freed for
   * it); 0 while it waits in the model's queue; undefined when this placer
   * did not give it the task. Judging from dispatch instead called a task
   * late for time spent queued behind others.
   */
  lateness (id: string, taskId: string): number | undefined {
    const k = this.wk(id)
    const e = k?.expect.get(taskId)
    if (k == null || e == null) return undefined
    if (e.start == null) return 0
    const per = this.ownRunMs(k, e)
    return per > 0 ? Math.max(0, this.now() - e.start) / per : 0
  }

  /**
   * Tasks running on the worker past their expected time teach the
   * estimator a floor under its slowness (`observeOverrun`): a worker that
   * never returns a result is not taken at its description's word for
   * ever. Call it now and then (the simulator's tick) for workers holding
   * tasks; O(tasks it holds). The runner does the same from its own clock
   * of copies (src/peer/copy-clock.ts).
   */
  noteRunning (id: string): void {
    const k = this.wk(id)
    if (k == null || k.started === 0) return
    const now = this.now()
    let worst = 1
    for (const e of k.expect.values()) {
      if (e.start == null) continue
      worst = Math.max(worst, (now - e.start) / this.ownRunMs(k, e))
    }
    // within the run-to-run dispersion is no news
    if (worst < lateFactor(this.estimator.dispersion(k.id)) || !this.estimator.observeOverrun(k.id, worst)) return
    this.respeed(k)
    this.project(k)
    this.rekey(k)
  }

  /** The model's worker started the first tasks waiting while it has a free slot. */
  private advance (k: Wk, at: number): void {
    if (k.started >= k.caps.slots) return
    for (const e of k.expect.values()) {
      if (k.started >= k.caps.slots) break
      if (e.start != null) continue
      e.start = Math.max(at, e.ready)
      k.started++
    }
  }

  /**
   * Expected ends of the worker's tasks and of its slots, by today's
   * estimates: started tasks end at start + time (not before now: an
   * overdue one is still running), the waiting ones take the slot that
   * frees first, in dispatch order.
   */
  private project (k: Wk): void {
    const now = this.now()
    const free = k.slotFree
    free.fill(now)
    let n = 0
    for (const e of k.expect.values()) {
      if (e.start == null) continue
      e.end = Math.max(now, e.start + this.ownRunMs(k, e))
      if (n < free.length) free[n++] = e.end
    }
    for (const e of k.expect.values()) {
      if (e.start != null) continue
      const s = earliest(free)
      e.end = Math.max(free[s], e.ready) + this.runMs(k, e)
      free[s] = e.end
    }
  }

  /** A modelled task's run time on its worker by today's estimates, ms. */
  private runMs (k: Wk, e: Expected): number {
    return this.estimator.workMs(e.fnCid) * e.scale * this.estimator.slowness(k.id, k.caps, e.fnCid)
  }

  /**
   * A running task's own expected run time: without the worker's overrun
   * floor, which this task's lateness set. Read through the floor, an
   * overdue task would seem about to end at every look and never get a
   * copy, and its lateness would be explained away.
   */
  private ownRunMs (k: Wk, e: Expected): number {
    return this.runMs(k, e) / this.estimator.overrunOf(k.id)
  }

  /** Time the whole room needs to drain `workMs` of reference work, ms. */
  roomDrainMs (workMs: number): number {
    return this.roomSpeed > 0 ? workMs / this.roomSpeed : Infinity
  }

  /** Work units per ms of the room's average slot. */
  slotSpeed (): number {
    return this.roomSlots > 0 ? this.roomSpeed / this.roomSlots : 0
  }

  /**
   * A slot of this worker against the room's average slot (1 = average):
   * a slow one is given the smallest pending task rather than the largest,
   * so that big tasks wait for fast workers (size matching).
   */
  relativeSpeed (id: string): number {
    const k = this.wk(id)
    if (k == null || this.roomSlots <= 0 || this.roomSpeed <= 0) return 1
    return (k.speed / k.caps.slots) / (this.roomSpeed / this.roomSlots)
  }

  /** Estimated completion time of the task on the worker, ms from now. */
  ect (id: string, task: PendingTask): number {
    const k = this.wk(id)
    return k == null ? Infinity : this.ectOf(k, task, this.estimator.workMs(task.functionCid) * this.scaleOf(task))
  }

  /**
   * The terms of the task's ECT on the worker, ms: ECT = max(arrival, wait)
   * + compute + rtt / 2. When the work estimate moves (a function's first
   * results), a caller rescales the compute-derived terms (wait, compute)
   * and keeps the link's: rescaling the whole ECT by the work estimate
   * multiplied a 4 MB model download with it.
   */
  ectParts (id: string, task: PendingTask): { arrivalMs: number, waitMs: number, computeMs: number, rttMs: number } | undefined {
    const k = this.wk(id)
    if (k == null) return undefined
    const per = this.estimator.workMs(task.functionCid) * this.scaleOf(task) * this.estimator.slowness(k.id, k.caps, task.functionCid)
    return { arrivalMs: this.arrivalOf(k, task), waitMs: this.waitOf(k, per), computeMs: per, rttMs: k.rtt }
  }

  /**
   * Time the fitting workers need to drain `backlog` tasks like this one, ms
   * (Infinity when none fits).
   */
  drainMs (task: PendingTask, backlog: number): number {
    const c = this.classOf(task)
    return c.speed > 0 ? backlog * this.estimator.workMs(c.fnCid) / c.speed : Infinity
  }

  /**
   * Speed of the workers that fit this task's class (work units per ms).
   * Serve classes in increasing capacity: the most constrained (an onnx
   * filter only some peers run) first, or the flexible ones (a filter any
   * peer runs) fill the scarce workers and the constrained class ends late.
   */
  capacity (task: PendingTask): number {
    return this.classOf(task).speed
  }

  /** Orders classes (each given by a head task and its backlog): most constrained first, then longest drain. */
  classOrder<T extends { task: PendingTask, backlog: number }> (classes: T[]): T[] {
    const keyed = classes.map(x => ({ x, cap: this.capacity(x.task), drain: this.drainMs(x.task, x.backlog) }))
    keyed.sort((a, b) => a.cap - b.cap || b.drain - a.drain)
    return keyed.map(k => k.x)
  }

  /**
   * The worker for this task now, or undefined: none fits, every fitting one
   * is full, or waiting for a better busy worker beats the best free one.
   */
  place (task: PendingTask, opts: PlaceOptions = {}): string | undefined {
    const c = this.classOf(task)
    const work = this.estimator.workMs(c.fnCid)
    if (c.staleLeft > 0) this.sweep(c)
    else if (Math.abs(work - c.workRef) > 0.25 * c.workRef) this.drifted(c, work)
    const reserve = c.open.size + c.full.size === 0
    const open = reserve ? c.reserveOpen : c.open
    const full = reserve ? c.reserveFull : c.full
    // this task's own work (its size against the function's reference), once per decision
    const taskWork = work * this.scaleOf(task)
    const best = this.bestOpen(opts.idleOnly === true && !reserve ? c.idle : open, task, taskWork, opts)
    let cand = best.k
    let e = best.e
    // workers that already hold an input: exact ECT, with the cache bias
    for (const cid of task.inputCids) {
      const hs = this.holders.get(cid)
      if (hs == null) continue
      for (const h of hs) {
        const k = this.workers[h] as Wk
        if (!open.has(h) || (opts.exclude?.has(k.id) ?? false)) continue
        if (opts.idleOnly === true && k.load >= k.caps.slots) continue
        const eh = this.ectOf(k, task, taskWork) * this.cacheBias
        if (eh < e || (eh === e && cand != null && h < cand.idx)) { cand = k; e = eh }
      }
    }
    if (cand == null) return undefined
    if (opts.idleOnly === true) return cand.id
    // delay scheduling: is waiting for the best busy worker worth it?
    // (exact ECTs on both sides: heap keys may lag the work estimate)
    // a worker never measured is no reason to wait: its speed is a guess,
    // and a hidden straggler would hold the class back for good
    // a busy worker never measured is no reason to wait while a measured one
    // is in sight: its speed is a guess, and a hidden straggler's guess
    // held the class back until its first result
    const bk = this.bestMeasured(full)
    const bestAny = bk == null ? e : Math.min(e, this.ectOf(bk, task, taskWork))
    const speed = reserve ? 0 : c.speed
    const queued = speed > 0 ? Math.max((opts.backlog ?? 1) * work / speed, (opts.queuedWorkMs ?? 0) / this.roomSpeed) : Infinity
    // a cut leaves its worker the item it is on: the looser rules hold only
    // where that item is short, a phone's fraction of a second and not a
    // microcontroller's seconds (items unknown: the factor alone)
    const items = task.items ?? 1
    const itemMs = task.items != null ? e / Math.max(1, items) : undefined
    const cuttable = task.splittable === true && (itemMs == null || itemMs <= POLICY.splitItemShare * bestAny)
    if (!cuttable) return e <= bestAny + this.drainFactor * queued ? cand.id : undefined
    const inTime = e <= bestAny + Math.max(this.drainFactor, POLICY.splitDrainFactor) * queued
    const itemsBeforeTail = itemMs != null && items > 1 && POLICY.splitItemDrain * itemMs <= queued
    return inTime || itemsBeforeTail ? cand.id : undefined
  }

  private bestOpen (open: IndexedMinHeap, task: PendingTask, work: number, opts: PlaceOptions): { k?: Wk, e: number } {
    const top = open.peek()
    if (top < 0) return { e: Infinity }
    const first = this.workers[top] as Wk
    if (!this.skip(first, opts)) return { k: first, e: this.ectOf(first, task, work) }
    // set aside excluded (or busy, for a backup) tops, then put them back
    const aside: Array<[number, number]> = []
    let found: Wk | undefined
    while (open.size > 0 && aside.length < MAX_SKIP) {
      const i = open.peek()
      const k = this.workers[i] as Wk
      if (!this.skip(k, opts)) { found = k; break }
      aside.push([i, open.peekKey()])
      open.pop()
    }
    for (const [i, key] of aside) open.set(i, key)
    return found == null ? { e: Infinity } : { k: found, e: this.ectOf(found, task, work) }
  }

  /** The best worker of a heap that has returned a result, else its top (never-measured tops set aside, then put back). */
  private bestMeasured (heap: IndexedMinHeap): Wk | undefined {
    const top = heap.peek()
    if (top < 0) return undefined
    const first = this.workers[top] as Wk
    if (this.estimator.measured(first.id)) return first
    const aside: Array<[number, number]> = []
    let found: Wk | undefined
    while (heap.size > 0 && aside.length < MAX_SKIP) {
      const i = heap.peek()
      const k = this.workers[i] as Wk
      if (this.estimator.measured(k.id)) { found = k; break }
      aside.push([i, heap.peekKey()])
      heap.pop()
    }
    for (const [i, key] of aside) heap.set(i, key)
    return found ?? first
  }

  private skip (k: Wk, opts: PlaceOptions): boolean {
    return (opts.exclude?.has(k.id) ?? false) || (opts.idleOnly === true && k.load >= k.caps.slots)
  }

  /** A task's size relative to its function's reference task, by input bytes (1 when unsized). */
  scaleOf (task: PendingTask): number {
    let b = task.sizeBytes
    if (b == null) {
      const sizes = task.inputBytes
      if (sizes == null || sizes.length === 0) return 1
      b = 0
      for (const x of sizes) b += x
    }
    return this.estimator.sizeScale(task.functionCid, b)
  }

  /** `work`: this task's work on a reference core (the function's, scaled by the task's size). */
  private ectOf (k: Wk, task: PendingTask, work: number): number {
    const per = work * this.estimator.slowness(k.id, k.caps, task.functionCid)
    return Math.max(this.arrivalOf(k, task), this.waitOf(k, per)) + per + k.rtt / 2
  }

  /**
   * From now until the task could start on the worker if a slot were free:
   * half the round trip, then the missing bytes once the downloads already
   * queued on its link are done, then a cold start.
   */
  private arrivalOf (k: Wk, task: PendingTask): number {
    const bytes = this.missingBytes(k, task)
    const cold = k.cached.has(task.functionCid) ? 0 : this.coldStartMs
    return this.linkWait(k) + bytes * 1000 / k.bw + cold
  }

  /** From now until the worker's link could start a new download: half the round trip, or the queued downloads. */
  private linkWait (k: Wk): number {
    return Math.max(k.rtt / 2, k.linkFree - this.now())
  }

  /** Bytes of the task's function and inputs the worker lacks. */
  private missingBytes (k: Wk, task: PendingTask): number {
    let bytes = k.cached.has(task.functionCid) ? 0 : (task.functionBytes ?? 0)
    const sizes = task.inputBytes
    if (sizes != null) {
      for (let i = 0; i < task.inputCids.length; i++) {
        if (!k.cached.has(task.inputCids[i])) bytes += sizes[i] ?? 0
      }
    }
    return bytes
  }

  /**
   * From now until a slot of the worker frees once its queue has run (the
   * model of its queue), and at least the fluid share of its queue (tasks it
   * held before this placer knew it are not in the model).
   */
  private waitOf (k: Wk, per: number): number {
    if (k.load < k.caps.slots) return 0
    const fluid = per * ((k.load + 1) / k.caps.slots - 1)
    return Math.max(fluid, k.slotFree[earliest(k.slotFree)] - this.now())
  }

  private keyOf (k: Wk, c: Cls): number {
    const per = c.workRef * this.estimator.slowness(k.id, k.caps, c.fnCid)
    const warm = k.cached.has(c.fnCid)
    const bytes = (warm ? 0 : c.fnBytes) + c.inputBytes
    const arrival = this.linkWait(k) + bytes * 1000 / k.bw + (warm ? 0 : this.coldStartMs)
    return Math.max(arrival, this.waitOf(k, per)) + per + k.rtt / 2
  }

  private place1 (k: Wk, c: Cls): void {
    if (k.quiet) {
      unlist(k, c)
      return
    }
    const key = this.keyOf(k, c)
    const open = k.load < k.cap
    const [to, from] = k.reserve
      ? (open ? [c.reserveOpen, c.reserveFull] : [c.reserveFull, c.reserveOpen])
      : (open ? [c.open, c.full] : [c.full, c.open])
    from.delete(k.idx)
    to.set(k.idx, key)
    if (!k.reserve && k.load < k.caps.slots) c.idle.set(k.idx, key)
    else c.idle.delete(k.idx)
  }

  private rekey (k: Wk): void {
    for (const ci of k.classes) this.place1(k, this.classes[ci])
  }

  private recap (k: Wk): void {
    let depth = this.estimator.measured(k.id) ? this.depth : this.probation
    // tasks shorter than the link: keep enough in flight that a slot never
    // waits for the next one to arrive
    const per = this.estimator.typicalMs(k.id)
    if (k.rttKnown && per != null && per > 0 && k.rtt > per) depth = Math.min(this.maxDepth, Math.max(depth, 1 + Math.ceil(k.rtt / per)))
    k.cap = Math.max(1, Math.round(k.caps.slots * depth))
  }

  private speedOf (k: Wk): number {
    return k.caps.slots / (this.estimator.ratioOf(k.id) / this.estimator.prior(k.caps))
  }

  private respeed (k: Wk): void {
    const s = this.speedOf(k)
    if (offered(k)) {
      for (const ci of k.classes) this.classes[ci].speed += s - k.speed
      this.roomSpeed += s - k.speed
    }
    k.speed = s
  }

  private join (k: Wk, c: Cls): void {
    k.classes.push(c.idx)
    if (offered(k)) c.speed += k.speed
    this.place1(k, c)
  }

  /** The work estimate moved: key with the new one from now on, and sweep the old keys out. */
  private drifted (c: Cls, work: number): void {
    c.workRef = work
    const n = c.open.size + c.full.size + c.reserveOpen.size + c.reserveFull.size
    if (c.stale.length < n) c.stale = new Int32Array(Math.max(n, c.stale.length * 2))
    let at = 0
    for (const h of [c.open, c.full, c.reserveOpen, c.reserveFull]) at = h.copyIds(c.stale, at)
    c.staleLeft = at
    this.sweep(c)
  }

  private sweep (c: Cls): void {
    for (let n = 0; n < SWEEP && c.staleLeft > 0; n++) {
      const k = this.workers[c.stale[--c.staleLeft]]
      // the slot may have gone, or been reused by a worker outside the class
      if (k != null && k.classes.includes(c.idx)) this.place1(k, c)
    }
  }

  private classOf (task: PendingTask): Cls {
    let rk = this.reqKeys.get(task.requirement)
    if (rk == null) {
      rk = JSON.stringify(task.requirement)
      this.reqKeys.set(task.requirement, rk)
    }
    const key = `${task.functionCid}\u0000${rk}`
    let c = this.classByKey.get(key)
    if (c != null) return c
    c = {
      idx: this.classes.length,
      fnCid: task.functionCid,
      req: task.requirement,
      fnBytes: task.functionBytes ?? 0,
      inputBytes: (task.inputBytes ?? []).reduce((a, b) => a + b, 0),
      open: new IndexedMinHeap(),
      full: new IndexedMinHeap(),
      idle: new IndexedMinHeap(),
      reserveOpen: new IndexedMinHeap(),
      reserveFull: new IndexedMinHeap(),
      speed: 0,
      workRef: this.estimator.workMs(task.functionCid),
      stale: new Int32Array(0),
      staleLeft: 0
    }
    this.classes.push(c)
    this.classByKey.set(key, c)
    for (const k of this.workers) {
      if (k != null && satisfies(k.caps, c.req)) this.join(k, c)
    }
    return c
  }

  /** Ids of the workers believed to hold this content (an input, a function), by their offers and what they were sent. */
  holdersOf (cid: string): string[] {
    const hs = this.holders.get(cid)
    return hs == null ? [] : [...hs].map(i => (this.workers[i] as Wk).id)
  }

  private hold (k: Wk, cid: string): void {
    if (k.cached.has(cid)) return
    k.cached.add(cid)
    let s = this.holders.get(cid)
    if (s == null) this.holders.set(cid, s = new Set())
    s.add(k.idx)
  }

  private unhold (k: Wk, cid: string): void {
    if (!k.cached.delete(cid)) return
    this.holders.get(cid)?.delete(k.idx)
  }

  private wk (id: string): Wk | undefined {
    const i = this.byId.get(id)
    return i == null ? undefined : this.workers[i]
  }
}

function oldestStarted (expect: Map<string, Expected>, fnCid: string): string | undefined {
  for (const [id, e] of expect) if (e.start != null && e.fnCid === fnCid) return id
  return undefined
}

/** Index of the smallest entry. */
function earliest (xs: Float64Array): number {
  let best = 0
  for (let i = 1; i < xs.length; i++) if (xs[i] < xs[best]) best = i
  return best
}

export function lowBattery (caps: Capabilities, threshold: number): boolean {
  return caps.battery != null && !caps.battery.charging && caps.battery.level < threshold
}
