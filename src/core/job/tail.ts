import { POLICY } from '../scheduler/policy-config.js'
import { chooseBackups } from '../scheduler/backups.js'
import { chooseSplits } from '../scheduler/split.js'
import { satisfies } from '../requirements/requirement.js'
import { PROGRESS_EVERY_MS } from '../protocol/task.js'
import { QUIET_CUT_MS } from './tasks.js'
import { copyKey, splitKey } from './types.js'
import { requirementKey } from './room-offers.js'
import type { ItemRange } from '../protocol/task.js'
import type { RunningTaskInfo } from '../scheduler/backups.js'
import type { SplitCandidate } from '../scheduler/split.js'
import type { Offer } from '../scheduler/types.js'
import type { Requirement } from '../requirements/requirement.js'
import type { JobPolicy } from './policy.js'

/** Nothing pending, the source closed: moves (late binding, when on), then splits, then backups. */
export function tail (job: JobPolicy, current: Offer[]): void {
  if (job.options.lateBinding === true) moveWaiting(job, current)
  splitTail(job, current)
  launchBackups(job, current)
}

/**
 * Whether the copy is queued behind at least a slotful of this job's tasks
 * sent to its worker before it: the worker runs them first in, first out,
 * so it cannot have started, whatever its start report (which a starved
 * tab sends late) says. Moving a copy that had started would throw its
 * work away.
 */
function queuedBehind (job: JobPolicy, key: string): boolean {
  const { workerId } = splitKey(key)
  const slots = job.capsOf.get(workerId)?.slots ?? 1
  let ahead = 0
  for (const k of job.inflight) {
    if (k === key) return ahead >= slots
    if (!job.cancelled.has(k) && splitKey(k).workerId === workerId) ahead++
  }
  return false
}

/**
 * A worker has a free slot: it takes over copies still waiting in another
 * worker's queue (not started: moving one loses no work) that it would
 * finish sooner. The waiting copy is cancelled. Without it the last tasks
 * sat queued behind slow ones while faster workers idled (late binding,
 * src/core/scheduler/steal.ts).
 */
function moveWaiting (job: JobPolicy, current: Offer[]): void {
  if (job.waiting.size === 0) return
  const { now, clock } = job
  const byWorker = new Map(current.map(o => [o.workerId, o]))
  for (const o of current) {
    while (o.inFlight < o.caps.slots) {
      const pick = job.waiting.choose(o.caps, now,
        key => job.inflight.has(key) && !clock.started(key) && !job.cancelled.has(key) && queuedBehind(job, key),
        key => {
          const { taskId, workerId } = splitKey(key)
          if (workerId === o.workerId || job.tracker.get(taskId).runningOn.size !== 1) return undefined
          const link = o.self ? 0 : job.deps.estimator.linkMs(o.workerId) ?? 0
          return now + clock.expectedMs(job.timed(job.spec(taskId)), o.workerId) + link
        },
        key => { const { taskId, workerId } = splitKey(key); return job.expectedEnd(job.spec(taskId), workerId) },
        { minGainMs: POLICY.lateBindingMinGainMs })
      if (pick == null) break
      const { taskId, workerId: from } = splitKey(pick.item)
      job.stopCopy(pick.item, 'moved to a worker that came free')
      // the offers stay true for the backups placed after the moves
      const victim = byWorker.get(from)
      if (victim != null) victim.inFlight--
      o.inFlight++
      job.dispatch(job.spec(taskId), o.workerId)
      job.emit({ type: 'moved', taskId, from, to: o.workerId })
    }
  }
}

/**
 * Workers idle: the batch tasks expected to end last are cut where their
 * worker and an idle helper would end together, and the items after the
 * cut go to the helper as a task of their own (SkewTune's repartitioning,
 * src/core/scheduler/split.ts). A copy makes a slow worker's whole task
 * run again; a split shares what is left, and the worker's items done so
 * far are kept.
 */
