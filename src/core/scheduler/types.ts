import type { Capabilities } from '../requirements/capabilities.js'
import type { Requirement } from '../requirements/requirement.js'

/** A worker the resource scheduler offers for a requirement. */
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
}

/** A task waiting for a worker, as the application scheduler sees it. */
export interface PendingTask {
  id: string
  functionCid: string
  requirement: Requirement
  /** Content ids of inputs, for cache-aware placement. */
  inputCids: string[]
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
}
