import { satisfies } from '../requirements/requirement.js'
import { IndexedMinHeap } from '../scheduler/indexed-heap.js'
import type { SimPeer } from './peers.js'
import type { SimTask } from './workload.js'

/**
 * A clairvoyant reference schedule: what a scheduler that knew every task's
 * true size, every peer's true speed and when each peer joins and leaves
 * could reach. Largest task first, each on the slot where it ends soonest
 * and before that slot's peer leaves; maps, then the reduce barrier, then
 * reduces. Transfers, round trips and run-to-run noise are left out (in its
 * favour). It is a schedule, so its makespan is achievable: the best
 * possible makespan lies between the lower bound and it. Where the bound is
 * far below it, the bound is what is loose (indivisible tasks), not the
 * scheduler under test.
 */
export function oracleMakespan (peers: readonly SimPeer[], job: { map: readonly SimTask[], reduce: readonly SimTask[] }): number {
  interface Slot { peer: SimPeer, freeAt: number }
  const slots: Slot[] = []
  for (const p of peers) {
    for (let i = 0; i < p.caps.slots; i++) slots.push({ peer: p, freeAt: p.joinAt })
  }
  // slots in bins of like speed and the same capabilities (all but the
  // battery, which no requirement reads), a heap by free time each: the
  // soonest end is the best of the bins' heads (within a bin, speeds differ
  // by under 5 %), and one peer of a bin answers for all whether it fits
  interface Bin { heap: IndexedMinHeap, sample: SimPeer }
  const bins = new Map<string, Bin>()
  const binOf: Bin[] = []
  slots.forEach((s, i) => {
    const key = `${Math.round(Math.log(s.peer.speed) / Math.log(1.05))}:${JSON.stringify({ ...s.peer.caps, battery: undefined })}`
    let b = bins.get(key)
    if (b == null) bins.set(key, b = { heap: new IndexedMinHeap(), sample: s.peer })
    b.heap.set(i, s.freeAt)
    binOf[i] = b
  })
  // the workload shares one requirement object per function
  const fitting = new Map<SimTask['requirement'], Bin[]>()
  const binsFor = (t: SimTask): Bin[] => {
    let fit = fitting.get(t.requirement)
    if (fit == null) fitting.set(t.requirement, fit = [...bins.values()].filter(b => satisfies(b.sample.caps, t.requirement)))
    return fit
  }
  const place = (tasks: readonly SimTask[], notBefore: number): number => {
    let end = notBefore
    const smallest = tasks.reduce((m, t) => Math.min(m, t.workMs), Infinity)
    for (const t of [...tasks].sort((a, b) => b.workMs - a.workMs)) {
      let best = -1
      let bestEnd = Infinity
      for (const b of binsFor(t)) {
        // a head that would leave before this task ends is set aside for
        // the smaller tasks after it, or dropped when even the smallest
        // would not fit before it leaves
        const aside: number[] = []
        while (b.heap.size > 0 && aside.length < 64) {
          const i = b.heap.peek()
          const { peer, freeAt } = slots[i]
          const from = Math.max(freeAt, notBefore)
          const e = from + t.workMs / peer.speed
          if (e <= peer.leaveAt) {
            if (e < bestEnd) { bestEnd = e; best = i }
            break
          }
          b.heap.delete(i)
          if (from + smallest / peer.speed <= peer.leaveAt) aside.push(i)
        }
        for (const i of aside) b.heap.set(i, slots[i].freeAt)
      }
      if (best < 0) return Infinity
      slots[best].freeAt = bestEnd
      binOf[best].heap.set(best, bestEnd)
      end = Math.max(end, bestEnd)
    }
    return end
  }
  const mapEnd = place(job.map, 0)
  return job.reduce.length > 0 ? place(job.reduce, mapEnd) : mapEnd
}
