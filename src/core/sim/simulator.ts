import { DEFAULT_BEAT_INTERVAL_MS, MISSED_BEATS_TO_DIE } from '../registry/registry.js'
import { JobTracker } from '../jobs/tracker.js'
import { satisfies } from '../requirements/requirement.js'
import { chooseBackups } from '../scheduler/backups.js'
import { EctPlacer } from '../scheduler/ect.js'
import { sortBySizeDesc } from '../scheduler/ect-scheduler.js'
import { POLICY } from '../scheduler/policy-config.js'
import { leastLoaded } from '../scheduler/least-loaded.js'
import { localOnly } from '../scheduler/local-only.js'
import { QuorumBook } from '../scheduler/quorum.js'
import { EventQueue } from './event-queue.js'
import { PROFILES, drawPeer } from './peers.js'
import { Rng } from './prng.js'
import { DEFAULT_WORKLOAD, makeJob } from './workload.js'
import type { ApplicationScheduler, Offer } from '../scheduler/types.js'
import { lateFactor } from '../scheduler/estimates.js'
import type { TaskTimeEstimator } from '../scheduler/estimates.js'
import type { BackupPlacement, BackupPolicy, RunningTaskInfo } from '../scheduler/backups.js'
import type { SimPeer } from './peers.js'
import type { SimTask } from './workload.js'
import type { SimConfig, SimResult } from './config.js'
import { lowerBound, policyPeers } from './bounds.js'
import { oracleMakespan } from './oracle.js'
import { TaskQueue } from './task-queue.js'
import { StealIndex } from '../scheduler/steal.js'
import { chooseSplits, chooseSpread } from '../scheduler/split.js'
import type { SplitCandidate, SpreadSlot } from '../scheduler/split.js'
import type { QueueEntry } from './task-queue.js'

export type { SchedulerChoice, SimConfig, SimResult } from './config.js'

interface Attempt {
  task: SimTask
  peer: SimPeer
  backup: boolean
  dispatchedAt: number
  expectedEnd: number
  /** The estimated compute time when dispatched: expectations are rescaled as estimates improve. */
  taskMs: number
  /** Its size when dispatched (`taskMs` is for that size; the task's own size moves with reports and cuts). */
  sentScale: number
  /** The ECT's terms when dispatched (link, queue), ms. */
  arrivalMs: number
  waitMs: number
  rttMs: number
  state: 'sent' | 'queued' | 'running' | 'finished' | 'cancelled' | 'lost'
  computeMs: number
  startedAt: number
  /** Share of its task already done when this run started (kept progress), and when the run ends (a split moves it up). */
  from: number
  finishAt: number
  /** Its size when it started (or was cut): what its compute time teaches the estimator is measured against. */
  scale: number
  /** Cut once already because its worker went quiet. */
  quietCut?: boolean
}

type Ev =
  | { t: number, type: 'arrive' | 'fetched' | 'finish' | 'result', a: Attempt }
  | { t: number, type: 'join' | 'leave' | 'detect', p: SimPeer }
  | { t: number, type: 'tick' }

interface PeerRun {
  alive: boolean
  /** Known to the scheduler (joined, not yet noticed gone, not a caught liar). */
  known: boolean
  busy: number
  queue: Attempt[]
  /** Content the worker really holds. */
  holds: Set<string>
  /** Attempts the scheduler believes are on this worker. */
  inflight: Set<Attempt>
  /** Content the scheduler believes the worker holds. */
  cache: Set<string>
  /** Waiting entries whose input the scheduler believes the worker holds (placed ones are dropped lazily). */
  heldWaiting: QueueEntry[]
  /** When the worker's link is free again: inputs are fetched one after another. */
  linkFreeAt: number
}

/**
 * A deterministic discrete-event simulation of one MapReduce job on a room of
 * simulated peers, driving the real scheduler code (ECT placer, or any
 * ApplicationScheduler through its batch interface), the real JobTracker,
 * the real backup policy and quorum book. Same config, same result.
 */
