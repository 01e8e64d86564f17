import type { SimPeer } from './peers.js'
import type { SimTask } from './workload.js'

export interface Bounds {
  /** max(workBound, criticalPath, map work bound + longest reduce). */
  lowerBoundMs: number
  /** Earliest time the room's integrated speed (joins and leaves included) covers the total work. */
  workBoundMs: number
  /** The longest map plus the longest reduce, each on the fastest peer. */
  criticalPathMs: number
}

/**
 * Lower bounds on the makespan, ignoring transfers and round trips: no
 * schedule can beat them, whatever it knows.
 */
export function lowerBound (peers: readonly SimPeer[], job: { map: readonly SimTask[], reduce: readonly SimTask[] }): Bounds {
  const changes: Array<[number, number]> = []
  let fastest = 0
  for (const p of peers) {
    const s = p.caps.slots * p.speed
    fastest = Math.max(fastest, p.speed)
    changes.push([p.joinAt, s])
    if (p.leaveAt < Infinity) changes.push([p.leaveAt, -s])
  }
  changes.sort((a, b) => a[0] - b[0])
  const coverTime = (work: number): number => {
    let t = 0
    let speed = 0
    let done = 0
    for (const [at, d] of changes) {
      if (speed > 0 && done + speed * (at - t) >= work) return t + (work - done) / speed
      done += speed * (at - t)
      t = at
      speed += d
    }
    return speed > 0 ? t + (work - done) / speed : Infinity
  }
  const sum = (ts: readonly SimTask[]): number => ts.reduce((a, t) => a + t.workMs, 0)
  const longest = (ts: readonly SimTask[]): number => ts.reduce((a, t) => Math.max(a, t.workMs), 0)
  const mapWork = sum(job.map)
  const workBoundMs = coverTime(mapWork + sum(job.reduce))
  const criticalPathMs = (longest(job.map) + longest(job.reduce)) / fastest
  const phased = coverTime(mapWork) + longest(job.reduce) / fastest
  return { lowerBoundMs: Math.max(workBoundMs, criticalPathMs, phased), workBoundMs, criticalPathMs }
}
