import { POLICY } from './policy-config.js'

/**
 * Splitting a running task (SkewTune's answer to a long tail, as a pure
 * policy). A task over a batch of items (frames of a clip, rows of tiles,
 * records of a chunk) can be cut while it runs: its worker is told to stop
 * at an item boundary and hand back what it did, and the items after that
 * go to an idle worker as a task of their own. A backup copy runs the whole
 * task again; a split shares what is left, so it also pays when the worker
 * is not slow but the task is simply the last and the largest.
 */

export interface SplitCandidate {
  taskId: string
  /** Items of the task not yet done by its worker (by its last report). */
  itemsLeft: number
  /** When its worker will have done them, by its measured rate, ms from now. */
  remainingMs: number
}

export interface SplitHelper {
  workerId: string
  /** Until the helper could start a piece (round trip, fetch, queue), ms from now. */
  startMs: number
  /** Its time for all of `itemsLeft` once started, ms. */
  allMs: number
}

export interface SplitPlan {
  taskId: string
  workerId: string
  /** Items, counted from the end of the task, that go to the helper. */
  items: number
  /** When the worker and the helper are then both expected to be done, ms from now. */
  endMs: number
  /** Time saved on the task's end, ms. */
  gainMs: number
}

export interface SplitPolicy {
  /** A split must end the task at least this much sooner, ms (it costs a round trip and a fetch). */
  minGainMs?: number
  /** Most splits per call. */
  maxPerRound?: number
  /** A task that would end within this of now is left alone, ms. */
  minRemainingMs?: number
}

/**
 * How many of the items left a helper should take so that both end
 * together: the worker keeps `1 - s` of what is left (`remainingMs ×
 * (1 - s)`), the helper starts after `startMs` and runs `s × allMs`.
 * Undefined when no whole item moves or the split gains less than
 * `minGainMs`.
 */
export function splitShare (c: SplitCandidate, h: SplitHelper, minGainMs = 0): SplitPlan | undefined {
  if (c.itemsLeft < 2 || !(c.remainingMs > h.startMs)) return undefined
  const s = (c.remainingMs - h.startMs) / (c.remainingMs + h.allMs)
  // whole items only, and the worker keeps at least one (the one it is on)
  const items = Math.min(c.itemsLeft - 1, Math.floor(s * c.itemsLeft))
  if (items < 1) return undefined
  const share = items / c.itemsLeft
  const endMs = Math.max(c.remainingMs * (1 - share), h.startMs + share * h.allMs)
  const gainMs = c.remainingMs - endMs
  if (gainMs <= minGainMs) return undefined
  return { taskId: c.taskId, workerId: h.workerId, items, endMs, gainMs }
}

/** Where a piece of the task (its items left) would run: an idle worker that fits, and its terms; undefined when none. */
export type FindHelper = (c: SplitCandidate) => SplitHelper | undefined

/**
 * Call when workers idle and nothing waits for them. The tasks expected to
 * end last are split first; `launch`, when given, is called for each split
 * as it is chosen (so the next `find` sees the helper busy). A task is
 * split once per call; the next call may split a piece again, so a long
 * task spreads over a growing number of workers without one call paying
 * for all of them.
 */
export function chooseSplits (candidates: readonly SplitCandidate[], find: FindHelper, policy: SplitPolicy = {}, launch?: (p: SplitPlan) => void): SplitPlan[] {
  const minGain = policy.minGainMs ?? 0
  const maxPerRound = policy.maxPerRound ?? 64
  const minRemaining = policy.minRemainingMs ?? 0
  const order = candidates
    .filter(c => c.itemsLeft >= 2 && c.remainingMs > minRemaining)
    .sort((a, b) => b.remainingMs - a.remainingMs || (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0))
  const out: SplitPlan[] = []
  let misses = 0
  for (const c of order) {
    if (out.length >= maxPerRound || misses >= POLICY.copyMissesPerCall) break
    const h = find(c)
    const plan = h == null ? undefined : splitShare(c, h, minGain)
    if (plan == null) { misses++; continue }
    out.push(plan)
    launch?.(plan)
  }
  return out
}

/** A worker that could take some of a waiting task's items, and its terms. */
export interface SpreadSlot {
  workerId: string
  /** Until it could start on them (round trip, fetch, queue), ms from now. */
  startMs: number
  /** Its time per item once started, ms. */
  itemMs: number
}

export interface SpreadPlan {
  /** Items per slot, in the order the slots were given (0: the slot takes none). */
  items: number[]
  /** When the last of them is expected to end, ms from now. */
  endMs: number
}

/**
 * Spreads the `items` of a task not yet started over `slots` so that its
 * last item ends soonest: each item in turn goes where it would end first
 * (water-filling; optimal for items alike in cost). In a tail with idle
 * workers to spare, a task placed whole runs its items one after another
 * on one of them while the others wait; the splits of a running task
 * (`chooseSplits`) then halve it once a round, and a 32-item remainder
 * cut from a silent worker a second before the end took five rounds to
 * spread.
 */
export function spreadItems (items: number, slots: readonly SpreadSlot[]): SpreadPlan {
  const counts = slots.map(() => 0)
  let endMs = 0
  for (let i = 0; i < items; i++) {
    let best = -1
    let bestEnd = Infinity
    slots.forEach((s, j) => {
      const e = s.startMs + (counts[j] + 1) * s.itemMs
      if (e < bestEnd) { bestEnd = e; best = j }
    })
    if (best < 0) break
    counts[best]++
    endMs = Math.max(endMs, bestEnd)
  }
  return { items: counts, endMs }
}

/**
 * The spread of a waiting task worth making: `spreadItems` over its worker
 * (`slots[0]`) and the helpers after it, when that ends the task at least
 * `POLICY.spreadMinGainMs` sooner than its worker alone would; `first` is the
 * slot that keeps the first items (the others take pieces of the last).
 * Undefined: send it whole.
 */
export function chooseSpread (items: number, slots: readonly SpreadSlot[]): (SpreadPlan & { first: number }) | undefined {
  if (slots.length < 2) return undefined
  const plan = spreadItems(items, slots)
  const first = plan.items.findIndex(n => n > 0)
  if (first < 0 || plan.endMs > slots[0].startMs + items * slots[0].itemMs - POLICY.spreadMinGainMs) return undefined
  return { ...plan, first }
}
