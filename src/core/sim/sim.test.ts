import { describe, expect, it } from 'vitest'
import { satisfies } from '../requirements/requirement.js'
import { EventQueue } from './event-queue.js'
import { PROFILES, drawPeer } from './peers.js'
import { Rng } from './prng.js'
import { lowerBound, policyPeers } from './bounds.js'
import { oracleMakespan } from './oracle.js'
import { simulate } from './simulator.js'
import { DEFAULT_WORKLOAD, makeJob } from './workload.js'
import type { SimPeer } from './peers.js'
import type { SimConfig, SimResult } from './simulator.js'
import type { SimCopy } from './world.js'
import type { SimTask } from './workload.js'

/** A small room and job: every test here runs in well under a second. */
const small: SimConfig = { seed: 7, peers: 40, tasks: 300, churn: 0, stragglers: 0 }

describe('sim building blocks', () => {
  it('the PRNG is seeded and the event queue is stable on ties', () => {
    const a = new Rng(1); const b = new Rng(1)
    expect([a.next(), a.next()]).toEqual([b.next(), b.next()])
    const q = new EventQueue<{ t: number, n: number }>()
    for (const [t, n] of [[2, 1], [1, 2], [2, 3], [0, 4], [1, 5]]) q.push({ t, n })
    expect(Array.from({ length: 5 }, () => q.pop()?.n)).toEqual([4, 2, 5, 1, 3])
  })
})

describe('sim workload and queue', () => {
  it('draws sizes whose work follows the input bytes, or all alike with σ 0', () => {
    const { map } = makeJob(new Rng(2), { ...DEFAULT_WORKLOAD, onnxShare: 0, tasks: 2000, reducers: 0 })
    const ratio = map.map(t => t.workMs / (t.inputBytes?.[0] ?? 1))
    const mean = ratio.reduce((a, b) => a + b) / ratio.length
    // bytes explain most of the dispersion: work per byte varies far less than work
    const sd = (xs: number[]): number => { const m = xs.reduce((a, b) => a + b) / xs.length; return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length) / m }
    expect(sd(ratio)).toBeLessThan(sd(map.map(t => t.workMs)) * 0.6)
    expect(mean).toBeGreaterThan(0)
    const flat = makeJob(new Rng(2), { ...DEFAULT_WORKLOAD, onnxShare: 0, sizeSigma: 0, tasks: 50, reducers: 5 })
    expect(new Set([...flat.map, ...flat.reduce].map(t => `${t.phase}:${t.workMs}:${t.inputBytes?.[0] ?? 0}`)).size).toBe(2)
  })

  it('a map over a larger chunk holds more items: the size a batch task shows the policy', () => {
    const { map } = makeJob(new Rng(3), { ...DEFAULT_WORKLOAD, onnxShare: 0, tasks: 200, reducers: 0 })
    const big = map.reduce((a, t) => ((t.inputBytes?.[0] ?? 0) > (a.inputBytes?.[0] ?? 0) ? t : a))
    const little = map.reduce((a, t) => ((t.inputBytes?.[0] ?? 0) < (a.inputBytes?.[0] ?? 0) ? t : a))
    expect(big.items).toBeGreaterThan(little.items as number)
    expect(makeJob(new Rng(3), { ...DEFAULT_WORKLOAD, tasks: 5, reducers: 0, mapItems: 0 }).map.every(t => t.items == null)).toBe(true)
  })
})

