import type { Offer, PendingTask } from './types.js'

/**
 * Proposed v2 of the scheduler's inputs: an Offer and a PendingTask with the
 * measurements estimated-completion-time placement needs. Every new field is
 * optional, so v1 callers and schedulers keep working; the runner fills them
 * from what it measures (see docs/scheduling.md, "Wiring").
 */
export interface OfferV2 extends Offer {
  /** Measured round trip to the worker, ms (ping or task round trips). */
  rttMs?: number
  /** Measured bandwidth to the worker, bytes per second. */
  bandwidthBps?: number
}

export interface PendingTaskV2 extends PendingTask {
  /** Size of each input in `inputCids`, bytes (same order). */
  inputBytes?: readonly number[]
  /** Size of the function module (plus model, if any) pushed to a cold worker. */
  functionBytes?: number
  /**
   * The task's input size, bytes, inline inputs included (default: the sum
   * of `inputBytes`): its work is taken to grow with it (a tile's pixels, a
   * chunk's text), relative to its function's other tasks.
   */
  sizeBytes?: number
  /**
   * The task can be cut while it runs (a batch task: its last items go to
   * another worker), so a slow worker's late copy costs the job less.
   */
  splittable?: boolean
  /**
   * Items of a splittable task (frames, records): the last item a slow
   * worker is on when the task is cut is the part no helper takes over.
   */
  items?: number
}
