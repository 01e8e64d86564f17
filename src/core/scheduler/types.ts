import type { Capabilities } from '../requirements/capabilities.js'
import type { Requirement } from '../requirements/requirement.js'

/**
 * A worker the resource scheduler offers for a requirement. The optional
 * measurements are what estimated-completion-time placement uses; the
 * runner fills them from what it measures (docs/scheduling.md, "Wiring"),
 * the simulator from its model, and a scheduler that needs none ignores them.
 */
export interface Offer {
  workerId: string
  caps: Capabilities
  /** Tasks this job already has in flight on the worker. */
  inFlight: number
  /** Load the worker reported for everyone's tasks (queued + running). */
  reportedLoad: number
  /** Content ids the worker holds warm (functions, models, blocks). */
  cached: ReadonlySet<string>
  /** The submitting peer itself. */
  self: boolean
  /** Measured round trip to the worker, ms (ping or task round trips). */
  rttMs?: number
  /** Measured bandwidth to the worker, bytes per second. */
  bandwidthBps?: number
}

/** A task waiting for a worker, as the application scheduler sees it. */
export interface PendingTask {
  id: string
  functionCid: string
  requirement: Requirement
  /** Content ids of inputs, for cache-aware placement. */
  inputCids: string[]
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

export interface Placement {
  taskId: string
  workerId: string
}

/**
 * The application scheduler decides which task goes where, given the offers
 * the resource scheduler made. Implementations are pure: same inputs, same
 * placements. Return only the placements to make now; tasks left out stay
 * pending and are offered again on the next round.
 */
export interface ApplicationScheduler {
  readonly name: string
  place: (pending: readonly PendingTask[], offers: readonly Offer[]) => Placement[]
  /**
   * The workers this job may use at all: placement, and the runner's own
   * copies, splits and backups (absent: every offer). A local-only job's
   * work never leaves the device, not even as a copy of a slow task.
   */
  accepts?: (offer: Offer) => boolean
}
