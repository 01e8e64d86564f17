import { satisfies } from '../requirements/requirement.js'
import { lowBattery } from '../scheduler/ect.js'
import type { SimPeer } from './peers.js'
import type { SimTask } from './workload.js'

export interface Bounds {
  /** max(workBound, criticalPath, map work bound + longest reduce). */
  lowerBoundMs: number
  /** Earliest time the room's integrated speed (joins and leaves included) covers the total work. */
  workBoundMs: number
  /** The longest map (its longest item when maps can be split) plus the longest reduce, each on the fastest peer. */
  criticalPathMs: number
}

/**
 * Lower bounds on the makespan, ignoring transfers and round trips: no
 * schedule can beat them, whatever it knows.
 */
export function lowerBound (peers: readonly SimPeer[], job: { map: readonly SimTask[], reduce: readonly SimTask[] }, opts: { resumable?: boolean, splittable?: boolean } = {}): Bounds {
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
  // a map split at its items runs no piece shorter than one item
  const longestMap = opts.splittable === true ? job.map.reduce((a, t) => Math.max(a, t.workMs / Math.max(1, t.items ?? 1)), 0) : longest(job.map)
  const criticalPathMs = (longestMap + longest(job.reduce)) / fastest
  // the longest reduce starts after the last map, so no sooner than the
  // map work can be covered (`mapEnd`), on a peer that fits it, is there
  // then (or joins later) and stays until it ends: a peer gone before the
  // maps could end cannot run it (the fastest of all peers ever did made
  // the bound looser than any schedule could reach)
  const mapEnd = coverTime(mapWork)
  let phased = mapEnd
  if (job.reduce.length > 0) {
    const big = job.reduce.reduce((a, t) => (t.workMs > a.workMs ? t : a))
    let end = Infinity
    for (const p of peers) {
      if (!satisfies(p.caps, big.requirement)) continue
      const e = Math.max(mapEnd, p.joinAt) + big.workMs / p.speed
      if ((opts.resumable === true ? mapEnd < p.leaveAt : e <= p.leaveAt) && e < end) end = e
    }
    phased = Number.isFinite(end) ? end : mapEnd + big.workMs / fastest
  }
  return { lowerBoundMs: Math.max(workBoundMs, criticalPathMs, phased), workBoundMs, criticalPathMs }
}

/**
 * The peers a schedule that keeps the room's battery policy may use: a
 * device below `batteryThreshold` and not charging takes work only when no
 * other worker fits (src/core/scheduler/ect.ts, the reserve). When, for
 * every function of the job, a fitting peer off battery is in the room
 * from the start to the end, no such schedule ever uses a reserve device:
 * its speed is not on offer, and bounds and reference schedules leave it
 * out. Otherwise every peer counts (a bound over more peers stays a bound).
 */
export function policyPeers (peers: readonly SimPeer[], job: { map: readonly SimTask[], reduce: readonly SimTask[] }, batteryThreshold: number): readonly SimPeer[] {
  const always = peers.filter(p => p.joinAt === 0 && p.leaveAt === Infinity && !lowBattery(p.caps, batteryThreshold))
  const reqs = new Set([...job.map, ...job.reduce].map(t => t.requirement))
  for (const r of reqs) if (!always.some(p => satisfies(p.caps, r))) return peers
  return peers.filter(p => !lowBattery(p.caps, batteryThreshold))
}
