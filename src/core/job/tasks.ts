import { InvalidMessageError } from '../errors.js'
import { POLICY } from '../scheduler/policy-config.js'
import { MAX_BATCH_ITEMS } from '../protocol/batch.js'
import { PROGRESS_EVERY_MS } from '../protocol/task.js'
import type { PendingTask } from '../scheduler/types.js'
import type { RunSpec, TaskSpec } from './types.js'

/** A batch copy's worker silent this long has its copy cut after its item (`POLICY.quietCutReports` report periods). */
export const QUIET_CUT_MS = POLICY.quietCutReports * PROGRESS_EVERY_MS

/** A task as placement sees it; `splittable`: a batch task the placement may spread. */
export function pendingOf (s: RunSpec, splittable = false): PendingTask {
  const size = sizeOf(s)
  const p: PendingTask = 'cid' in s.input
    ? { id: s.id, functionCid: s.fnCid, requirement: s.requirement, inputCids: [s.input.cid], ...(s.range != null || s.inputBytes != null ? { sizeBytes: size } : {}) }
    : { id: s.id, functionCid: s.fnCid, requirement: s.requirement, inputCids: [], sizeBytes: size }
  if (splittable && s.range != null && s.range.to - s.range.from > 1) {
    p.splittable = true
    p.items = s.range.to - s.range.from
  }
  return p
}

/**
 * A task's size relative to its function's other tasks: its inline input
 * bytes, or those the caller gave of an input by CID (`inputBytes`; 0:
 * unknown), or for a batch task, its items (work grows with them; a piece
 * is smaller than its parent).
 */
export function sizeOf (s: RunSpec): number {
  if (s.range != null) return s.range.to - s.range.from
  return 'bytes' in s.input ? s.input.bytes.byteLength : s.inputBytes ?? 0
}

/** The policy's view of a caller's task; a batch task's items are checked here, before anything runs. */
export function runSpec (s: TaskSpec): RunSpec {
  if (s.items == null) return { ...s, root: s.id }
  if (!Number.isInteger(s.items) || s.items < 1 || s.items > MAX_BATCH_ITEMS) {
    throw new InvalidMessageError(`task ${s.id}: items must be an integer from 1 to ${MAX_BATCH_ITEMS}, not ${s.items}`)
  }
  return { ...s, root: s.id, range: { from: 0, to: s.items } }
}
