import { describe, expect, it } from 'vitest'
import { satisfies } from '../requirements/requirement.js'
import { EventQueue } from './event-queue.js'
import { PROFILES, drawPeer } from './peers.js'
import { Rng } from './prng.js'
import { simulate } from './simulator.js'
import type { SimPeer } from './peers.js'
import type { SimConfig } from './simulator.js'

const small: SimConfig = { seed: 7, peers: 60, tasks: 600, churn: 0, stragglers: 0 }

describe('sim building blocks', () => {
  it('the PRNG is seeded and the event queue is stable on ties', () => {
    const a = new Rng(1); const b = new Rng(1)
    expect([a.next(), a.next()]).toEqual([b.next(), b.next()])
    const q = new EventQueue<{ t: number, n: number }>()
    for (const [t, n] of [[2, 1], [1, 2], [2, 3], [0, 4], [1, 5]]) q.push({ t, n })
    expect(Array.from({ length: 5 }, () => q.pop()?.n)).toEqual([4, 2, 5, 1, 3])
  })
})

describe('simulate (small, fixed seed)', () => {
  it('completes every task exactly once, never on a peer that fails its requirement', () => {
    for (const scheduler of ['ect', 'least-loaded'] as const) {
      const seen: string[] = []
      const r = simulate({ ...small, scheduler, onDispatch: (t, p) => { if (!satisfies(p.caps, t.requirement)) seen.push(`${t.id}@${p.id}`) } })
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

  it('copies overdue tasks while others are pending, and still completes each once', () => {
    const r = simulate({ ...small, churn: 0.3, stragglers: 0.05, backups: true, overdueBackups: true })
    expect(r.backupsLaunched).toBeGreaterThan(0)
    expect(r.completed).toBe(r.tasks)
    expect(r.results.size).toBe(r.tasks)
    expect(r.violations).toBe(0)
  })

  it('catches a liar with quorum 2, and keeps no wrong result', () => {
    const r = simulate({ ...small, quorum: 2, liars: 0.1 })
    expect(r.liars).toBeGreaterThan(0)
    expect(r.liarsCaught).toBeGreaterThan(0)
    expect(r.liarsCaught).toBeLessThanOrEqual(r.liars)
    expect(r.tieBreaks).toBeGreaterThan(0)
    expect(r.wrongAccepted).toBe(0)
    expect(r.completed).toBe(r.tasks)
    for (const [id, x] of r.results) expect(x.digest).toBe(`ok:${id}`)
    // with quorum 1 the same liars go unnoticed
    expect(simulate({ ...small, liars: 0.1 }).wrongAccepted).toBeGreaterThan(0)
  })

  it('backups shorten the tail behind one straggler', () => {
    const rng = new Rng(3)
    const draw = { stragglers: 0, stragglerSlowdown: 1, liars: 0 }
    const peers: SimPeer[] = Array.from({ length: 6 }, (_, i) => drawPeer(rng, i, draw, PROFILES[1]))
    peers[0].self = true
    peers[5].speed /= 20
    peers[5].straggler = true
    const base: SimConfig = { seed: 3, peers: 6, tasks: 120, reducers: 0, peerList: peers }
    const off = simulate({ ...base, peerList: peers.map(p => ({ ...p })), backups: false })
    const on = simulate({ ...base, peerList: peers.map(p => ({ ...p })), backups: true })
    expect(on.backupsLaunched).toBeGreaterThan(0)
    expect(on.backupsWon).toBeGreaterThan(0)
    expect(on.completed).toBe(on.tasks)
    expect(on.makespanMs).toBeLessThan(off.makespanMs * 0.6)
  })

  it('ECT keeps microcontrollers out of a short job that least-loaded gives them', () => {
    const mcuOn = (scheduler: 'ect' | 'least-loaded'): number => {
      let n = 0
      simulate({ ...small, scheduler, onDispatch: (_t, p) => { if (p.profile === 'mcu') n++ } })
      return n
    }
    expect(mcuOn('ect')).toBe(0)
    expect(mcuOn('least-loaded')).toBeGreaterThan(0)
  })
})
