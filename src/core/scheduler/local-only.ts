import { satisfies } from '../requirements/requirement.js'
import type { ApplicationScheduler, Offer, PendingTask, Placement } from './types.js'

/**
 * "All on my own device": places every task on the submitting peer. The
 * reference for swarm runs (same code path, one worker) and the choice of a
 * user who wants nothing to leave the device.
 */
export function localOnly (): ApplicationScheduler {
  return {
    name: 'local-only',
    accepts: offer => offer.self === true,
    place (pending: readonly PendingTask[], offers: readonly Offer[]): Placement[] {
      const self = offers.find(o => o.self)
      if (self == null) return []
      let free = self.caps.slots * 2 - self.inFlight
      const out: Placement[] = []
      for (const task of pending) {
        if (free <= 0) break
        if (!satisfies(self.caps, task.requirement)) continue
        out.push({ taskId: task.id, workerId: self.workerId })
        free--
      }
      return out
    }
  }
}