export function simulate (config: SimConfig): SimResult {
  const rng = new Rng(config.seed)
  const k = Math.max(1, config.quorum ?? 1)
  const backups = (config.backups ?? false) && k === 1
  // the runner's registry drops a peer after this many missed beats
  const detectMs = config.detectMs ?? DEFAULT_BEAT_INTERVAL_MS * MISSED_BEATS_TO_DIE
  const maxOffers = config.maxOffers ?? 256
  const backupEvery = config.backupEveryMs ?? POLICY.tickMs
  const clock = config.clock ?? (() => 0)
  const jitter = config.jitter ?? 0.1
  const slowShare = config.slowShare ?? POLICY.slowShare
  const overdueFactor = config.overdueFactor ?? POLICY.lateFloor
  const probeSlots = config.probeSlots ?? POLICY.probeTasks
  const insureShare = config.insureShare ?? POLICY.insureIdleShare
  const stealOn = (config.steal ?? true) && k === 1
  const progressMs = config.progressMs ?? 500
  // maps are batch tasks (items) by default, as the runtime runs them: they resume and split
  const resumable = (config.resumable ?? true) && progressMs > 0 && k === 1
  const splitOn = (config.split ?? true) && k === 1 && progressMs > 0
  const spreadOn = splitOn && (config.spread ?? true)
  const quietStart = splitOn && (config.quietStart ?? true)
  const quietCopy = config.quietCopy ?? true
  const quietHold = config.quietHold ?? true
  // a batch task's worker late on its report by half a period is cut (cheap: it keeps the item it is on)
  const quietMs = splitOn ? POLICY.quietCutReports * progressMs : 0
  /** Share of a task's work already done and kept (checkpoints of lost runs), by task id. */
  const doneShare = new Map<string, number>()

  const draw = { stragglers: config.stragglers ?? 0.01, stragglerSlowdown: config.stragglerSlowdown ?? 10, liars: config.liars ?? 0 }

  // peers: the submitting laptop (never leaves), the room, churn
  const peers: SimPeer[] = config.peerList ?? [drawPeer(rng, 0, { stragglers: 0, stragglerSlowdown: 1, liars: 0 }, PROFILES[1])]
  if (config.peerList == null) {
    peers[0].self = true
    for (let i = 1; i < config.peers; i++) peers.push(drawPeer(rng, i, draw))
  }
  const job = makeJob(rng, { ...DEFAULT_WORKLOAD, ...config.workload, tasks: config.tasks, reducers: config.reducers ?? Math.floor(config.tasks / 100) })
  const churn = config.churn ?? 0
  if (churn > 0 && config.peerList == null) {
    const horizon = lowerBound(peers, job).lowerBoundMs
    const n = Math.round(churn * config.peers)
    const stay = peers.slice(1)
    for (let i = 0; i < n && stay.length > 0; i++) {
      const p = stay.splice(rng.int(stay.length), 1)[0]
      p.leaveAt = rng.uniform(0, horizon)
    }
    for (let i = 0; i < n; i++) {
      const p = drawPeer(rng, peers.length, draw)
      p.joinAt = rng.uniform(0, horizon)
      peers.push(p)
    }
  }
  // only tasks over items resume (a batch task's reported items are kept): reduces restart
  // low-battery devices held in reserve offer no speed while others fit (the battery policy)
  const offered = policyPeers(peers, job, config.ect?.batteryThreshold ?? POLICY.batteryThreshold)
  const bound = lowerBound(offered, job, { resumable: resumable && job.reduce.some(t => (t.items ?? 1) > 1), splittable: splitOn })
  const oracleMs = config.oracle === true ? oracleMakespan(offered, job) : undefined
  const byId = new Map(peers.map(p => [p.id, p]))
  const taskById = new Map([...job.map, ...job.reduce].map(t => [t.id, t]))

  // inputs live on two peers each (the DFS replicas)
  const initial = peers.filter(p => p.joinAt === 0)
  const runs: PeerRun[] = peers.map(() => ({ alive: false, known: false, busy: 0, queue: [], holds: new Set(), inflight: new Set(), cache: new Set(), heldWaiting: [], linkFreeAt: 0 }))
  for (const t of job.map) {
    for (let r = 0; r < 2; r++) {
      const p = initial[rng.int(initial.length)]
      runs[p.idx].holds.add(t.inputCids[0])
      runs[p.idx].cache.add(t.inputCids[0])
    }
  }

  const choice = config.scheduler ?? 'ect'
  const batch: ApplicationScheduler | undefined = choice === 'ect' ? undefined : choice === 'least-loaded' ? leastLoaded() : choice === 'local-only' ? localOnly() : choice
  // the ECT placer doubles as the estimator and index for every mode (backup estimates)
  // an ECT scheduler in batch mode learns from what the placer observes: one estimator
  const shared = (batch as { estimator?: TaskTimeEstimator } | undefined)?.estimator
  const placer = new EctPlacer({ ...config.ect, ...(shared != null ? { estimator: shared } : {}), now: () => now })
  // tasks over items are cut in the tail (and their pieces too): the placer may give them to slower workers
  if (splitOn) for (const t of job.map) if ((t.items ?? 1) > 1) t.splittable = true
  const tracker = new JobTracker<string>([...job.map, ...job.reduce].map(t => t.id))
  const book = new QuorumBook({ k })
  const queues = new Map<string, TaskQueue>()
  const live = new Map<string, Set<Attempt>>()
  const pendingReplicas = new Map<string, number>()
  const open = new Set<number>() // batch mode: known workers with room
  const results = new Map<string, { workerId: string, digest: string, at: number }>()
  const q = new EventQueue<Ev>()
  const stats = { quietCuts: 0, splits: 0, spreads: 0, keptWorkMs: 0, steals: 0, duplicates: 0, reExecuted: 0, backupsLaunched: 0, backupsWon: 0, liarsCaught: 0, wrongAccepted: 0, tieBreaks: 0, violations: 0, decisions: 0, decisionMs: 0, events: 0, joined: 0, left: 0 }
  let now = 0
  let makespan = 0
  let mapsLeft = job.map.length
  let pendingTotal = 0

  const copyQueued = new Set<string>()
  /** Peers whose leave the scheduler has noticed (by missed beats or reports). */
  const noticedGone = new Set<number>()
  const heldFirst = config.heldFirst ?? true
  /** The smallest waiting task of this queue whose input the worker holds, if any. */
  const heldEntry = (p: SimPeer, tq: TaskQueue): QueueEntry | undefined => {
    const list = runs[p.idx].heldWaiting
    let best: QueueEntry | undefined
    let n = 0
    for (const e of list) {
      if (!e.live) continue
      list[n++] = e
      if (queues.get(e.task.functionCid) !== tq) continue
      if (!satisfies(p.caps, e.task.requirement) || (k > 1 && book.ranOn(e.task.id).has(p.id))) continue
      if (best == null || (e.scale ?? 1) < (best.scale ?? 1)) best = e
    }
    list.length = n
    return best
  }
  const enqueue = (task: SimTask, front: boolean, backup = false): void => {
    let tq = queues.get(task.functionCid)
    if (tq == null) queues.set(task.functionCid, tq = new TaskQueue())
    const e: QueueEntry = { task, live: true, backup, scale: placer.scaleOf(task) }
    if (front) tq.unshift(e)
    else tq.push(e)
    if (!backup && heldFirst) for (const c of task.inputCids) for (const id of placer.holdersOf(c)) runs[(byId.get(id) as SimPeer).idx].heldWaiting.push(e)
    pendingTotal++
    if (k > 1) pendingReplicas.set(task.id, (pendingReplicas.get(task.id) ?? 0) + 1)
  }
  const enqueueReplicas = (task: SimTask, front: boolean): void => {
    const n = book.wanted(task.id) - (pendingReplicas.get(task.id) ?? 0)
    for (let i = 0; i < n; i++) enqueue(task, front)
  }
  const start = (task: SimTask): void => {
    if (k > 1) enqueueReplicas(task, false)
    else enqueue(task, false)
  }
  // batch mode offers a worker until it holds this many: the scheduler sets its own depth
  // (least-loaded 2 per slot, ECT 1 to 8 by the link), as in the runner, which has no cap
  const cap = (p: SimPeer): number => p.caps.slots * 8
  const refreshOpen = (p: SimPeer): void => {
    if (batch == null) return
    const r = runs[p.idx]
    if (r.known && r.inflight.size < cap(p)) open.add(p.idx)
    else open.delete(p.idx)
  }

  /** Late beyond the worker's own usual dispersion (as src/peer/job-runner.ts). */
  const lateBy = (p: SimPeer): number => lateFactor(placer.estimator.dispersion(p.id), overdueFactor)
  const taskMsNow = (task: SimTask, p: SimPeer): number => placer.estimator.taskMs(p.id, p.caps, task.functionCid, placer.scaleOf(task))
  /**
   * When the attempt is expected to end by today's estimates: its ECT at
   * dispatch with the compute-derived terms (its queue, its compute)
   * rescaled, the link's kept.
   */
  const expectedEndOf = (a: Attempt): number => {
    const r = a.taskMs > 0 ? placer.estimator.taskMs(a.peer.id, a.peer.caps, a.task.functionCid, a.sentScale) / a.taskMs : 1
    return a.dispatchedAt + Math.max(a.arrivalMs, a.waitMs * r) + a.taskMs * r + a.rttMs / 2
  }

  /** When the attempt is expected to end: by the placer's model of its worker's queue, else by its ECT at dispatch. */
  const endOf = (a: Attempt): number => placer.expectedEnd(a.peer.id, a.task.id) ?? expectedEndOf(a)
  /** Running late beyond its worker's usual dispersion, counted from when it started (not from dispatch: queueing is not lateness). */
  const overdue = (a: Attempt): boolean => {
    const late = placer.lateness(a.peer.id, a.task.id)
    return late == null ? now - a.dispatchedAt > lateBy(a.peer) * (expectedEndOf(a) - a.dispatchedAt) : late > lateBy(a.peer)
  }

  const dispatch = (task: SimTask, p: SimPeer, backup: boolean): void => {
    const r = runs[p.idx]
    if (resumable) resumeAtReports(task)
    const t0 = clock()
    const parts = placer.ectParts(p.id, task)
    const ect = parts == null ? Infinity : Math.max(parts.arrivalMs, parts.waitMs) + parts.computeMs + parts.rttMs / 2
    placer.assigned(p.id, task)
    stats.decisionMs += clock() - t0
    if (!satisfies(p.caps, task.requirement)) stats.violations++
    const a: Attempt = {
      task, peer: p, backup, dispatchedAt: now, expectedEnd: now + ect,
      taskMs: taskMsNow(task, p), sentScale: placer.scaleOf(task), arrivalMs: parts?.arrivalMs ?? 0, waitMs: parts?.waitMs ?? 0, rttMs: parts?.rttMs ?? 0,
      state: 'sent', computeMs: 0, startedAt: 0, from: 0, finishAt: 0, scale: 1
    }
    if (k > 1) {
      book.started(task.id, p.id)
      pendingReplicas.set(task.id, (pendingReplicas.get(task.id) ?? 1) - 1)
    } else tracker.assign(task.id, p.id)
    r.inflight.add(a)
    r.cache.add(task.functionCid)
    for (const c of task.inputCids) r.cache.add(c)
    let s = live.get(task.id)
    if (s == null) live.set(task.id, s = new Set())
    s.add(a)
    refreshOpen(p)
    config.onDispatch?.(task, p, backup, now)
    q.push({ t: now + p.rttMs / 2, type: 'arrive', a })
    if (stealOn && !backup) steals.add(task.functionCid, task.requirement, a, a.expectedEnd)
  }

  /**
   * A lost run's work up to its last progress report is kept (its partial
   * output reached the submitter): the task goes back with only the rest to
   * do, and looks that much smaller to the scheduler.
   */
  const keepProgress = (a: Attempt, endedAt: number): void => {
    const items = a.task.items ?? 1
    if (a.computeMs <= 0 || items < 2) return
    const reported = Math.floor(Math.max(0, endedAt - a.startedAt) / progressMs) * progressMs
    const f = Math.min(1, reported / a.computeMs)
    const before = doneShare.get(a.task.id) ?? 0
    // the outputs of whole items came with the reports (a batch task's items, as src/peer/worker-service.ts sends them)
    const done = Math.max(before, Math.floor((a.from + (1 - a.from) * f) * items + 1e-9) / items)
    if (done < 1) keep(a.task, done)
  }

  /**
   * The task's items up to share `done` are in (their outputs came with
   * reports): a copy started from now on runs only the rest, and the
   * placer sees the task that much smaller.
   */
  const keep = (task: SimTask, done: number): void => {
    const before = doneShare.get(task.id) ?? 0
    if (done <= before) return
    stats.keptWorkMs += task.workMs * (done - before)
    doneShare.set(task.id, done)
    const bytes = totalBytes(task)
    if (bytes > 0) task.sizeBytes = Math.max(1, Math.round(bytes * (1 - done)))
  }

  /**
   * The submitter holds the outputs of every item its running copies have
   * reported (a batch task's outputs come with its progress reports): a
   * new copy starts at the first item missing, as the runner's request
   * does (`firstMissing`, src/peer/job-runner.ts).
   */
  const resumeAtReports = (task: SimTask): void => {
    const items = task.items ?? 1
    if (items < 2) return
    let pos = doneShare.get(task.id) ?? 0
    for (const o of live.get(task.id) ?? []) if (o.state === 'running' || o.state === 'finished') pos = Math.max(pos, reportedPos(o))
    const done = Math.floor(pos * items + 1e-9) / items
    if (done < 1) keep(task, done)
  }

  /**
   * The size of a run of the task from share `from` of its items to its
   * end, against its function's reference: what its compute time teaches
   * the estimator is measured against. From the task's own bytes, not its
   * `sizeBytes` (the placer's view, shared by its copies and moved by
   * reports and cuts while this run goes on).
   */
  const runScale = (task: SimTask, from: number): number => {
    const bytes = totalBytes(task)
    return bytes > 0 ? placer.estimator.sizeScale(task.functionCid, bytes * (1 - from)) : placer.scaleOf(task)
  }

  /** Copies waiting (not started) on other workers that an idle worker may take over. */
  const steals = new StealIndex<Attempt>()
  const waitingCopy = (a: Attempt): boolean => a.state === 'sent' || a.state === 'queued'
  /** A worker with a free slot takes over waiting copies it would finish sooner (late binding). */
  const stealFor = (p: SimPeer): void => {
    if (!stealOn) return
    const r = runs[p.idx]
    while (r.known && r.alive && placer.loadOf(p.id) < p.caps.slots) {
      const t0 = clock()
      const pick = steals.choose(p.caps, now, waitingCopy, a => a.peer === p || live.get(a.task.id)?.size !== 1 ? undefined : now + placer.ect(p.id, a.task), endOf, { minGainMs: POLICY.simLateBindingMinGainMs })
      stats.decisionMs += clock() - t0
      if (pick == null) break
      const a = pick.item
      stats.steals++
      cancel(a)
      dispatch(a.task, p, false)
    }
  }

  /** The scheduler stops counting an attempt (result in, cancelled, or its worker gone). */
  const writeOff = (a: Attempt, observe: boolean): void => {
    const r = runs[a.peer.idx]
    r.inflight.delete(a)
    const s = live.get(a.task.id)
    s?.delete(a)
    if (s != null && s.size === 0) live.delete(a.task.id)
    placer.finished(a.peer.id, a.task.functionCid, observe ? a.computeMs : undefined, a.scale, a.task.id)
    refreshOpen(a.peer)
  }

  const tryStart = (p: SimPeer): void => {
    const r = runs[p.idx]
    while (r.alive && r.busy < p.caps.slots && r.queue.length > 0) {
      const a = r.queue.shift() as Attempt
      if (a.state !== 'queued') continue
      a.state = 'running'
      a.startedAt = now
      r.busy++
      a.from = doneShare.get(a.task.id) ?? 0
      a.scale = runScale(a.task, a.from)
      a.computeMs = runTime(p, now, a.task.workMs * (1 - a.from) / p.speed * rng.lognormal(1, jitter))
      a.finishAt = now + a.computeMs
      q.push({ t: a.finishAt, type: 'finish', a })
    }
  }

  const cancel = (a: Attempt): void => {
    const wasRunning = a.state === 'running'
    a.state = 'cancelled'
    writeOff(a, false)
    if (k > 1) book.lost(a.task.id, a.peer.id)
    else tracker.release(a.task.id, a.peer.id)
    if (wasRunning) {
      config.onRun?.(a.task, a.peer, a.startedAt, now, 'cancelled')
      runs[a.peer.idx].busy--
      tryStart(a.peer)
    }
  }

  const finishTask = (task: SimTask, workerId: string, digest: string): void => {
    results.set(task.id, { workerId, digest, at: now })
    if (digest !== goodDigest(task)) stats.wrongAccepted++
    makespan = now
    for (const other of [...(live.get(task.id) ?? [])]) cancel(other)
    if (task.phase === 'map' && --mapsLeft === 0) startPhase(job.reduce)
  }

  /**
   * A phase's tasks go out largest first (LPT: a big task started last sets
   * the makespan; input bytes are what the submitter knows of a size). A
   * phase the room can hold twice over starts each task twice, a copy
   * behind each, three times over three times (`POLICY.phaseCopies`; as the
   * runner's `twin`, src/peer/job-runner.ts).
   */
  const startPhase = (tasks: readonly SimTask[]): void => {
    const copies = backups && k === 1 ? Math.min(POLICY.phaseCopies - 1, Math.floor(idleNow() / Math.max(1, tasks.length)) - 1) : 0
    for (const t of bySizeDesc(tasks)) {
      start(t)
      for (let c = 0; c < copies; c++) { copyQueued.add(t.id); enqueue(t, false, true) }
    }
  }

  const distrust = (id: string): void => {
    const p = byId.get(id) as SimPeer
    const r = runs[p.idx]
    r.known = false
    placer.removeWorker(id)
    refreshOpen(p)
    stats.liarsCaught++
    for (const a of [...r.inflight]) {
      a.state = 'lost'
      writeOff(a, false)
      book.lost(a.task.id, id)
      enqueueReplicas(a.task, true)
    }
  }

  const onResult = (a: Attempt): void => {
    const r = runs[a.peer.idx]
    if (!r.inflight.has(a)) return // written off already: its worker was noticed gone
    placer.heard(a.peer.id)
    writeOff(a, true)
    const digest = a.peer.liar ? `bad:${a.peer.id}:${a.task.id}` : goodDigest(a.task)
    if (k === 1) {
      if (tracker.complete(a.task.id, a.peer.id, digest)) {
        if (a.backup) stats.backupsWon++
        finishTask(a.task, a.peer.id, digest)
      } else stats.duplicates++
      return
    }
    const vote = book.record(a.task.id, a.peer.id, digest)
    if (vote.type === 'agreed') {
      tracker.assign(a.task.id, vote.workers[0])
      tracker.complete(a.task.id, vote.workers[0], vote.digest)
      finishTask(a.task, vote.workers[0], vote.digest)
      for (const liar of vote.liars) distrust(liar)
      for (const id of vote.reopened) enqueueReplicas(taskById.get(id) as SimTask, true)
    } else if (vote.type === 'tie-break') {
      stats.tieBreaks++
      enqueueReplicas(a.task, true)
    } else if (vote.type === 'ignored' && vote.reason === 'decided') stats.duplicates++
  }

  /** Classes with tasks waiting: head task, backlog, work per task; and the work waiting in all of them. */
  const waiting = (): { classes: Array<{ tq: TaskQueue, task: SimTask, backlog: number, work: number }>, workMs: number } => {
    const classes: Array<{ tq: TaskQueue, task: SimTask, backlog: number, work: number }> = []
    let workMs = 0
    for (const tq of queues.values()) {
      const head = tq.peek()
      if (head == null) continue
      const work = placer.estimator.workMs(head.task.functionCid)
      workMs += tq.sizeSum * work
      classes.push({ tq, task: head.task, backlog: tq.sizeSum, work })
    }
    return { classes, workMs }
  }

  const pumpEct = (): void => {
    // free slots, counted once a call (a whole room's scan) when a spread may need them
    let idleCache = -1
    // work waiting in every class: a free worker refused by the delay rule
    // goes to another class, so a task waits behind all of it
    const w0 = waiting()
    let order = w0.classes
    let queuedWork = w0.workMs
    if (order.length > 1) order = placer.classOrder(order)
    for (const { tq, work } of order) {
      while (tq.size > 0) {
        const e = tq.peek() as QueueEntry
        if (e.backup === true && (results.has(e.task.id) || !live.has(e.task.id))) {
          // its original finished (or was lost and re-queued) before the copy left
          tq.shift()
          pendingTotal--
          queuedWork -= work * (e.scale ?? 1)
          copyQueued.delete(e.task.id)
          continue
        }
        const t0 = clock()
        const exclude = k > 1 ? book.ranOn(e.task.id) : e.backup === true ? runningOn(e.task.id) : undefined
        let w = placer.place(e.task, { backlog: tq.sizeSum, queuedWorkMs: queuedWork, exclude })
        if (w == null && e.backup !== true && tq.size > 1) {
          // the head (the largest task) is refused by every free worker:
          // one may still take the smallest, which it ends in time
          const small = tq.peekBack() as QueueEntry
          if (small.backup !== true) {
            const ws = placer.place(small.task, { backlog: tq.sizeSum, queuedWorkMs: queuedWork, exclude: k > 1 ? book.ranOn(small.task.id) : undefined })
            if (ws != null && placer.relativeSpeed(ws) < slowShare) w = ws
          }
        }
        stats.decisionMs += clock() - t0
        stats.decisions++
        if (w == null && e.backup === true) {
          // a copy no free worker would end before its running copies: it
          // is not worth a slot now, and must not hold the tasks behind it
          // (it is queued again if its task goes overdue again). The runner
          // keeps no copy it could not place; kept at the head, such a copy
          // had a 10,000-peer room's whole map class wait with a third of
          // its slots idle
          tq.shift()
          pendingTotal--
          queuedWork -= work * (e.scale ?? 1)
          copyQueued.delete(e.task.id)
          continue
        }
        if (w == null) break
        // size matching: a slow worker takes the smallest task waiting (the
        // queue runs largest first), leaving the big ones to faster workers
        // and a worker never measured gets the smallest first (a probe that
        // reports soon: a hidden straggler shows before it holds big tasks)
        const probe = !placer.estimator.measured(w) && placer.loadOf(w) < probeSlots
        const small = e.backup !== true && (probe || placer.relativeSpeed(w) < slowShare) ? tq.peekBack() : undefined
        // ... and of those, one whose input it already holds (no download
        // first: a phone fetches a chunk at 0.5-3 MB/s), while the room is
        // far from draining the queue; in the tail, the smallest of all
        const held = small != null && heldFirst ? heldEntry(byId.get(w) as SimPeer, tq) : undefined
        let take: QueueEntry
        if (held != null && held !== e && placer.ect(w, held.task) <= placer.drainMs(e.task, tq.sizeSum)) {
          tq.take(held)
          take = held
        } else take = small != null && small !== e && satisfies(byId.get(w)!.caps, small.task.requirement) && !(k > 1 && book.ranOn(small.task.id).has(w)) ? tq.pop() as QueueEntry : tq.shift() as QueueEntry
        pendingTotal--
        queuedWork -= work * (take.scale ?? 1)
        if (take.backup === true) {
          copyQueued.delete(take.task.id)
          stats.backupsLaunched++
        }
        if (take.backup !== true && spreadOn && pendingTotal <= POLICY.simSpreadPendingMax) {
          if (idleCache < 0) idleCache = idleNow()
          const used = spreadOrDispatch(take.task, byId.get(w) as SimPeer, idleCache - 1 - pendingTotal)
          idleCache -= used
        } else dispatch(take.task, byId.get(w) as SimPeer, take.backup === true)
      }
    }
  }

  const offerOf = (p: SimPeer): Offer => {
    const r = runs[p.idx]
    return { workerId: p.id, caps: p.caps, inFlight: r.inflight.size, reportedLoad: 0, cached: r.cache, self: p.self, rttMs: p.rttMs, bandwidthBps: p.bandwidthBps }
  }

  const pumpBatch = (sched: ApplicationScheduler): void => {
    if (pendingTotal === 0 || open.size === 0) return
    const chosen: SimPeer[] = []
    if (runs[0].known && open.has(0)) chosen.push(peers[0])
    for (const i of open) {
      if (chosen.length >= maxOffers) break
      if (i !== 0) chosen.push(peers[i])
    }
    // round robin: offered workers go to the back of the line
    for (const p of chosen) { open.delete(p.idx); open.add(p.idx) }
    let room = 0
    for (const p of chosen) room += cap(p) - runs[p.idx].inflight.size
    const entries: QueueEntry[] = []
    for (const tq of queues.values()) tq.collect(entries, room)
    const t0 = clock()
    const placed = sched.place(entries.map(e => e.task), chosen.map(offerOf))
    stats.decisionMs += clock() - t0
    stats.decisions += entries.length
    const byTask = new Map<string, QueueEntry[]>()
    for (const e of entries) {
      const l = byTask.get(e.task.id)
      if (l == null) byTask.set(e.task.id, [e])
      else l.push(e)
    }
    for (const pl of placed) {
      const e = byTask.get(pl.taskId)?.find(x => x.live)
      if (e == null) continue
      if (k > 1 && book.ranOn(pl.taskId).has(pl.workerId)) continue
      queues.get(e.task.functionCid)?.take(e)
      pendingTotal--
      dispatch(e.task, byId.get(pl.workerId) as SimPeer, false)
    }
  }

  const pump = (): void => {
    if (batch == null) pumpEct()
    else pumpBatch(batch)
  }

  const runningOn = (taskId: string): Set<string> => {
    const out = new Set<string>()
    for (const a of live.get(taskId) ?? []) out.add(a.peer.id)
    return out
  }

  /**
   * While tasks are pending, a task running far past its estimate (on a
   * hidden straggler, or a peer gone silent) gets a copy at the front of
   * the queue, placed like any task: idle workers are rare then, and the
   * best worker for it may be a busy fast one.
   */
  const queueOverdue = (): void => {
    // a worker with one task overdue is suspect (a hidden straggler, or gone
    // silent): every task it holds gets a copy, not only the overdue one;
    // nothing is overdue against a guess (the function never measured)
    const suspects = new Set<PeerRun>()
    for (const [, set] of live) {
      for (const a of set) {
        if (placer.estimator.knows(a.task.functionCid) && overdue(a)) suspects.add(runs[a.peer.idx])
      }
    }
    for (const r of suspects) {
      for (const a of r.inflight) {
        const id = a.task.id
        if ((live.get(id)?.size ?? 0) >= POLICY.simSuspectMaxCopies || copyQueued.has(id)) continue
        copyQueued.add(id)
        enqueue(a.task, true, true)
      }
    }
    pump()
  }

  /** Free slots of the workers the scheduler knows. */
  const idleNow = (): number => {
    let n = 0
    for (const p of peers) {
      const r = runs[p.idx]
      if (r.known && r.alive) n += Math.max(0, p.caps.slots - r.inflight.size)
    }
    return n
  }

  const runBackups = (): void => {
    if (!backups || live.size === 0) return
    if (pendingTotal > 0) {
      if (config.overdueBackups !== false) queueOverdue()
      // a few re-queued tasks (churn) are no reason to leave the tail's
      // idle slots unused: once they are placed, copies go out as usual
      if (pendingTotal * POLICY.simTailIdlePerPending >= idleNow()) return
    }
    if (splitOn) runSplits()
    const running: RunningTaskInfo[] = []
    for (const [, set] of live) {
      let first: Attempt | undefined
      const workers: string[] = []
      let end = Infinity
      let healthy = 0
      for (const a of set) {
        workers.push(a.peer.id)
        end = Math.min(end, endOf(a))
        // a copy whose worker went quiet is no copy to count on (as the runner's launchBackups)
        if (!overdue(a) && !(quietMs > 0 && a.state === 'running' && now - lastReportAt(a) > quietMs)) healthy++
        if (first == null || a.dispatchedAt < first.dispatchedAt) first = a
      }
      if (first == null) continue
      running.push({ taskId: first.task.id, workers, dispatchedAt: first.dispatchedAt, expectedEnd: end, healthy })
    }
    if (running.length === 0) return
    const taskOf = new Map<string, SimTask>()
    for (const { taskId } of running) taskOf.set(taskId, ((live.get(taskId) as Set<Attempt>).values().next().value as Attempt).task)
    const t0 = clock()
    let idleSlots = 0
    if (insureShare > 0) {
      for (const p of peers) {
        const r = runs[p.idx]
        if (r.known && r.alive) idleSlots += Math.max(0, p.caps.slots - r.inflight.size)
      }
    }
    const policy: BackupPolicy = { ...config.backupPolicy }
    policy.minGainMs ??= POLICY.simBackupMinGainMs
    if (insureShare > 0 && idleSlots > running.length * insureShare) policy.insure ??= POLICY.insureWithin
    // a big room has thousands of tasks in its tail: 64 copies a round took seconds to cover them
    policy.maxPerRound ??= Math.max(POLICY.backupsPerRound, Math.ceil(idleSlots / POLICY.simIdleSlotsPerBackup))
    const picks: BackupPlacement[] = chooseBackups(running, now, (taskId, exclude) => {
      const task = taskOf.get(taskId) as SimTask
      const ex = exclude
      let w: string | undefined
      if (batch == null) w = placer.place(task, { idleOnly: true, exclude: ex })
      else {
        const idle: Offer[] = []
        for (const i of open) {
          const p = peers[i]
          if (!ex.has(p.id) && runs[i].inflight.size < p.caps.slots) idle.push(offerOf(p))
          if (idle.length >= maxOffers) break
        }
        w = batch.place([task], idle)[0]?.workerId
      }
      if (w == null) return undefined
      return { workerId: w, ectMs: placer.ect(w, task) }
    }, policy, b => {
      stats.backupsLaunched++
      dispatch(taskOf.get(b.taskId) as SimTask, byId.get(b.workerId) as SimPeer, true)
    })
    stats.decisionMs += clock() - t0
    stats.decisions += picks.length
  }

  let pieces = 0
  /**
   * Cuts a running attempt's task at share `x` of its items (a whole
   * number of them): the run ends there, and the items after it become a
   * task of their own (returned, for the caller to place). Undefined when
   * the worker is past the cut by the time the stop reaches it.
   */
  const cutRun = (a: Attempt, x: number): SimTask | undefined => {
    const t = a.task
    const items = t.items ?? 1
    const moved = Math.round((1 - x) * items)
    if (moved < 1 || moved >= items) return undefined
    x = 1 - moved / items
    // the stop reaches the worker half a round trip from now: past the cut by then, the split is void
    // (a worker gone is wherever it stopped, and the piece holds what it never sent)
    const at = Math.min(1, (Math.min(now + a.peer.rttMs / 2, a.peer.leaveAt) - a.startedAt) / a.computeMs)
    if (runs[a.peer.idx].alive && a.from + (1 - a.from) * at >= x) return undefined
    a.computeMs *= (x - a.from) / (1 - a.from)
    a.finishAt = a.startedAt + a.computeMs
    q.push({ t: a.finishAt, type: 'finish', a })
    a.from /= x
    const piece = cutTask(t, moved)
    // the run now covers its task from where it started to the cut: its
    // size (what its time is measured against) is that share of the bytes
    a.scale = runScale(t, a.from)
    placer.resized(a.peer.id, t.id, a.scale)
    // other copies of the task ran it whole: the cut leaves them the kept part only
    for (const other of [...(live.get(t.id) ?? [])]) if (other !== a) cancel(other)
    return piece
  }

  /** Cuts the last `moved` items off task `t` (fewer than it has left) as a task of its own, for the caller to place. */
  const cutTask = (t: SimTask, moved: number): SimTask => {
    const items = t.items ?? 1
    const x = 1 - moved / items
    pieces++
    const bytes = totalBytes(t)
    const piece = lastItems(t, moved, pieces)
    const d = doneShare.get(t.id) ?? 0
    t.workMs *= x
    t.items = items - moved
    t.inputBytes = [Math.max(1, Math.round(bytes * x))]
    // reports of another copy may have passed the cut: the kept part then has its last item left at most
    if (d > 0) doneShare.set(t.id, Math.min(d / x, 1 - 1 / (items - moved)))
    // what a copy of the kept part would run (the placer's view of its size)
    t.sizeBytes = Math.max(1, Math.round(bytes * x * (1 - (doneShare.get(t.id) ?? 0))))
    tracker.add(piece.id)
    taskById.set(piece.id, piece)
    if (piece.phase === 'map') mapsLeft++
    return piece
  }

  /**
   * A waiting task over items placed on `w` while workers idle to spare
   * (`spare` free slots beyond what waits) is spread over them at once
   * (`spreadItems`): `w` keeps its first items, each helper a piece of the
   * last ones. Returns the slots it took.
   */
  const spreadOrDispatch = (t: SimTask, w: SimPeer, spare: number): number => {
    const items = t.items ?? 1
    if (spare < 1 || items < 2 || t.splittable !== true) { dispatch(t, w, false); return 1 }
    const t0 = clock()
    if (resumable) resumeAtReports(t)
    const left = items - Math.round((doneShare.get(t.id) ?? 0) * items)
    const whole = placer.ectParts(w.id, t)
    if (left < 2 || whole == null) { stats.decisionMs += clock() - t0; dispatch(t, w, false); return 1 }
    const slots: SpreadSlot[] = [{ workerId: w.id, startMs: Math.max(whole.arrivalMs, whole.waitMs) + whole.rttMs, itemMs: whole.computeMs / left }]
    const one = lastItems(t, 1, 0)
    const exclude = new Set([w.id])
    for (let i = 0; i < Math.min(left - 1, spare, POLICY.spreadMaxHelpers); i++) {
      const h = placer.place(one, { idleOnly: true, exclude })
      const parts = h == null ? undefined : placer.ectParts(h, one)
      if (h == null || parts == null) break
      exclude.add(h)
      slots.push({ workerId: h, startMs: Math.max(parts.arrivalMs, parts.waitMs) + parts.rttMs, itemMs: parts.computeMs })
    }
    const plan = chooseSpread(left, slots)
    stats.decisionMs += clock() - t0
    if (plan == null) { dispatch(t, w, false); return 1 }
    const { first } = plan
    let used = 1
    for (let j = slots.length - 1; j > first; j--) {
      if (plan.items[j] === 0) continue
      const piece = cutTask(t, plan.items[j])
      stats.spreads++
      dispatch(piece, byId.get(slots[j].workerId) as SimPeer, false)
      used++
    }
    dispatch(t, byId.get(slots[first].workerId) as SimPeer, false)
    return used
  }

  /**
   * A running batch task whose worker stopped reporting for `quietMs` is
   * cut after its last reported item (the runner's cut of a suspect, in
   * src/peer/job-runner.ts): the rest goes back to the front of the queue,
   * and the silent worker keeps only the item it was on.
   */
  /** The run's time its reports that came cover, ms (none come after its worker left). */
  const reportedMs = (a: Attempt): number => Math.floor(Math.max(0, Math.min(now, a.peer.leaveAt) - a.startedAt) / progressMs) * progressMs
  /** When the submitter last heard of the running attempt (its start, or its last report). */
  const lastReportAt = (a: Attempt): number => a.startedAt + reportedMs(a)
  const reportedPos = (o: Attempt): number => {
    if (o.state !== 'running' && o.state !== 'finished') return doneShare.get(o.task.id) ?? 0
    const rep = reportedMs(o)
    return o.from + (1 - o.from) * Math.min(1, rep / o.computeMs)
  }
  const cutQuiet = (): void => {
    let any = false
    for (const p of peers) {
      const r = runs[p.idx]
      if (!r.known || r.inflight.size === 0) continue
      for (const a of [...r.inflight]) {
        if ((a.task.items ?? 1) < 2 || a.quietCut === true) continue
        if (a.state === 'sent' || a.state === 'queued') {
          if (quietStart && cutUnstarted(a)) any = true
          continue
        }
        if (a.state !== 'running') continue
        // what the submitter sees: the reports that came (none after the worker left)
        const last = lastReportAt(a)
        if (now - last < quietMs) continue
        // its worker gets no new work until it is heard again
        if (quietHold) placer.silenced(p.id)
        const items = a.task.items as number
        const f = Math.min(1, (last - a.startedAt) / a.computeMs)
        const pos = a.from + (1 - a.from) * f
        // a task with another copy as far along (by its reports) is covered already;
        // copies behind the quiet run (a backup started from scratch) are cancelled by the cut
        let covered = false
        // (by whole items: a copy resumed at this run's reports starts at the last whole item they hold)
        const held = Math.floor(pos * items + 1e-9) / items
        for (const o of live.get(a.task.id) ?? []) if (o !== a && reportedPos(o) >= held) covered = true
        if (covered) continue
        a.quietCut = true
        const x = (Math.floor(pos * items + 1e-9) + 1) / items
        if (x >= 1) continue
        const piece = cutRun(a, x)
        if (piece == null) continue
        // the reported items' outputs came with the reports: a copy of what the
        // quiet worker keeps runs only the item it was on
        const kept = a.task.items as number
        if (resumable) keep(a.task, (kept - 1) / kept)
        stats.quietCuts++
        enqueue(piece, true)
        copyKept(a.task)
        any = true
      }
    }
    if (any) pump()
  }
  /**
   * A batch copy whose start report is overdue by `quietMs` (its worker
   * gone before it started, or its queue far behind) keeps its first item
   * left, and the rest goes back to the front of the queue (the quiet cut,
   * for a copy that never reported): unless another copy of it runs and
   * reports. Other copies waiting to start are cancelled (they were sent
   * the whole task). True when it cut.
   */
  const cutUnstarted = (a: Attempt): boolean => {
    const t = a.task
    const startDue = endOf(a) - taskMsNow(t, a.peer)
    if (now - startDue < quietMs) return false
    for (const o of live.get(t.id) ?? []) if (o !== a && o.state === 'running' && now - lastReportAt(o) < quietMs) return false
    a.quietCut = true
    if (resumable) resumeAtReports(t)
    const items = t.items as number
    const left = items - Math.round((doneShare.get(t.id) ?? 0) * items)
    if (left < 2) return false
    const piece = cutTask(t, left - 1)
    placer.resized(a.peer.id, t.id, runScale(t, doneShare.get(t.id) ?? 0))
    for (const other of [...(live.get(t.id) ?? [])]) if (other !== a) cancel(other)
    stats.quietCuts++
    enqueue(piece, true)
    copyKept(t)
    return true
  }

  /** The item a quiet worker keeps goes out as a copy at once (it is likely gone). */
  const copyKept = (t: SimTask): void => {
    if (!backups || quietCopy !== true || copyQueued.has(t.id)) return
    copyQueued.add(t.id)
    enqueue(t, true, true)
  }

  /**
   * The tail: running maps expected to end last are cut at an item
   * boundary and their last items go to idle workers. The submitter knows
   * a run's progress from its reports (every `progressMs`), its worker's
   * rate from the same, and a helper's terms from the placer.
   */
  const runSplits = (): void => {
    const t0 = clock()
    const cands: SplitCandidate[] = []
    const runOf = new Map<string, Attempt>()
    // what the submitter knows of a running copy: its items left (by its
    // last report) and its time for them (by its own pace so far, else the estimate)
    const byReports = (a: Attempt): { itemsLeft: number, remainingMs: number } => {
      const items = a.task.items ?? 1
      const elapsed = now - a.startedAt
      const reported = reportedMs(a)
      const f = Math.min(1, reported / a.computeMs)
      const pos = a.from + (1 - a.from) * f
      const itemsLeft = items - Math.floor(pos * items)
      const remainingMs = f > 0 ? Math.max(0, reported / f * (1 - f) - (elapsed - reported)) : Math.max(0, endOf(a) - now)
      return { itemsLeft, remainingMs }
    }
    for (const [id, set] of live) {
      // of a task's copies, the one its reports say ends first is split (the others are then cancelled)
      let a: Attempt | undefined
      let c: { itemsLeft: number, remainingMs: number } | undefined
      for (const x of set) {
        // a copy done but its result not in yet is, to the submitter, one about to end
        if ((x.state !== 'running' && x.state !== 'finished') || (x.task.items ?? 1) < 2) continue
        const cx = byReports(x)
        // past its end by its own pace (its reports stopped, or it runs late):
        // no split candidate, as in the runner (the quiet cut handles a silent one)
        if (x.state === 'running' && !(cx.remainingMs > 0)) continue
        if (c == null || cx.remainingMs < c.remainingMs) { a = x; c = cx }
      }
      if (a == null || c == null) continue
      cands.push({ taskId: id, ...c })
      runOf.set(id, a)
    }
    chooseSplits(cands, c => {
      const a = runOf.get(c.taskId) as Attempt
      // what a piece of all the items left would cost on a helper
      const piece = lastItems(a.task, c.itemsLeft, pieces + 1)
      const w = placer.place(piece, { idleOnly: true, exclude: new Set([a.peer.id]) })
      const parts = w == null ? undefined : placer.ectParts(w, piece)
      if (w == null || parts == null) return undefined
      return { workerId: w, startMs: Math.max(parts.arrivalMs, parts.waitMs) + parts.rttMs, allMs: parts.computeMs }
    }, { minGainMs: POLICY.splitMinGainReports * progressMs, maxPerRound: idleNow() }, plan => {
      const a = runOf.get(plan.taskId) as Attempt
      const piece = cutRun(a, 1 - plan.items / (a.task.items ?? 1))
      if (piece == null) return
      stats.splits++
      dispatch(piece, byId.get(plan.workerId) as SimPeer, false)
    })
    stats.decisionMs += clock() - t0
  }

  const join = (p: SimPeer): void => {
    const r = runs[p.idx]
    r.alive = true
    r.known = true
    placer.addWorker({ id: p.id, caps: p.caps, rttMs: p.rttMs, bandwidthBps: p.bandwidthBps, cached: r.cache })
    refreshOpen(p)
  }

  // run
  for (const p of peers) {
    if (p.joinAt === 0) join(p)
    else q.push({ t: p.joinAt, type: 'join', p })
    if (p.leaveAt < Infinity) q.push({ t: p.leaveAt, type: 'leave', p })
  }
  startPhase(job.map.length > 0 ? job.map : job.reduce)
  if (backups) q.push({ t: backupEvery, type: 'tick' })
  pump()
  while (!tracker.finished) {
    const ev = q.pop()
    if (ev == null) break
    now = ev.t
    stats.events++
    switch (ev.type) {
      case 'arrive': {
        // the worker fetches what it lacks as the task arrives (as
        // src/peer/worker-service.ts does), one download after another on
        // its link, and queues the task for a slot once it has it all
        const r = runs[ev.a.peer.idx]
        if (!r.alive || ev.a.state !== 'sent') break
        const task = ev.a.task
        let bytes = r.holds.has(task.functionCid) ? 0 : task.functionBytes ?? 0
        r.holds.add(task.functionCid)
        task.inputCids.forEach((c, i) => {
          if (!r.holds.has(c)) bytes += task.inputBytes?.[i] ?? 0
          r.holds.add(c)
        })
        if (bytes === 0) q.push({ t: now, type: 'fetched', a: ev.a })
        else {
          r.linkFreeAt = Math.max(now, r.linkFreeAt) + bytes * 1000 / ev.a.peer.bandwidthBps
          q.push({ t: r.linkFreeAt, type: 'fetched', a: ev.a })
        }
        break
      }
      case 'fetched': {
        const r = runs[ev.a.peer.idx]
        if (!r.alive || ev.a.state !== 'sent') break
        ev.a.state = 'queued'
        r.queue.push(ev.a)
        tryStart(ev.a.peer)
        break
      }
      case 'finish': {
        const r = runs[ev.a.peer.idx]
        // a split moved the run's end up: the first event is stale
        if (!r.alive || ev.a.state !== 'running' || ev.t !== ev.a.finishAt) break
        ev.a.state = 'finished'
        config.onRun?.(ev.a.task, ev.a.peer, ev.a.startedAt, now, 'finished')
        r.busy--
        tryStart(ev.a.peer)
        q.push({ t: now + ev.a.peer.rttMs / 2, type: 'result', a: ev.a })
        break
      }
      case 'result':
        onResult(ev.a)
        pump()
        stealFor(ev.a.peer)
        break
      case 'join':
        stats.joined++
        join(ev.p)
        pump()
        stealFor(ev.p)
        break
      case 'leave':
        stats.left++
        runs[ev.p.idx].alive = false
        // a silent leaver holding running tasks goes quiet on their streams
        // too: progress stops, noticed after three missed reports
        q.push({ t: now + (ev.p.cleanLeave ? ev.p.rttMs : progressMs > 0 && runs[ev.p.idx].busy > 0 ? Math.min(detectMs, POLICY.simSilentWriteOffReports * progressMs) : detectMs), type: 'detect', p: ev.p })
        break
      case 'detect': {
        if (noticedGone.has(ev.p.idx)) break
        noticedGone.add(ev.p.idx)
        const r = runs[ev.p.idx]
        r.known = false
        placer.removeWorker(ev.p.id)
        refreshOpen(ev.p)
        for (const a of [...r.inflight]) {
          const wasRunning = a.state === 'running'
          if (wasRunning) config.onRun?.(a.task, a.peer, a.startedAt, Math.min(now, ev.p.leaveAt), 'lost')
          a.state = 'lost'
          writeOff(a, false)
          if (k > 1) {
            book.lost(a.task.id, ev.p.id)
            stats.reExecuted++
            enqueueReplicas(a.task, true)
          } else if (tracker.release(a.task.id, ev.p.id)) {
            stats.reExecuted++
            if (resumable && wasRunning) keepProgress(a, Math.min(now, ev.p.leaveAt))
            enqueue(a.task, true)
          } else if (resumable && wasRunning && !copyQueued.has(a.task.id)) {
            // a copy runs elsewhere, but from the start: the lost run's kept
            // progress makes a fresh copy of the rest likely to end sooner
            // (dropped unplaced if the running copy ends first)
            keepProgress(a, Math.min(now, ev.p.leaveAt))
            copyQueued.add(a.task.id)
            enqueue(a.task, true, true)
          }
        }
        pump()
        break
      }
      case 'tick':
        // tasks running past their estimate put a floor under their workers' slowness
        for (const p of peers) if (runs[p.idx].alive && runs[p.idx].inflight.size > 0) placer.noteRunning(p.id)
        if (quietMs > 0 && backups) cutQuiet()
        if (stealOn && pendingTotal === 0) for (const p of peers) if (runs[p.idx].known) stealFor(p)
        runBackups()
        if (q.size > 0) q.push({ t: now + backupEvery, type: 'tick' })
        break
    }
  }

  return {
    scheduler: batch?.name ?? 'ect',
    makespanMs: makespan,
    lowerBoundMs: bound.lowerBoundMs,
    workBoundMs: bound.workBoundMs,
    criticalPathMs: bound.criticalPathMs,
    oracleMs,
    ratio: makespan / bound.lowerBoundMs,
    tasks: tracker.total,
    completed: tracker.done,
    duplicates: stats.duplicates,
    reExecuted: stats.reExecuted,
    backupsLaunched: stats.backupsLaunched,
    backupsWon: stats.backupsWon,
    steals: stats.steals,
    splits: stats.splits,
    spreads: stats.spreads,
    quietCuts: stats.quietCuts,
    keptWorkMs: stats.keptWorkMs,
    liars: peers.filter(p => p.liar).length,
    liarsCaught: stats.liarsCaught,
    wrongAccepted: stats.wrongAccepted,
    tieBreaks: stats.tieBreaks,
    violations: stats.violations,
    decisions: stats.decisions,
    decisionMs: stats.decisionMs,
    meanDecisionUs: tracker.done > 0 ? stats.decisionMs * 1000 / (tracker.done + stats.backupsLaunched + stats.reExecuted) : 0,
    events: stats.events,
    peersJoined: stats.joined,
    peersLeft: stats.left,
    results,
    peers
  }
}

