import { satisfies } from '../requirements/requirement.js'
import type { ApplicationScheduler, Offer, PendingTask, Placement } from './types.js'

export interface LeastLoadedInit {
  /**
   * Tasks kept in flight per worker slot. Above 1 a worker always has its
   * next input on hand when it finishes one, hiding the network round trip.
   */
  depthPerSlot?: number
}

/**
 * First scheduler: capability filter, then the least-loaded worker (in-flight
 * tasks per slot), preferring one that already caches the function or input.
 */
export function leastLoaded (init: LeastLoadedInit = {}): ApplicationScheduler {
  const depth = init.depthPerSlot ?? 2
  return {
    name: 'least-loaded',
    place (pending: readonly PendingTask[], offers: readonly Offer[]): Placement[] {
      const inFlight = new Map(offers.map(o => [o.workerId, o.inFlight]))
      const placements: Placement[] = []
      for (const task of pending) {
        let best: Offer | undefined
        let bestScore = Infinity
        for (const offer of offers) {
          const load = inFlight.get(offer.workerId) ?? 0
          const capacity = offer.caps.slots * depth
          if (load >= capacity) continue
          if (!satisfies(offer.caps, task.requirement)) continue
          const warm = offer.cached.has(task.functionCid) ? 0 : 0.25
          const score = load / offer.caps.slots + warm + task.inputCids.filter(c => !offer.cached.has(c)).length * 0.01
          if (score < bestScore || (score === bestScore && best != null && offer.workerId < best.workerId)) {
            best = offer
            bestScore = score
          }
        }
        if (best == null) continue
        inFlight.set(best.workerId, (inFlight.get(best.workerId) ?? 0) + 1)
        placements.push({ taskId: task.id, workerId: best.workerId })
      }
      return placements
    }
  }
}
