import { satisfies } from '../requirements/requirement.js'
import { EctPlacer, lowBattery } from './ect.js'
import { TaskTimeEstimator } from './estimates.js'
import { POLICY } from './policy-config.js'
import type { EctInit } from './ect.js'
import type { ApplicationScheduler, Offer, PendingTask, Placement } from './types.js'

/** True when the worker holds every input of the task (by its offer's cache summary). */
function holds (o: Offer, t: PendingTask): boolean {
  return t.inputCids.length > 0 && t.inputCids.every(c => o.cached.has(c))
}

/** Sorts in place, largest first, keeping the given order among equals. */
export function sortBySizeDesc<T> (xs: T[], size: (x: T) => number): T[] {
  // given largest first already (the job policy sorts what it passes): nothing to do
  let prev = Infinity
  let sorted = true
  for (let i = 0; i < xs.length && sorted; i++) {
    const s = size(xs[i])
    sorted = s <= prev
    prev = s
  }
  if (sorted) return xs
  const keyed = xs.map((x, i) => ({ x, i, s: size(x) }))
  keyed.sort((a, b) => b.s - a.s || a.i - b.i)
  for (let i = 0; i < xs.length; i++) xs[i] = keyed[i].x
  return xs
}

const reqKeys = new WeakMap<PendingTask['requirement'], string>()
/** A task's class: its function and requirement (requirements alike by their JSON). */
function classKey (t: PendingTask): string {
  let k = reqKeys.get(t.requirement)
  if (k == null) reqKeys.set(t.requirement, k = JSON.stringify(t.requirement))
  return `${t.functionCid}\u0000${k}`
}

/**
 * ECT behind the ApplicationScheduler interface. Each call syncs one kept
 * placer to the offers (`EctPlacer.syncWorkers`: what a new placer would
 * hold, for O(P) plus what changed, not O(P log P)); what it learns lives
 * in the shared estimator, which the runner feeds with
 * `estimator.observe(...)` after each result.
 */
