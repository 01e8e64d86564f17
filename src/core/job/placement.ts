import { POLICY } from '../scheduler/policy-config.js'
import { satisfies } from '../requirements/requirement.js'
import { chooseSpread } from '../scheduler/split.js'
import { copySuspects } from './cuts.js'
import { pendingOf } from './tasks.js'
import { requirementKey } from './room-offers.js'
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
  const pending = largestFirst(pendingIds.map(id => pendingTask(job.spec(id), splittable)))
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
  // the largest task's copies first, on the best workers left: one
  // placement per round of copies (a call per copy rebuilt the room's
  // offers for each: a 10,000-peer room's thousand reduces cost seconds);
  // a copy placed where the task already runs, or on a worker left with
  // no free slot, is not made
  const offerOf = new Map(current.map(o => [o.workerId, o]))
  for (let c = 0; c < copies; c++) {
    const tasks = placed.flatMap(p => pendingById.get(p.taskId) ?? [])
    const offers = current.filter(o => room(o) > 0).map(o => ({ ...o, inFlight: o.inFlight + (taken.get(o.workerId) ?? 0) }))
    let made = 0
    for (const copy of job.deps.scheduler.place(tasks, offers)) {
      const runningOn = job.tracker.get(copy.taskId).runningOn
      const o = offerOf.get(copy.workerId)
      if (runningOn.has(copy.workerId) || o == null || room(o) <= 0) continue
      const before = [...runningOn]
      taken.set(copy.workerId, (taken.get(copy.workerId) ?? 0) + 1)
      job.dispatch(job.spec(copy.taskId), copy.workerId)
      job.emit({ type: 'backup', taskId: copy.taskId, workerId: copy.workerId, runningOn: before })
      made++
    }
    if (made === 0) break
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
    startMs: o.self ? 0 : est.linkMs(o.workerId) ?? POLICY.unknownLinkMs,
    itemMs: est.taskMs(o.workerId, o.caps, spec.fnCid, est.sizeScale(spec.fnCid, 1))
  })
  const byId = new Map<string, Offer>()
  for (const o of current) if (!byId.has(o.workerId)) byId.set(o.workerId, o)
  // per function and requirement, the offers that fit, the soonest to end an item first (stable: the
  // offers' order among equals); built once a round: a worker's terms do not change within it
  const ranked = new Map<string, { list: Array<{ o: Offer, slot: SpreadSlot }>, from: number }>()
  const helpersFor = (spec: RunSpec, worker: string, n: number): SpreadSlot[] => {
    const key = `${spec.fnCid}\u0000${requirementKey(spec.requirement)}`
    let r = ranked.get(key)
    if (r == null) {
      const list = current.filter(o => satisfies(o.caps, spec.requirement)).map(o => ({ o, slot: termsOf(o, spec) }))
      list.sort((a, b) => a.slot.startMs + a.slot.itemMs - (b.slot.startMs + b.slot.itemMs))
      ranked.set(key, r = { list, from: 0 })
    }
    // a worker full now stays full this round (unless a spread hands its slot back: `from` goes back then)
    while (r.from < r.list.length && free(r.list[r.from].o) <= 0) r.from++
    const out: SpreadSlot[] = []
    for (let i = r.from; i < r.list.length && out.length < n; i++) {
      const { o, slot } = r.list[i]
      if (o.workerId !== worker && free(o) > 0) out.push(slot)
    }
    return out
  }
  for (const p of placed) {
    const spec = job.spec(p.taskId)
    const placedOn = byId.get(p.workerId)
    const left = spec.range == null ? 0 : spec.range.to - job.firstMissing(spec)
    if (spare < 1 || placedOn == null || spec.range == null || left < 2) {
      job.dispatch(spec, p.workerId)
      continue
    }
    const helpers = helpersFor(spec, p.workerId, Math.min(left - 1, spare, POLICY.spreadMaxHelpers))
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
      for (const r of ranked.values()) r.from = 0
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

/** A task as placement sees it, made once per version of its spec (a cut makes a new one). */
const asPending = [new WeakMap<RunSpec, PendingTask>(), new WeakMap<RunSpec, PendingTask>()]
function pendingTask (spec: RunSpec, splittable: boolean): PendingTask {
  const cache = asPending[splittable ? 1 : 0]
  let t = cache.get(spec)
  if (t == null) cache.set(spec, t = pendingOf(spec, splittable))
  return t
}

/**
 * Largest first (LPT), equal sizes in the order given: a stable sort on
 * the size, by groups of equal size (a job's tasks come in few sizes: its
 * tiles alike, its batches of so many items).
 */
function largestFirst (tasks: PendingTask[]): PendingTask[] {
  const groups = new Map<number, PendingTask[]>()
  for (const t of tasks) {
    const k = t.sizeBytes ?? 0
    const g = groups.get(k)
    if (g == null) groups.set(k, [t])
    else g.push(t)
  }
  if (groups.size < 2) return tasks
  return [...groups.keys()].sort((a, b) => b - a).flatMap(k => groups.get(k) as PendingTask[])
}
