import { POLICY } from './policy-config.js'

/**
 * Backup tasks (MapReduce's answer to stragglers), as a pure policy: near the
 * end of a job, copy the running tasks expected to finish last onto idle
 * workers that would finish them sooner. The first result wins (the tracker
 * counts a task once); the runner cancels the other copy.
 */
export interface RunningTaskInfo {
  taskId: string
  /** Workers running a copy now. */
  workers: readonly string[]
  /** When the running copy was dispatched, ms. */
  dispatchedAt: number
  /** When it is expected to finish, by the current estimates, ms. */
  expectedEnd: number
  /**
   * Copies not yet overdue (default: all of `workers`). Only these count
   * against `maxCopies`: a task whose copies all landed on stragglers gets
   * another.
   */
  healthy?: number
}

export interface BackupPolicy {
  /** Copies of one task running at once, original included. */
  maxCopies?: number
  /** A backup must be expected to finish at least this much sooner, ms. */
  minGainMs?: number
  /** Most backups launched per call. */
  maxPerRound?: number
  /**
   * Insurance (the caller sets it when idle slots far outnumber running
   * tasks, as in a reduce phase or the end of a map phase): copy running
   * tasks even when the copy is not expected to win, as long as it would
   * finish within `insure` × the original's remaining time. A copy costs
   * an otherwise idle slot; the original may yet leave with its peer or
   * run long, and then the copy has already made progress.
   */
  insure?: number
}

export interface BackupPlacement {
  taskId: string
  workerId: string
  /** Expected time saved, ms. */
  gainMs: number
}

/** Where a fresh copy would run and when it would finish, ms from now; undefined when no idle worker fits. */
export type PlaceCopy = (taskId: string, exclude: ReadonlySet<string>) => { workerId: string, ectMs: number } | undefined

/**
 * Remaining time of a running copy: what the estimates say, or, once it is
 * overdue, as long again as it has already run (a straggler's end is
 * unknown; the longer it has run late, the later it is likely to end).
 */
export function remainingMs (t: RunningTaskInfo, now: number): number {
  return t.expectedEnd > now ? t.expectedEnd - now : now - t.dispatchedAt
}

/**
 * Call only near the end of a job (no task pending) with idle capacity.
 * Considers the slowest tasks first and returns the copies to launch;
 * `launch`, when given, is called for each as it is chosen.
 */
export function chooseBackups (running: readonly RunningTaskInfo[], now: number, place: PlaceCopy, policy: BackupPolicy = {}, launch?: (b: BackupPlacement) => void): BackupPlacement[] {
  const maxCopies = policy.maxCopies ?? POLICY.maxCopies
  const minGain = policy.minGainMs ?? 0
  const maxPerRound = policy.maxPerRound ?? POLICY.backupsPerRound
  const slow = running
    .filter(t => (t.healthy ?? t.workers.length) < maxCopies && t.workers.length < maxCopies + 2)
    .map(t => ({ t, rem: remainingMs(t, now) }))
    .sort((a, b) => b.rem - a.rem || (a.t.taskId < b.t.taskId ? -1 : a.t.taskId > b.t.taskId ? 1 : 0))
  const out: BackupPlacement[] = []
  let misses = 0
  for (const { t, rem } of slow) {
    if (out.length >= maxPerRound || misses >= POLICY.copyMissesPerCall) break
    const copy = place(t.taskId, new Set(t.workers))
    if (copy == null) { misses++; continue }
    const gain = rem - copy.ectMs
    // no gain here is no proof of none further down: the idle workers that
    // fit differ by function (the only idle ones fitting an onnx task may
    // be phones, while fast ones idle for the filters)
    if (gain <= minGain && !(policy.insure != null && copy.ectMs < policy.insure * rem)) { misses++; continue }
    const b = { taskId: t.taskId, workerId: copy.workerId, gainMs: gain }
    out.push(b)
    // launched at once, so the next `place` sees this worker's new load
    launch?.(b)
  }
  return out
}
