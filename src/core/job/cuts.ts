import { QUIET_CUT_MS, pendingOf } from './tasks.js'
import { copyKey } from './types.js'
import type { Offer } from '../scheduler/types.js'
import type { JobPolicy } from './policy.js'
import type { RunSpec } from './types.js'

/**
 * A batch copy whose worker is late with its progress report (gone
 * silently, or stalled) is cut after the last item it reported, once:
 * the rest goes back to pending now, long before the room would write
 * the worker off. A worker merely slow keeps the item it is on.
 */
export function cutQuiet (job: JobPolicy): void {
  if (job.book != null || job.options.split === false) return
  const { now, clock, items } = job
  for (const t of job.tracker.running()) {
    const spec = job.spec(t.id)
    if (spec.range == null) continue
    for (const worker of t.runningOn) {
      // heard from lately: neither quiet nor late to start (the checks below would pass it by)
      if (job.heardWithin(worker, QUIET_CUT_MS)) continue
      const key = copyKey(t.id, worker)
      if (!job.cutOnce.has(key) && !clock.started(key)) {
        if (cutUnstarted(job, t.id, t.runningOn, worker)) break
        continue
      }
      const pos = items.position(key)
      if (pos == null || job.cutOnce.has(key) || !clock.quiet(key, worker, now, QUIET_CUT_MS)) continue
      // another copy as far along covers the task; copies behind (a backup
      // started later) would redo items that are in: they are cancelled
      const others = [...t.runningOn].filter(w => w !== worker)
      if (others.some(w => (items.position(copyKey(t.id, w)) ?? 0) >= pos)) continue
      job.cutOnce.add(key)
      const at = pos + 1
      if (spec.range.to - at < 2) continue
      for (const w of others) job.stopCopy(copyKey(t.id, w), 'a quiet copy ahead of it was cut; the rest runs again')
      const piece = job.cut(spec, key, at)
      job.emit({ type: 'split', taskId: spec.root, pieceId: piece.id, from: worker, to: '', items: spec.range.to - at })
      break
    }
  }
}

/**
 * A batch copy whose start report is overdue while its worker sends
 * nothing else (gone before it started; its input never came) keeps the
 * first item left, and the rest goes back to pending, as a quiet copy's
 * does; unless another copy of it runs and reports. True when it cut.
 */
function cutUnstarted (job: JobPolicy, taskId: string, runningOn: ReadonlySet<string>, worker: string): boolean {
  const { now, clock } = job
  const spec = job.spec(taskId)
  const key = copyKey(taskId, worker)
  if (spec.range == null || !clock.startOverdue(key, job.timed(spec), worker, now, QUIET_CUT_MS)) return false
  const others = [...runningOn].filter(w => w !== worker)
  if (others.some(w => clock.started(copyKey(taskId, w)) && !clock.quiet(copyKey(taskId, w), w, now, QUIET_CUT_MS))) return false
  job.cutOnce.add(key)
  const at = job.firstMissing(spec) + 1
  if (spec.range.to - at < 2) return false
  for (const w of others) job.stopCopy(copyKey(taskId, w), 'a copy whose worker never started it was cut; the rest runs again')
  const piece = job.cut(spec, key, at)
  job.emit({ type: 'split', taskId: spec.root, pieceId: piece.id, from: worker, to: '', items: spec.range.to - at })
  return true
}

/**
 * While tasks are still pending: a worker with one task overdue is
 * suspect (a device slowed down, a link gone quiet), and every task it
 * holds gets one copy elsewhere, first result wins; the copies of a
 * round are placed together, like pending tasks. Waiting for the tail to
 * do it costs the whole job a task's length.
 */
export function copySuspects (job: JobPolicy, current: Offer[]): void {
  const { now, clock } = job
  const running = job.tracker.running()
  const suspects = new Set<string>()
  for (const t of running) {
    const spec = job.spec(t.id)
    for (const w of t.runningOn) if (job.overdue(spec, w)) suspects.add(w)
  }
  if (suspects.size === 0) return
  const room = current.filter(o => !suspects.has(o.workerId))
  // the room's drain time, worked out when a started copy first asks (a scan of every pending task)
  let drain: number | undefined
  /** Tasks held by a suspect alone, to copy elsewhere, in the order they were given. */
  const copies: RunSpec[] = []
  for (const t of running) {
    const [worker] = t.runningOn
    if (t.runningOn.size !== 1 || !suspects.has(worker)) continue
    const spec = job.spec(t.id)
    // a slow worker still reporting, whose started copy would end before
    // the room drains what is pending (if it runs as long again as it
    // has), is capacity, not a stall: a copy would cost a faster worker a
    // pending task, and cancel the slow one's work (the 0.15-core tab of
    // the 6-browser bench had all its tasks overtaken this way)
    const key = copyKey(t.id, worker)
    const started = clock.startedAt(key)
    if (started != null && !clock.quiet(key, worker, now) && now - started <= (drain ??= drainMs(job, current))) continue
    // a batch task is not copied whole: its worker keeps the items done
    // and the one it is on, the rest waits for a faster worker like any
    // pending task (a worker gone silent loses only its own part);
    // once per copy: a room whose every device runs late (a loaded
    // machine) would otherwise cut its tasks ever finer at each round
    const pos = job.items.position(key)
    if (spec.range != null && pos != null && !job.cutOnce.has(key)) {
      const at = pos + 1
      job.cutOnce.add(key)
      if (spec.range.to - at >= 2) {
        const piece = job.cut(spec, key, at)
        job.emit({ type: 'split', taskId: spec.root, pieceId: piece.id, from: worker, to: '', items: spec.range.to - at })
        continue
      }
    }
    copies.push(spec)
  }
  if (copies.length === 0) return
  // one placement for all of them (their workers are suspects, out of the
  // room): a call of the application's scheduler may cost O(room), and a
  // room of thousands under churn has dozens of suspects' tasks a round
  const placed = new Map(job.deps.scheduler.place(copies.map(spec => pendingOf(spec)), room).map(p => [p.taskId, p.workerId]))
  for (const spec of copies) {
    const w = placed.get(spec.id)
    if (w == null) continue
    const runningOn = [...job.tracker.get(spec.id).runningOn]
    job.dispatch(spec, w)
    job.emit({ type: 'backup', taskId: spec.id, workerId: w, runningOn })
  }
}

/**
 * Time the room needs to run the pending tasks, ms: their work over the
 * offered slots' speed, by today's estimates (0 when nothing is pending).
 */
function drainMs (job: JobPolicy, current: Offer[]): number {
  const pending = job.tracker.pending()
  if (pending.length === 0) return 0
  const est = job.deps.estimator
  let work = 0
  for (const id of pending) {
    const spec = job.spec(id)
    work += est.workMs(spec.fnCid) * job.scale(spec)
  }
  // speeds for the first pending task's function: a job's tasks share few functions
  const fn = job.spec(pending[0]).fnCid
  let speed = 0
  for (const o of current) {
    const ms = est.taskMs(o.workerId, o.caps, fn)
    if (ms > 0 && Number.isFinite(ms)) speed += o.caps.slots * est.workMs(fn) / ms
  }
  return speed > 0 ? work / speed : Infinity
}
