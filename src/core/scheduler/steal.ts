import { restoreFields, saveFields } from '../job/plain.js'
import type { Plain } from '../job/plain.js'
import { satisfies } from '../requirements/requirement.js'
import { POLICY } from './policy-config.js'
import type { Capabilities } from '../requirements/capabilities.js'
import type { Requirement } from '../requirements/requirement.js'

/**
 * Late binding by stealing. Workers are given a queue of tasks (a few per
 * slot) to hide the round trip and the input fetch; but a task bound to a
 * worker's queue early waits there even when another worker frees up long
 * before. At the end of a map phase that is the makespan: a 10,000-peer
 * simulated job (every size and speed known) had 1,700 desktop slots idle at
 * 12 s while tasks sat queued on laptops until 13.6 s, ending at 16.5 s
 * against a fluid bound of 11.8 s.
 *
 * So a worker with a free slot and nothing left for it in the pending queue
 * takes over a copy that is still *waiting* on another worker (not started:
 * moving it loses no compute), when it would finish it sooner by a margin.
 * The candidates are the waiting copies expected to end latest, per
 * requirement class (a thief only looks at classes it satisfies). The
 * caller moves the task: dispatches it to the thief and cancels the waiting
 * copy (a cancel that arrives after the copy started is harmless: the first
 * result wins, as for backups).
 *
 * Pure bookkeeping: entries are keyed by their expected end when added and
 * dropped lazily (the caller says which are still waiting).
 */
export interface StealOptions {
  /** Entries looked at per class, latest first (default `POLICY.lateBindingLook`). */
  look?: number
  /** A move must gain at least this, ms (default 0), and `minGainShare` of the thief's time. */
  minGainMs?: number
  /** A move must gain at least this share of the thief's own expected time (default `POLICY.lateBindingMinGainShare`): estimates are noisy. */
  minGainShare?: number
}

interface Entry<T> { item: T, key: number }

interface StealClass<T> {
  requirement: Requirement
  /** Max-heap on the expected end. */
  heap: Array<Entry<T>>
}

export interface StealPick<T> {
  item: T
  /** Expected end where it waits minus expected end on the thief, ms. */
  gainMs: number
}

export class StealIndex<T> {
  private readonly classes = new Map<string, StealClass<T>>()

  /** Entries held, stale ones included (they go when met). */
  get size (): number {
    let n = 0
    for (const c of this.classes.values()) n += c.heap.length
    return n
  }

  /** A copy was queued on a worker; `expectedEnd` when it is expected to finish there. */
  /** The index as plain data (src/core/job/plain.ts). */
  toState (): Plain {
    return saveFields(this, ['classes'])
  }

  static fromState<T> (state: Plain): StealIndex<T> {
    return restoreFields(new StealIndex<T>(), state)
  }

  add (classKey: string, requirement: Requirement, item: T, expectedEnd: number): void {
    let c = this.classes.get(classKey)
    if (c == null) this.classes.set(classKey, c = { requirement, heap: [] })
    push(c.heap, { item, key: expectedEnd })
  }

  /**
   * The waiting copy the thief would gain most on, or undefined. `waiting`
   * says whether an entry is still a waiting copy (not started, its task
   * still open); others are dropped for good. `endOn` is when the thief
   * would finish it (absolute, ms; undefined: not for this thief, e.g. it
   * waits on the thief itself), `endNow` when it is now expected to end
   * where it waits.
   */
  choose (thief: Capabilities, now: number, waiting: (item: T) => boolean, endOn: (item: T) => number | undefined, endNow: (item: T) => number, opts: StealOptions = {}): StealPick<T> | undefined {
    const look = opts.look ?? POLICY.lateBindingLook
    const minGain = opts.minGainMs ?? 0
    const share = opts.minGainShare ?? POLICY.lateBindingMinGainShare
    let best: StealPick<T> | undefined
    for (const c of this.classes.values()) {
      if (c.heap.length === 0 || !satisfies(thief, c.requirement)) continue
      const aside: Array<Entry<T>> = []
      while (c.heap.length > 0 && aside.length < look) {
        const e = c.heap[0]
        if (!waiting(e.item)) { pop(c.heap); continue }
        pop(c.heap)
        aside.push(e)
        const mine = endOn(e.item)
        if (mine == null) continue
        const gain = endNow(e.item) - mine
        if (gain > minGain && gain > share * (mine - now) && (best == null || gain > best.gainMs)) best = { item: e.item, gainMs: gain }
      }
      for (const e of aside) push(c.heap, e)
    }
    return best
  }
}

function push<T> (h: Array<Entry<T>>, e: Entry<T>): void {
  h.push(e)
  let i = h.length - 1
  while (i > 0) {
    const p = (i - 1) >> 1
    if (h[p].key >= h[i].key) break
    ;[h[p], h[i]] = [h[i], h[p]]
    i = p
  }
}

function pop<T> (h: Array<Entry<T>>): void {
  const last = h.pop() as Entry<T>
  if (h.length === 0) return
  h[0] = last
  let i = 0
  for (;;) {
    const l = 2 * i + 1
    const r = l + 1
    let m = i
    if (l < h.length && h[l].key > h[m].key) m = l
    if (r < h.length && h[r].key > h[m].key) m = r
    if (m === i) break
    ;[h[m], h[i]] = [h[i], h[m]]
    i = m
  }
}