function splitTail (job: JobPolicy, current: Offer[]): void {
  if (job.book != null || job.options.split === false) return
  const idle = current.filter(o => o.inFlight < o.caps.slots)
  if (idle.length === 0) return
  // a split takes one idle slot: as many as there are in one round (a
  // cap of 64 left a 10,000-peer tail's tasks waiting rounds for theirs)
  let idleSlots = 0
  for (const o of idle) idleSlots += o.caps.slots - o.inFlight
  const { now, clock, items } = job
  const cands: SplitCandidate[] = []
  const keyOf = new Map<string, string>()
  /** Per candidate task, its other copies: behind the one split, they are cancelled with the split. */
  const othersOf = new Map<string, string[]>()
  for (const t of job.tracker.running()) {
    const spec = job.spec(t.id)
    if (spec.range == null) continue
    // of a task's copies (a backup, a copy of a suspect's task), the one
    // its reports say ends first is split: splitting another left the
    // one nearly done to be cancelled by the split
    let best: SplitCandidate | undefined
    let bestKey: string | undefined
    for (const worker of t.runningOn) {
      const key = copyKey(t.id, worker)
      // a starved device's start report can come late: count from dispatch then
      const started = clock.startedAt(key) ?? clock.dispatchedAt(key)
      const sent = items.rangeOf(key)
      if (started == null || sent == null) continue
      const report = items.reportOf(key)
      const done = Math.max(sent.from, report?.done ?? sent.from)
      const itemsLeft = spec.range.to - done
      // by the worker's own pace on this task once it has done an item (a
      // worker reports its first item at once); before that, by the
      // estimates, but no less than, for each item left, the time its first
      // item had been running at its last report (the items are alike)
      const remainingMs = done > sent.from
        ? ((report?.at ?? now) - started) / (done - sent.from) * itemsLeft - (now - (report?.at ?? now))
        : Math.max(job.expectedEnd(spec, worker) - now, ((report?.at ?? started) - started) * itemsLeft)
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
  const est = job.deps.estimator
  const helpers = fastestFirst(job, idle)
  chooseSplits(cands, ({ taskId, itemsLeft: left }) => {
    const spec = job.spec(taskId)
    const worker = splitKey(keyOf.get(taskId) as string).workerId
    const scale = est.sizeScale(spec.fnCid, left)
    const perSlowness = est.workMs(spec.fnCid) * scale
    let best: { workerId: string, startMs: number, allMs: number } | undefined
    for (const { o, slowness } of helpers(spec.fnCid, spec.requirement)) {
      // fastest first: once its compute alone ends no sooner than the best, none after it can
      if (best != null && perSlowness * slowness * (1 - 1e-9) >= best.startMs + best.allMs) break
      if (o.workerId === worker || (load.get(o.workerId) ?? 0) >= o.caps.slots) continue
      const startMs = o.self ? 0 : est.linkMs(o.workerId) ?? POLICY.unknownLinkMs
      const allMs = est.taskMs(o.workerId, o.caps, spec.fnCid, scale)
      if (best == null || startMs + allMs < best.startMs + best.allMs) best = { workerId: o.workerId, startMs, allMs }
    }
    return best
  }, { minGainMs: POLICY.splitMinGainReports * PROGRESS_EVERY_MS, maxPerRound: idleSlots }, plan => {
    const key = keyOf.get(plan.taskId) as string
    const spec = job.spec(plan.taskId)
    for (const w of othersOf.get(plan.taskId) ?? []) {
      job.stopCopy(copyKey(plan.taskId, w), 'a copy ahead of it was split; its rest runs elsewhere')
    }
    const piece = job.cut(spec, key, (spec.range as ItemRange).to - plan.items)
    load.set(plan.workerId, (load.get(plan.workerId) ?? 0) + 1)
    const o = current.find(x => x.workerId === plan.workerId)
    if (o != null) o.inFlight++
    job.dispatch(piece, plan.workerId)
    job.emit({ type: 'split', taskId: spec.root, pieceId: piece.id, from: splitKey(key).workerId, to: plan.workerId, items: plan.items })
  })
}

/**
 * Some worker idle: copy the tasks expected to finish last onto idle
 * workers where a copy would finish sooner.
 */
function launchBackups (job: JobPolicy, current: Offer[]): void {
  const idle = current.filter(o => o.inFlight < o.caps.slots)
  if (idle.length === 0) return
  const { now, clock } = job
  let idleSlots = 0
  for (const o of idle) idleSlots += o.caps.slots - o.inFlight
  const all = job.tracker.running()
  // insurance: idle slots far outnumber the running tasks, so a copy costs
  // nothing the job needed
  const insuring = idleSlots > POLICY.insureIdleShare * all.length
  // a task whose copy is still receiving its input is not copied (its
  // worker is alive and says so, and the copy's clock has not started),
  // except as insurance: a phone's link busy with the downloads of its
  // queue held a 1,000-peer job's last piece for 8 s while a thousand
  // workers idled
  const arriving = (t: { id: string, runningOn: ReadonlySet<string> }): boolean => [...t.runningOn].some(w => clock.inputArriving(copyKey(t.id, w), now))
  // as insurance, a batch task's lone copy still receiving its input keeps
  // its first item and the rest goes back to pending, to be spread over
  // the idle workers, rather than being copied whole (nothing of it is done)
  const cut = insuring && job.options.split !== false && job.book == null ? cutArriving(job, all.filter(arriving)) : new Set<string>()
  const running: RunningTaskInfo[] = (insuring ? all.filter(t => !cut.has(t.id)) : all.filter(t => !arriving(t))).map(t => {
    const sent = [...t.runningOn].map(w => clock.dispatchedAt(copyKey(t.id, w))).filter(x => x != null)
    const spec = job.spec(t.id)
    return {
      taskId: t.id,
      workers: [...t.runningOn],
      dispatchedAt: Math.min(...sent),
      expectedEnd: Math.min(...[...t.runningOn].map(w => job.expectedEnd(spec, w))),
      // copies on workers gone slow, or quiet for a cut's while, do not count against the copy limit
      healthy: [...t.runningOn].filter(w => !job.overdue(spec, w) && !clock.quiet(copyKey(t.id, w), w, now, QUIET_CUT_MS) && !clock.startOverdue(copyKey(t.id, w), job.timed(spec), w, now, QUIET_CUT_MS)).length
    }
  }).filter(t => Number.isFinite(t.expectedEnd))
  const load = new Map(idle.map(o => [o.workerId, o.inFlight]))
  const helpers = fastestFirst(job, idle)
  const est = job.deps.estimator
  chooseBackups(running, now, (taskId, exclude) => {
    const spec = job.spec(taskId)
    const scale = job.scale(spec)
    const perSlowness = est.workMs(spec.fnCid) * scale
    let best: { workerId: string, ectMs: number } | undefined
    for (const { o, slowness } of helpers(spec.fnCid, spec.requirement)) {
      // fastest first: once its compute alone ends no sooner than the best, none after it can
      if (best != null && perSlowness * slowness * (1 - 1e-9) >= best.ectMs) break
      if (exclude.has(o.workerId) || (load.get(o.workerId) ?? 0) >= o.caps.slots) continue
      // a remote copy also pays a round trip and its input fetch
      const ectMs = est.taskMs(o.workerId, o.caps, spec.fnCid, scale) + (o.self ? 0 : POLICY.remoteCopyMs)
      if (best == null || ectMs < best.ectMs) best = { workerId: o.workerId, ectMs }
    }
    return best
  }, { minGainMs: POLICY.backupMinGainMs, insure: insuring ? POLICY.insureWithin : undefined }, b => {
    load.set(b.workerId, (load.get(b.workerId) ?? 0) + 1)
    const runningOn = [...job.tracker.get(b.taskId).runningOn]
    job.dispatch(job.spec(b.taskId), b.workerId)
    job.emit({ type: 'backup', taskId: b.taskId, workerId: b.workerId, runningOn })
  })
}

/** Cuts each lone batch copy after its first item left; the ids of the tasks cut. */
function cutArriving (job: JobPolicy, tasks: ReadonlyArray<{ id: string, runningOn: ReadonlySet<string> }>): Set<string> {
  const cut = new Set<string>()
  for (const t of tasks) {
    const spec = job.spec(t.id)
    const [worker] = t.runningOn
    const key = copyKey(t.id, worker)
    if (spec.range == null || t.runningOn.size !== 1 || job.cutOnce.has(key)) continue
    job.cutOnce.add(key)
    const at = job.firstMissing(spec) + 1
    if (spec.range.to - at < 2) continue
    const piece = job.cut(spec, key, at)
    job.emit({ type: 'split', taskId: spec.root, pieceId: piece.id, from: worker, to: '', items: spec.range.to - at })
    cut.add(t.id)
  }
  return cut
}

/**
 * The offers that meet a requirement, fastest for the function first (by
 * the estimator's slowness; the offers' order among equals): worked out
 * once per function and requirement a round. A helper's time for a task is
 * its slowness × the function's work × the task's size, so a search for
 * the helper that ends soonest stops at the first whose compute alone ends
 * later than the best found (it was O(tasks × idle offers) a round).
 */
function fastestFirst (job: JobPolicy, offers: readonly Offer[]): (fnCid: string, r: Requirement) => ReadonlyArray<{ o: Offer, slowness: number }> {
  const est = job.deps.estimator
  const byKey = new Map<string, Array<{ o: Offer, slowness: number }>>()
  return (fnCid, r) => {
    const k = `${fnCid}\u0000${requirementKey(r)}`
    let list = byKey.get(k)
    if (list == null) {
      list = offers.filter(o => satisfies(o.caps, r)).map(o => ({ o, slowness: est.slowness(o.workerId, o.caps, fnCid) }))
      list.sort((a, b) => a.slowness - b.slowness)
      byKey.set(k, list)
    }
    return list
  }
}