function bySizeDesc (tasks: readonly SimTask[]): SimTask[] {
  return sortBySizeDesc([...tasks], totalBytes)
}

/** A task's input bytes, all inputs together. */
function totalBytes (t: SimTask): number {
  return (t.inputBytes ?? []).reduce((a, b) => a + b, 0)
}

/** Wall time of `ms` of compute at the peer's speed started at `start`, with its slow-down (if any) applied from `slowAt`. */
function runTime (p: SimPeer, start: number, ms: number): number {
  if (p.slowAt == null || p.slowFactor == null || start + ms <= p.slowAt) return ms
  if (start >= p.slowAt) return ms * p.slowFactor
  const before = p.slowAt - start
  return before + (ms - before) * p.slowFactor
}

/** The last `items` items of a task over items, as a task of their own (piece number `n`): its share of the bytes and the work. */
function lastItems (t: SimTask, items: number, n: number): SimTask {
  const share = items / (t.items ?? 1)
  const bytes = totalBytes(t)
  return { ...t, id: `${t.id}.${n}`, inputCids: [`${t.inputCids[0]}.${n}`], inputBytes: [Math.max(1, Math.round(bytes * share))], sizeBytes: undefined, workMs: t.workMs * share, items, splittable: items > 1 }
}

function goodDigest (task: SimTask): string {
  return `ok:${task.id}`
}