export function ectScheduler (init: EctInit = {}): ApplicationScheduler & { readonly estimator: TaskTimeEstimator } {
  const estimator = init.estimator ?? new TaskTimeEstimator()
  let kept: EctPlacer | undefined
  return {
    name: 'ect',
    estimator,
    place (pending: readonly PendingTask[], offers: readonly Offer[]): Placement[] {
      // one placer for every call, synced to the offers: as a new one would
      // be, at the cost of what changed since the last call
      const placer = kept ??= new EctPlacer({ ...init, estimator })
      placer.syncWorkers(offers.map(o => ({
        id: o.workerId, caps: o.caps, rttMs: o.rttMs, bandwidthBps: o.bandwidthBps,
        // this job's tasks in flight there; the load a worker reports on its
        // beat lags by up to a beat and made free workers look full
        cached: o.cached, load: o.inFlight
      })))
      // by class, the most constrained class first
      const classes = new Map<string, PendingTask[]>()
      for (const t of pending) {
        const key = classKey(t)
        const list = classes.get(key)
        if (list == null) classes.set(key, [t])
        else list.push(t)
      }
      // each class largest first (LPT): a big task started last sets the makespan
      for (const ts of classes.values()) sortBySizeDesc(ts, t => placer.scaleOf(t))
      const order = placer.classOrder([...classes.values()].map(ts => ({ ts, task: ts[0], backlog: ts.length })))
      const out: Placement[] = []
      // exploration: an idle worker never measured gets one task first, or
      // its speed stays unknown and a pessimistic prior keeps it idle
      // forever; the smallest that fits, so that it reports soon (a hidden
      // straggler shows before it holds a big task)
      const explored = new Set<string>()
      const offerOf = new Map(offers.map(o => [o.workerId, o]))
      // a class's tasks share one requirement; per class, the last task not
      // explored yet (explored ones are skipped for good), and where each
      // first input is wanted: a probe costs O(its cache), not O(tasks)
      const probes = order.map(({ ts }) => ({ ts, last: ts.length - 1, byFirst: undefined as Map<string, number[]> | undefined, drain: undefined as number | undefined }))
      for (const o of offers) {
        if (o.inFlight > 0 || estimator.measured(o.workerId) || lowBattery(o.caps, init.batteryThreshold ?? POLICY.batteryThreshold)) continue
        for (const c of probes) {
          const { ts } = c
          if (ts.length === 0 || !satisfies(o.caps, ts[0].requirement)) continue
          // one whose inputs it holds starts without a download (the last such, as `findLast` would pick)
          if (c.byFirst == null) {
            c.byFirst = new Map()
            ts.forEach((x, i) => {
              const cid = x.inputCids[0]
              if (cid == null) return
              const at = c.byFirst?.get(cid)
              if (at == null) c.byFirst?.set(cid, [i])
              else at.push(i)
            })
          }
          let held = -1
          for (const cid of o.cached) {
            const at = c.byFirst.get(cid)
            if (at == null) continue
            for (let k = at.length - 1; k >= 0 && at[k] > held; k--) {
              const x = ts[at[k]]
              if (!explored.has(x.id) && holds(o, x)) { held = at[k]; break }
            }
          }
          while (c.last >= 0 && explored.has(ts[c.last].id)) c.last--
          const t = held >= 0 ? ts[held] : c.last >= 0 ? ts[c.last] : undefined
          if (t == null) continue
          // no probe a worker would compute, by its prior, only long after
          // the class drains (and after a few reference cores would): it
          // would hold a piece of the tail (microcontrollers' probes held a
          // 1,000-peer job's last maps); the delay rule keeps such a worker
          // out of placement anyway. Compute only: an unmeasured link's
          // guessed cost (`unknownLinkMs`) would refuse every probe of a
          // short job to a tab, which is how the room learns its speed
          if (c.drain == null) {
            let backlog = 0
            for (const x of ts) backlog += placer.scaleOf(x)
            c.drain = placer.drainMs(ts[0], backlog)
          }
          const computeMs = placer.ectParts(o.workerId, t)?.computeMs ?? Infinity
          if (computeMs > POLICY.probeSlack * Math.max(c.drain, estimator.workMs(t.functionCid) * placer.scaleOf(t))) continue
          explored.add(t.id)
          placer.assigned(o.workerId, t)
          out.push({ taskId: t.id, workerId: o.workerId })
          break
        }
      }
      for (const { ts } of order) {
        const rest = ts.filter(t => !explored.has(t.id))
        // the backlog in reference tasks: each task priced by its size
        let backlog = 0
        for (const t of rest) backlog += placer.scaleOf(t)
        // where each input is wanted: a slow worker takes a task whose input it holds (built when one first asks)
        let wanted: Map<string, number[]> | undefined
        const byInput = (): Map<string, number[]> => {
          if (wanted != null) return wanted
          wanted = new Map()
          rest.forEach((t, i) => { for (const c of t.inputCids) { const at = wanted?.get(c); if (at == null) wanted?.set(c, [i]); else at.push(i) } })
          return wanted
        }
        const taken = new Set<number>()
        let lo = 0
        let hi = rest.length - 1
        while (lo <= hi) {
          const w = placer.place(rest[lo], { backlog })
          if (w == null) break
          // size matching: a slow worker takes the smallest task, leaving
          // the big ones to faster workers (one class, one requirement);
          // of the small ones, one whose input it already holds (no
          // download first: a phone fetching a chunk idles)
          let i = lo
          if (placer.relativeSpeed(w) < POLICY.slowShare) {
            i = hi
            const o = offerOf.get(w)
            if (o != null && byInput().size > 0) {
              let best = -1
              for (const c of o.cached) for (const j of byInput().get(c) ?? []) if (j > best && j >= lo && j <= hi && !taken.has(j) && holds(o, rest[j])) best = j
              // while the room is far from draining the queue: in the tail, the smallest of all
              if (best >= 0 && placer.ect(w, rest[best]) <= placer.drainMs(rest[lo], backlog)) i = best
            }
          }
          const t = rest[i]
          taken.add(i)
          while (lo <= hi && taken.has(lo)) lo++
          while (hi >= lo && taken.has(hi)) hi--
          backlog -= placer.scaleOf(t)
          placer.assigned(w, t)
          out.push({ taskId: t.id, workerId: w })
        }
      }
      return out
    }
  }
}
