import { satisfies } from '../requirements/requirement.js'
import type { Requirement } from '../requirements/requirement.js'
import type { Offer } from '../scheduler/types.js'
import type { RoomMember } from './types.js'

/*
 * What a tick builds from the room without deciding anything, made cheap
 * for a room of thousands: a tick looks at every member, so the sets it
 * builds per member are kept while the member's entry says the same, and
 * admission stops at the first worker that fits each requirement.
 */

/** A member's function CIDs as a set, and with the functions it ran for us. */
export interface MemberSets {
  cache: ReadonlySet<string>
  cached: ReadonlySet<string>
}

interface Seen extends MemberSets {
  entry: readonly string[]
  warm: number
}

/** The sets of each member, built again only when its advertised cache (a new array) or its warm functions change. */
export class MemberCache {
  readonly #seen = new Map<string, Seen>()

  sets (e: RoomMember, warm: ReadonlySet<string> | undefined): MemberSets {
    const s = this.#seen.get(e.id)
    const n = warm?.size ?? 0
    if (s != null && s.entry === e.cache && s.warm === n) return s
    const fresh: Seen = { entry: e.cache, warm: n, cache: new Set(e.cache), cached: new Set([...e.cache, ...(warm ?? [])]) }
    this.#seen.set(e.id, fresh)
    return fresh
  }
}

const keys = new WeakMap<Requirement, string>()

/** A requirement's key: its JSON (two alike requirements are one). */
export function requirementKey (r: Requirement): string {
  let k = keys.get(r)
  if (k == null) keys.set(r, k = JSON.stringify(r))
  return k
}

/** The distinct requirements of the tasks, in the order they first appear. */
export function requirementsOf (ids: readonly string[], requirement: (id: string) => Requirement): Requirement[] {
  const out = new Map<string, Requirement>()
  let last: Requirement | undefined
  for (const id of ids) {
    const r = requirement(id)
    // a job's tasks share few requirement objects: most are the last one's
    if (r === last) continue
    last = r
    const k = requirementKey(r)
    if (!out.has(k)) out.set(k, r)
  }
  return [...out.values()]
}

/** Whether some offer meets each requirement (the question admission answers; its refusal says what is missing). */
export function everyMet (requirements: readonly Requirement[], offers: readonly Offer[]): boolean {
  let left = requirements
  for (const o of offers) {
    if (left.length === 0) break
    left = left.filter(r => !satisfies(o.caps, r))
  }
  return left.length === 0
}
