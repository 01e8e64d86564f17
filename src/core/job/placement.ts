import { POLICY } from '../scheduler/policy-config.js'
import { sortBySizeDesc } from '../scheduler/ect-scheduler.js'
import { satisfies } from '../requirements/requirement.js'
import { chooseSpread } from '../scheduler/split.js'
import { copySuspects } from './cuts.js'
import { pendingOf } from './tasks.js'
import type { SpreadSlot } from '../scheduler/split.js'
import type { Offer, PendingTask } from '../scheduler/types.js'
import type { JobPolicy } from './policy.js'
import type { RunSpec } from './types.js'

type Placed = ReadonlyArray<{ taskId: string, workerId: string }>

/**
 * A round with tasks pending and the room admitted: quorum replicas, or
 * placement largest first (LPT; equal tiles keep their order) through the
 * application's scheduler, batch tasks spread over idle workers, twins for
 * a first round the room holds twice, and copies of a suspect's tasks.
 */
export function placeRound (job: JobPolicy, pendingIds: readonly string[], current: Offer[]): void {
  if (job.book != null) {
    placeReplicas(job, pendingIds, current)
    return
  }
  // batch tasks are cut in the tail: the placement may give them to slower workers
  const splittable = job.options.split !== false
  const pending = sortBySizeDesc(pendingIds.map(id => pendingOf(job.spec(id), splittable)), t => t.sizeBytes ?? 0)
  const placed = job.deps.scheduler.place(pending, current)
  if (splittable && job.options.backups !== false) spread(job, placed, pending.length, current)
  else for (const p of placed) job.dispatch(job.spec(p.taskId), p.workerId)
  if (job.options.backups !== false) {
    twin(job, placed, pending, current)
    copySuspects(job, current)
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
function twin (job: JobPolicy, placed: Placed, pending: readonly PendingTask[], current: Offer[]): void {
  if (job.twinned || job.book != null) return
  job.twinned = true
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
      const runningOn = [...job.tracker.get(p.taskId).runningOn]
      const offers = current.filter(o => !runningOn.includes(o.workerId) && room(o) > 0).map(o => ({ ...o, inFlight: o.inFlight + (taken.get(o.workerId) ?? 0) }))
      const copy = job.deps.scheduler.place([task], offers)[0]
      if (copy == null) break
      taken.set(copy.workerId, (taken.get(copy.workerId) ?? 0) + 1)
      job.dispatch(job.spec(p.taskId), copy.workerId)
      job.emit({ type: 'backup', taskId: p.taskId, workerId: copy.workerId, runningOn })
    }
  }
}

/**
 * Dispatches the placed tasks; a batch task placed while workers idle to
 * spare (free slots beyond every task that waits) is spread over them at
 * once (`chooseSpread`): its worker keeps its first items, each helper a
 * piece of the last ones. Placed whole, it ran its items one after
 * another while the others idled, and the tail's splits halved it once a
 * round (src/core/sim: a 10,000-peer room's maps ended 0.1 s sooner).
 */
function spread (job: JobPolicy, placed: Placed, pendingCount: number, current: Offer[]): void {
  const taken = new Map<string, number>()
  for (const p of placed) taken.set(p.workerId, (taken.get(p.workerId) ?? 0) + 1)
  const free = (o: Offer): number => o.caps.slots - o.inFlight - (taken.get(o.workerId) ?? 0)
  let spare = -(pendingCount - placed.length)
  for (const o of current) spare += Math.max(0, free(o))
  const est = job.deps.estimator
  const termsOf = (o: Offer, spec: RunSpec): SpreadSlot => ({
    workerId: o.workerId,
    startMs: o.self ? 0 : est.linkMs(o.workerId) ?? POLICY.runnerUnknownLinkMs,
    itemMs: est.taskMs(o.workerId, o.caps, spec.fnCid, est.sizeScale(spec.fnCid, 1))
  })
  for (const p of placed) {
    const spec = job.spec(p.taskId)
    const placedOn = current.find(o => o.workerId === p.workerId)
    const left = spec.range == null ? 0 : spec.range.to - job.firstMissing(spec)
    if (spare < 1 || placedOn == null || spec.range == null || left < 2) {
      job.dispatch(spec, p.workerId)
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
      job.dispatch(spec, p.workerId)
      continue
    }
    const { first } = plan
    let to = spec.range.to
    for (let j = slots.length - 1; j > first; j--) {
      if (plan.items[j] === 0) continue
      to -= plan.items[j]
      const piece = job.cutWaiting(job.spec(spec.id), to)
      const w = slots[j].workerId
      taken.set(w, (taken.get(w) ?? 0) + 1)
      spare--
      job.dispatch(piece, w)
      job.emit({ type: 'split', taskId: spec.root, pieceId: piece.id, from: slots[first].workerId, to: w, items: plan.items[j], placed: true })
    }
    if (first > 0) {
      taken.set(p.workerId, (taken.get(p.workerId) ?? 0) - 1)
      taken.set(slots[first].workerId, (taken.get(slots[first].workerId) ?? 0) + 1)
    }
    job.dispatch(job.spec(spec.id), slots[first].workerId)
  }
}

/** Quorum mode: places the replicas the book wants, each on a worker that has not run the task. */
function placeReplicas (job: JobPolicy, pendingIds: readonly string[], current: Offer[]): void {
  const book = job.book
  if (book == null) return
  for (const id of pendingIds) {
    const spec = job.spec(id)
    for (let n = book.wanted(id); n > 0; n--) {
      const ran = book.ranOn(id)
      const candidates = current.filter(o => !ran.has(o.workerId))
      const [p] = job.deps.scheduler.place([pendingOf(spec)], candidates)
      if (p == null) break
      book.started(id, p.workerId)
      const o = candidates.find(c => c.workerId === p.workerId)
      if (o != null) o.inFlight++
      job.dispatch(spec, p.workerId)
    }
  }
}