describe('simulate (small, fixed seed)', () => {
  it('completes every task exactly once, never on a peer that fails its requirement', () => {
    for (const scheduler of ['ect', 'least-loaded'] as const) {
      const seen: string[] = []
      const r = simulate({ ...small, scheduler, onDispatch: c => { if (!satisfies(c.peer.caps, c.task.requirement)) seen.push(c.key) } })
      expect(seen).toEqual([])
      expect(r.violations).toBe(0)
      expect(r.completed).toBe(r.tasks)
      expect(r.results.size).toBe(r.tasks)
      expect(r.makespanMs).toBeGreaterThanOrEqual(r.lowerBoundMs)
    }
  })

  it('is deterministic: same seed, same run', () => {
    const a = simulate({ ...small, churn: 0.2 })
    const b = simulate({ ...small, churn: 0.2 })
    expect(a.makespanMs).toBe(b.makespanMs)
    expect([...a.results]).toEqual([...b.results])
  })

  it('re-executes the tasks of peers that leave, and still completes each once', () => {
    const r = simulate({ ...small, churn: 0.3, backups: true })
    expect(r.peersLeft).toBeGreaterThan(0)
    expect(r.peersJoined).toBeGreaterThan(0)
    expect(r.reExecuted).toBeGreaterThan(0)
    expect(r.completed).toBe(r.tasks)
    expect(r.results.size).toBe(r.tasks)
  })

  it('copies the tasks of suspect workers, and still completes each once', () => {
    const r = simulate({ ...small, churn: 0.3, stragglers: 0.05, backups: true })
    expect(r.backupsLaunched).toBeGreaterThan(0)
    expect(r.completed).toBe(r.tasks)
    expect(r.results.size).toBe(r.tasks)
    expect(r.violations).toBe(0)
  })

  it('moves waiting copies to workers that free up (late binding), only when asked, and still completes each once', () => {
    const on = simulate({ ...small, churn: 0.2, backups: true, lateBinding: true })
    expect(on.steals).toBeGreaterThan(0)
    expect(on.completed).toBe(on.tasks)
    expect(on.violations).toBe(0)
    expect(simulate({ ...small, churn: 0.2, backups: true }).steals).toBe(0)
  })

  it('resumes a lost task from its last progress report when tasks are resumable, and still completes each once', () => {
    const on = simulate({ ...small, churn: 0.3, backups: true, progressMs: 500, resumable: true })
    expect(on.keptWorkMs).toBeGreaterThan(0)
    expect(on.completed).toBe(on.tasks)
    // workers that send no items with their reports: a lost run keeps nothing
    expect(simulate({ ...small, churn: 0.3, backups: true, progressMs: 500, resumable: false }).keptWorkMs).toBe(0)
    // only tasks over items resume: indivisible ones run again whole
    expect(simulate({ ...small, churn: 0.3, backups: true, progressMs: 500, workload: { mapItems: 0 } }).keptWorkMs).toBe(0)
  })

  // two laptops, eight maps of 32 items; the second leaves without a word
  const pair = (leaveAt: number, n = 2): SimPeer[] => {
    const rng = new Rng(5)
    const none = { stragglers: 0, stragglerSlowdown: 1, liars: 0 }
    const peers = Array.from({ length: n }, (_, i) => drawPeer(rng, i, none, PROFILES[1]))
    peers[0].self = true
    peers[1].leaveAt = leaveAt
    peers[1].cleanLeave = false
    return peers
  }
  const pairJob: SimConfig = { seed: 5, peers: 2, tasks: 8, reducers: 0, backups: true, jitter: 0, workload: { onnxShare: 0, sizeSigma: 0 } }

  it('starts a copy of a batch task at the first item its copies have not reported (as the runner\'s firstMissing)', () => {
    const full: number[] = []
    // (no splits: every run of the second laptop is a whole map)
    simulate({ ...pairJob, split: false, peerList: pair(Infinity), onRun: (c, end, o) => { if (c.peer.idx === 1 && o === 'finished') full.push(end - c.startedAt) } })
    const mapMs = Math.min(...full)
    // the second laptop leaves just before its maps end: no item it
    // reported runs again, and the job ends soon after
    const reported = new Map<string, number>()
    const later: SimCopy[] = []
    const r = simulate({
      ...pairJob,
      peerList: pair(mapMs - 20),
      onRun: (c, _end, o) => { if (o === 'lost') reported.set(c.task.id, c.reported) },
      onDispatch: c => { if (c.sentAt > mapMs) later.push(c) }
    })
    expect(r.completed).toBe(r.tasks)
    expect(reported.size).toBeGreaterThanOrEqual(2)
    for (const n of reported.values()) expect(n).toBeGreaterThan(16)
    for (const c of later) expect(c.from).toBeGreaterThanOrEqual(reported.get(c.task.id) ?? 0)
    expect(r.makespanMs).toBeLessThan(1.7 * mapMs)
  })

  it('cuts a batch task whose start report is overdue: a worker gone before starting it keeps one item, the rest runs elsewhere', () => {
    // the second of four leaves before its first tasks reach it: they are
    // cut long before the registry drops it (6 s)
    const room: SimConfig = { ...pairJob, peers: 4, tasks: 12 }
    const r = simulate({ ...room, peerList: pair(1, 4) })
    expect(r.completed).toBe(r.tasks)
    expect(r.quietCuts).toBeGreaterThan(0)
    expect(r.makespanMs).toBeLessThan(6000)
  })

  /**
   * A piece is a task of its own (`m7~12`: items 12 on of m7): the copies
   * sent of a map's pieces cover each of its items, and every map is done
   * once.
   */
  const expectEveryItemCovered = (r: SimResult, sent: readonly SimCopy[]): void => {
    const covered = new Map<string, Set<number>>()
    for (const c of sent) {
      if (!c.batch) continue
      let s = covered.get(c.task.id)
      if (s == null) covered.set(c.task.id, s = new Set())
      for (let i = c.from; i < c.to; i++) s.add(i)
    }
    for (const [id, s] of covered) {
      expect(r.results.has(id)).toBe(true)
      expect(s.size).toBe(r.peers.length > 0 ? (sent.find(c => c.task.id === id)?.task.items ?? 0) : 0)
    }
  }

  it('spreads a waiting batch task over idle workers as it is placed in the tail, every map done once', () => {
    const sent: SimCopy[] = []
    const cfg: SimConfig = { ...small, churn: 0.2, backups: true, stragglers: 0.05 }
    const on = simulate({ ...cfg, onDispatch: c => { sent.push(c) } })
    expect(on.spreads).toBeGreaterThan(0)
    expect(on.completed).toBe(on.tasks)
    expectEveryItemCovered(on, sent)
    // spreads are part of splitting
    expect(simulate({ ...cfg, split: false }).spreads).toBe(0)
  })

  it('splits the running maps of the tail at item boundaries: every map done once, a shorter tail', () => {
    const sent: SimCopy[] = []
    const cfg: SimConfig = { ...small, churn: 0.2, backups: true, stragglers: 0.05 }
    const on = simulate({ ...cfg, split: true, onDispatch: c => { sent.push(c) } })
    expect(on.splits).toBeGreaterThan(0)
    expect(on.completed).toBe(on.tasks)
    expect(on.violations).toBe(0)
    expectEveryItemCovered(on, sent)
    const off = simulate({ ...cfg, split: false })
    expect(off.splits).toBe(0)
    expect(on.makespanMs).toBeLessThan(off.makespanMs)
  })

  it('catches a liar with quorum 2, and keeps no wrong result', () => {
    const r = simulate({ ...small, tasks: 120, quorum: 2, liars: 0.1 })
    expect(r.liars).toBeGreaterThan(0)
    expect(r.liarsCaught).toBeGreaterThan(0)
    expect(r.liarsCaught).toBeLessThanOrEqual(r.liars)
    expect(r.wrongAccepted).toBe(0)
    expect(r.completed).toBe(r.tasks)
    for (const [id, x] of r.results) expect(x.digest).toBe(`ok:${id}`)
    // with quorum 1 the same liars go unnoticed
    expect(simulate({ ...small, tasks: 120, liars: 0.1 }).wrongAccepted).toBeGreaterThan(0)
  })

  it('backups shorten the tail behind one straggler', () => {
    const rng = new Rng(3)
    const draw = { stragglers: 0, stragglerSlowdown: 1, liars: 0 }
    const peers: SimPeer[] = Array.from({ length: 6 }, (_, i) => drawPeer(rng, i, draw, PROFILES[1]))
    peers[0].self = true
    peers[5].speed /= 20
    peers[5].straggler = true
    // indivisible tasks: a batch task's tail is cut, not copied
    const base: SimConfig = { seed: 3, peers: 6, tasks: 120, reducers: 0, peerList: peers, workload: { mapItems: 0 } }
    const off = simulate({ ...base, peerList: peers.map(p => ({ ...p })), backups: false })
    const on = simulate({ ...base, peerList: peers.map(p => ({ ...p })), backups: true })
    expect(on.backupsLaunched).toBeGreaterThan(0)
    expect(on.backupsWon).toBeGreaterThan(0)
    expect(on.completed).toBe(on.tasks)
    expect(on.makespanMs).toBeLessThan(off.makespanMs * 0.6)
  })

  it('a peer slowed mid-job takes longer, its tasks included', () => {
    const rng = new Rng(4)
    const draw = { stragglers: 0, stragglerSlowdown: 1, liars: 0 }
    const peers: SimPeer[] = Array.from({ length: 3 }, (_, i) => drawPeer(rng, i, draw, PROFILES[1]))
    const base: SimConfig = { seed: 4, peers: 3, tasks: 60, reducers: 0, backups: false, jitter: 0, workload: { onnxShare: 0, sizeSigma: 0 } }
    const calm = simulate({ ...base, peerList: peers.map(p => ({ ...p })) })
    const slowed = simulate({ ...base, peerList: peers.map((p, i) => i === 2 ? { ...p, slowAt: calm.makespanMs / 3, slowFactor: 10 } : { ...p }) })
    expect(slowed.completed).toBe(60)
    expect(slowed.makespanMs).toBeGreaterThan(calm.makespanMs * 1.1)
  })

  it('ECT gives a microcontroller only its exploration probe (one task to learn its speed); least-loaded keeps it full', () => {
    const perMcu = (scheduler: 'ect' | 'least-loaded'): number[] => {
      const n = new Map<string, number>()
      simulate({ ...small, scheduler, onDispatch: c => { if (c.peer.profile === 'mcu') n.set(c.peer.id, (n.get(c.peer.id) ?? 0) + 1) } })
      return [...n.values()]
    }
    const ect = perMcu('ect')
    const ll = perMcu('least-loaded')
    for (const n of ect) expect(n).toBe(1)
    expect(ll.reduce((a, b) => a + b, 0)).toBeGreaterThan(ect.reduce((a, b) => a + b, 0))
  })
})

