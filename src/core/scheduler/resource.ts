import { unmetRequirements } from '../requirements/requirement.js'
import type { Capabilities } from '../requirements/capabilities.js'
import type { Requirement } from '../requirements/requirement.js'

/** What the resource scheduler needs to know about a candidate worker. */
export interface Candidate {
  workerId: string
  caps: Capabilities
  consent: boolean
  /** Proven room member (challenge–response done). */
  verified: boolean
  self: boolean
}

export type Admission =
  | { admitted: true, workers: string[] }
  | { admitted: false, reason: string }

/**
 * Admission control: can the room run functions with these requirements at
 * all? Refusals name what is missing, in words for the user.
 */
export function admit (requirements: readonly Requirement[], candidates: readonly Candidate[]): Admission {
  const volunteers = candidates.filter(c => c.consent && (c.verified || c.self))
  const fitting = new Set<string>()
  for (const req of requirements) {
    const fits = volunteers.filter(c => unmetRequirements(c.caps, req).length === 0)
    if (fits.length === 0) return { admitted: false, reason: refusalReason(req, volunteers) }
    for (const c of fits) fitting.add(c.workerId)
  }
  return { admitted: true, workers: [...fitting] }
}

function refusalReason (req: Requirement, volunteers: readonly Candidate[]): string {
  const n = volunteers.length
  if (n === 0) return 'no volunteer is in the room yet'
  const counts = new Map<string, number>()
  for (const c of volunteers) {
    for (const miss of unmetRequirements(c.caps, req)) counts.set(miss, (counts.get(miss) ?? 0) + 1)
  }
  const missing = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([m]) => m)
  const who = n === 1 ? 'the only volunteer does not offer it' : `none of the ${n} volunteers offers it`
  return `needs ${missing.join(' and ')}; ${who}`
}