describe('oracle (clairvoyant reference schedule)', () => {
  const room = (leaveFast = Infinity): SimPeer[] => {
    const rng = new Rng(3)
    const draw = { stragglers: 0, stragglerSlowdown: 1, liars: 0 }
    const slow = drawPeer(rng, 0, draw, PROFILES[2])
    const fast = drawPeer(rng, 1, draw, PROFILES[2])
    slow.caps = { ...slow.caps, slots: 1 }
    fast.caps = { ...fast.caps, slots: 1 }
    slow.speed = 1
    fast.speed = 2
    fast.leaveAt = leaveFast
    return [slow, fast]
  }
  const job = (): { map: SimTask[], reduce: SimTask[] } => {
    const { map } = makeJob(new Rng(1), { ...DEFAULT_WORKLOAD, onnxShare: 0, sizeSigma: 0, tasks: 3, reducers: 0 })
    map.forEach((t, i) => { t.workMs = [4, 2, 2][i] })
    return { map, reduce: [] }
  }

  it('places largest first where each task ends soonest', () => {
    // 4 → fast (ends 2); 2 → slow (2, fast would end 3); 2 → fast (3, slow would end 4)
    expect(oracleMakespan(room(), job())).toBe(3)
  })

  it('never runs a task on a peer that leaves before it ends', () => {
    // fast leaves at 1.5: 4 → slow (4); 2 → fast (1); the last 2 would end at 2 there → slow (6)
    expect(oracleMakespan(room(1.5), job())).toBe(6)
  })

  it('bounds the reduce by the fastest peer still there after the maps', () => {
    // maps: 8 units of work on speeds 1 + 2 → covered at 8/3; one reduce of 6
    const peers = room()
    const { map, reduce } = makeJob(new Rng(1), { ...DEFAULT_WORKLOAD, onnxShare: 0, sizeSigma: 0, tasks: 4, reducers: 1 })
    map.forEach((t, i) => { t.workMs = [4, 2, 2][i] })
    reduce[0].workMs = 6
    const withFast = lowerBound(peers, { map, reduce })
    expect(withFast.lowerBoundMs).toBeCloseTo(8 / 3 + 3)
    // the fast peer leaves at 4, before a reduce started at 8/3 could end there
    // (8/3 + 3): only the slow one can run it
    peers[1].leaveAt = 4
    // capacity: 1 + 2 until 4 covers 8 at 8/3 still
    expect(lowerBound(peers, { map, reduce }).lowerBoundMs).toBeCloseTo(8 / 3 + 6)
    // resumable, it may start on the fast peer and end on the slow one: the
    // reduce term is back to 8/3 + 3, and the work (14 units: 12 by 4, then
    // speed 1) binds at 6
    const pieces = lowerBound(peers, { map, reduce }, { resumable: true })
    expect(pieces.lowerBoundMs).toBeCloseTo(6)
    expect(pieces.workBoundMs).toBeCloseTo(6)
  })

  it('leaves out of the bound the devices the battery policy holds in reserve, while others fit', () => {
    // two desktops, one of them on a low battery and not charging: the
    // other fits every function and stays, so the policy never lets the
    // low one work and its speed is not counted
    const peers = room()
    const { map } = job()
    peers[1].caps = { ...peers[1].caps, battery: { level: 0.1, charging: false } }
    expect(policyPeers(peers, { map, reduce: [] }, 0.2)).toEqual([peers[0]])
    expect(lowerBound(policyPeers(peers, { map, reduce: [] }, 0.2), { map, reduce: [] }).workBoundMs).toBeCloseTo(8)
    // the one off battery leaves: nobody fits for the whole job, every peer counts
    peers[0].leaveAt = 5
    expect(policyPeers(peers, { map, reduce: [] }, 0.2)).toEqual(peers)
  })

  it('is never below the lower bound, under churn too', () => {
    const r = simulate({ ...small, churn: 0.2, backups: true, oracle: true })
    expect(r.oracleMs).toBeGreaterThanOrEqual(r.lowerBoundMs)
    expect(r.oracleMs).toBeLessThan(Infinity)
  })
})
