import { encodeOutputs } from '../protocol/batch.js'
import { EventQueue } from './event-queue.js'
import type { RoomMember, RoomView } from '../job/types.js'
import type { CopyReport } from '../job/policy.js'
import type { Capabilities } from '../requirements/capabilities.js'
import type { Rng } from './prng.js'
import type { SimPeer } from './peers.js'
import type { SimTask } from './workload.js'

/**
 * The simulator's world: peers with their true speeds, links, slots and
 * queues; when they join, leave (with a bye, or silently) and are dropped
 * by the room's registry; what each copy of a task costs and when its
 * reports and result reach the submitter. It decides nothing: its driver
 * (drive.ts) turns the job policy's actions into `send`, `abort` and `cut`
 * here, and what reaches the submitter into the policy's events.
 *
 * A worker does what src/peer/worker-service.ts does: a copy arrives half
 * a round trip after it is sent; its function and input, where the worker
 * lacks them, come one after another over its link, while it says every
 * report period that its input is still arriving; it then waits for a
 * slot (first in, first out), says when it starts, runs its items one
 * after another (a batch copy reports after its first item, and every
 * report period with the outputs done since its last report), stops at a
 * cut it hears of, and sends its result. Whatever it sends reaches the
 * submitter half a round trip later; nothing leaves a peer once it left.
 * (One file over 400 lines: a copy's life is one chain of events, read
 * best in one place.)
 */

/** Whoever sent a copy hears what its worker sends back (a job's driver). */
export interface CopyOwner {
  report: (c: SimCopy, report: CopyReport | undefined) => void
  result: (c: SimCopy, r: SimResultMsg) => void
}

/** One copy of a task on a worker, as the world runs it. */
export interface SimCopy {
  /** The job that sent it. */
  job?: CopyOwner
  /** `task@worker`, the policy's copy key. */
  key: string
  /** The policy's task id (a piece's own id). */
  taskId: string
  /** The caller's task: its true work. */
  task: SimTask
  peer: SimPeer
  /** A batch copy (items `from` to `to`), or one indivisible call (0 to 1). */
  batch: boolean
  from: number
  to: number
  /** Outputs of items ride its progress reports. */
  partial: boolean
  /** Its function's module came with it. */
  pushed?: boolean
  sentAt: number
  arrivedAt: number
  state: 'sent' | 'fetching' | 'queued' | 'running' | 'ended'
  /** The submitter stopped it (its stream is gone: nothing it sends counts). */
  stopped: boolean
  /** The item before which a cut the worker heard of stops it. */
  cutAt: number
  startedAt: number
  /** Wall ms of one item at this worker's speed (before a slow-down), this run's noise included. */
  itemMs: number
  /** The item it stops before (its range's end, or a cut). */
  stopAt: number
  /** First item whose output has not gone out with a report. */
  reported: number
  /** Bumped when its end moves (a cut): older finish events are stale. */
  gen: number
}

/** A copy's result as it reaches the submitter. */
export interface SimResultMsg {
  output: Uint8Array
  ms: number
  from?: number
  to?: number
  /** Time the worker held the copy, ms (the round trip minus this is the link's). */
  heldMs: number
}

/** What reaches the submitter, at the time it does (a copy's reports and result go to its job). */
export interface WorldEvents {
  /** The registry drops a peer (a bye came, or its beats stopped). */
  dropped: (p: SimPeer) => void
  /** A run on a slot ended, however it ended (diagnostics). */
  run?: (c: SimCopy, endMs: number, outcome: 'finished' | 'cancelled' | 'lost') => void
}

export interface WorldInit {
  rng: Rng
  /** Workers report on a running copy this often, ms (0: never). */
  progressMs: number
  /** Workers send items' outputs with their reports when asked (`partial`). */
  partialOutputs: boolean
  /** A peer gone without a bye is dropped by the registry this long after, ms. */
  detectMs: number
  /** Shape σ of the log-normal noise of one run. */
  jitter: number
  /**
   * Runs the world on other timers (a test's fake clock): each event is
   * handed to `at` for its time instead of the world's own queue, and the
   * world reads the time from `clock`.
   */
  timers?: { at: (t: number, run: () => void) => void, clock: () => number }
}

type Ev =
  | { t: number, type: 'arrive' | 'fetched' | 'inputBeat' | 'item1' | 'beat' | 'abort', c: SimCopy }
  | { t: number, type: 'finish', c: SimCopy, gen: number }
  | { t: number, type: 'cut', c: SimCopy, at: number }
  | { t: number, type: 'report', c: SimCopy, report: CopyReport | undefined }
  | { t: number, type: 'result', c: SimCopy, r: SimResultMsg }
  | { t: number, type: 'join' | 'leave' | 'drop', p: SimPeer }
  | { t: number, type: 'call', fn: () => void }

interface PeerState {
  alive: boolean
  running: Set<SimCopy>
  queue: SimCopy[]
  /** Content the peer holds: functions, inputs. */
  holds: Set<string>
  /** When its link is free of the downloads it has started. */
  linkFreeAt: number
}

/** One good (1) or wrong (0) byte per item. */
const GOOD = new Uint8Array([1])
const WRONG = new Uint8Array([0])

export class World {
  private readonly q = new EventQueue<Ev>()
  private t = 0
  private readonly state: PeerState[]
  private readonly members = new Map<string, RoomMember>()
  private roomCache?: RoomView
  private readonly outputs = new Map<number, Uint8Array>()
  private events?: WorldEvents

  constructor (readonly peers: readonly SimPeer[], readonly self: { id: string, caps: Capabilities, consent: boolean }, private readonly init: WorldInit) {
    this.state = peers.map(() => ({ alive: false, running: new Set(), queue: [], holds: new Set(), linkFreeAt: 0 }))
  }

  /** Puts content on a peer before the job (an input's replicas). */
  hold (p: SimPeer, cid: string): void {
    this.state[p.idx].holds.add(cid)
  }

  /** Starts the room: joins and leaves go on the queue, peers there at 0 join now. */
  start (events: WorldEvents): void {
    this.events = events
    for (const p of this.peers) {
      if (p.joinAt === 0) this.join(p)
      else this.push({ t: p.joinAt, type: 'join', p })
      if (p.leaveAt < Infinity) this.push({ t: p.leaveAt, type: 'leave', p })
    }
  }

  /** The room as the submitter's registry knows it now. */
  room (): RoomView {
    this.roomCache ??= { self: { caps: this.self.caps, consent: this.self.consent }, members: [...this.members.values()] }
    return this.roomCache
  }

  /** The simulated time, ms. */
  get now (): number {
    return this.init.timers?.clock() ?? this.t
  }

  /** Runs `fn` at `t` (the driver's timers). */
  at (t: number, fn: () => void): void {
    this.push({ t, type: 'call', fn })
  }

  /** Handles the next event; false when none is left. */
  step (): boolean {
    const ev = this.q.pop()
    if (ev == null) return false
    this.t = ev.t
    this.handle(ev)
    return true
  }

  private push (ev: Ev): void {
    const timers = this.init.timers
    if (timers == null) this.q.push(ev)
    else timers.at(ev.t, () => { this.handle(ev) })
  }

  /**
   * Sends a copy of the task (items `from` to `to` of a batch task) to the
   * peer; not `warm`, the function's module rides with it (the runner
   * pushes it until the worker is known to hold it), on the worker's link.
   */
  send (taskId: string, task: SimTask, peer: SimPeer, range: { from: number, to: number } | undefined, partial: boolean, warm = true): SimCopy {
    const c: SimCopy = {
      key: `${taskId}@${peer.id}`, taskId, task, peer, batch: range != null, from: range?.from ?? 0, to: range?.to ?? 1, partial: partial && this.init.partialOutputs,
      sentAt: this.now, arrivedAt: 0, state: 'sent', stopped: false, cutAt: Infinity, startedAt: 0, itemMs: 0, stopAt: 0, reported: range?.from ?? 0, gen: 0
    }
    let at = this.now + this.half(peer)
    const pushed = warm || peer.id === this.self.id ? 0 : task.functionBytes ?? 0
    if (pushed > 0) {
      const s = this.state[peer.idx]
      s.linkFreeAt = at = Math.max(at, s.linkFreeAt) + pushed * 1000 / peer.bandwidthBps
      c.pushed = true
    }
    this.push({ t: at, type: 'arrive', c })
    return c
  }

  /** The submitter stops the copy: its stream goes now, the worker hears of it half a round trip later. */
  abort (c: SimCopy): void {
    c.stopped = true
    this.push({ t: this.now + this.half(c.peer), type: 'abort', c })
  }

  /** Tells the copy's worker to stop before item `at`. */
  cut (c: SimCopy, at: number): void {
    this.push({ t: this.now + this.half(c.peer), type: 'cut', c, at })
  }

  private half (p: SimPeer): number {
    return p.id === this.self.id ? 0 : p.rttMs / 2
  }

  private handle (ev: Ev): void {
    const ws = this.events as WorldEvents
    switch (ev.type) {
      case 'call': ev.fn(); break
      case 'join': this.join(ev.p); break
      case 'leave': this.leave(ev.p); break
      case 'drop':
        this.members.delete(ev.p.id)
        this.roomCache = undefined
        ws.dropped(ev.p)
        break
      case 'arrive': this.arrive(ev.c); break
      case 'fetched': this.fetched(ev.c); break
      case 'inputBeat':
        if (ev.c.state === 'fetching' && this.alive(ev.c)) this.inputReport(ev.c)
        break
      case 'item1':
      case 'beat':
        if (ev.c.state === 'running' && this.alive(ev.c)) this.beat(ev.c, ev.type === 'beat')
        break
      case 'finish':
        if (ev.c.state === 'running' && this.alive(ev.c) && ev.gen === ev.c.gen) this.finish(ev.c)
        break
      case 'cut': this.cutArrives(ev.c, ev.at); break
      case 'abort': this.abortArrives(ev.c); break
      case 'report': if (!ev.c.stopped) ev.c.job?.report(ev.c, ev.report); break
      case 'result': ev.c.job?.result(ev.c, ev.r); break
    }
  }

  private alive (c: SimCopy): boolean {
    return this.state[c.peer.idx].alive
  }

  private join (p: SimPeer): void {
    this.state[p.idx].alive = true
    if (p.id !== this.self.id) this.member(p)
  }

  /** The peer's entry in the registry: what its beats say (its functions held; its load is not modelled). */
  private member (p: SimPeer): void {
    const holds = this.state[p.idx].holds
    const cache = [...holds].filter(c => c.startsWith('fn:'))
    this.members.set(p.id, { id: p.id, caps: p.caps, verified: true, consent: true, load: 0, cache })
    this.roomCache = undefined
  }

  private leave (p: SimPeer): void {
    const s = this.state[p.idx]
    s.alive = false
    for (const c of s.running) this.events?.run?.(c, this.now, 'lost')
    // a bye is heard after a round trip; a silent leaver's beats stop, and the registry drops it after missed ones
    this.push({ t: this.now + (p.cleanLeave ? p.rttMs : this.init.detectMs), type: 'drop', p })
  }

  private arrive (c: SimCopy): void {
    const s = this.state[c.peer.idx]
    if (!s.alive || c.state !== 'sent') return
    c.arrivedAt = this.now
    const t = c.task
    let bytes = 0
    if (!s.holds.has(t.functionCid)) {
      if (c.pushed !== true) bytes += t.functionBytes ?? 0
      s.holds.add(t.functionCid)
      if (this.members.has(c.peer.id)) this.member(c.peer)
    }
    t.inputCids.forEach((cid, i) => {
      if (!s.holds.has(cid)) bytes += t.inputBytes?.[i] ?? 0
      s.holds.add(cid)
    })
    c.state = 'fetching'
    // its input is by CID: the worker says at once, and every period, that it is still arriving
    this.inputReport(c)
    // a worker holding all it needs queues the copy at once
    if (bytes === 0) {
      this.fetched(c)
      return
    }
    s.linkFreeAt = Math.max(this.now, s.linkFreeAt) + bytes * 1000 / c.peer.bandwidthBps
    this.push({ t: s.linkFreeAt, type: 'fetched', c })
  }

  private inputReport (c: SimCopy): void {
    if (this.init.progressMs <= 0) return
    this.emit(c, { done: 0, phase: 'input' })
    this.push({ t: this.now + this.init.progressMs, type: 'inputBeat', c })
  }

  private fetched (c: SimCopy): void {
    const s = this.state[c.peer.idx]
    if (!s.alive || c.state !== 'fetching') return
    c.state = 'queued'
    s.queue.push(c)
    this.tryStart(c.peer)
  }

  private tryStart (p: SimPeer): void {
    const s = this.state[p.idx]
    while (s.alive && s.running.size < p.caps.slots && s.queue.length > 0) {
      const c = s.queue.shift() as SimCopy
      if (c.state !== 'queued') continue
      c.state = 'running'
      s.running.add(c)
      this.startRun(c)
    }
  }

  private startRun (c: SimCopy): void {
    const t = c.task
    const items = c.batch ? (t.items ?? 1) : 1
    c.startedAt = this.now
    c.itemMs = t.workMs / items / c.peer.speed * this.init.rng.lognormal(1, this.init.jitter)
    c.stopAt = Math.min(c.to, c.cutAt)
    // the start report, then one after the first item (its pace), then every period
    if (this.init.progressMs > 0) {
      this.emit(c, c.batch ? { done: c.from } : undefined)
      if (c.batch && c.stopAt - c.from > 1) this.push({ t: this.itemEnd(c, c.from), type: 'item1', c })
      this.push({ t: this.now + this.init.progressMs, type: 'beat', c })
    }
    this.scheduleFinish(c)
  }

  private scheduleFinish (c: SimCopy): void {
    c.gen++
    // cut before its first item (it heard of the cut while it waited): it ends at once, with no item
    if (c.stopAt <= c.from) this.finish(c)
    else this.push({ t: Math.max(this.now, this.itemEnd(c, c.stopAt - 1)), type: 'finish', c, gen: c.gen })
  }

  /** When item `i` of the copy ends (its slow-down, if any, applied from `slowAt`). */
  private itemEnd (c: SimCopy, i: number): number {
    return c.startedAt + runTime(c.peer, c.startedAt, (i - c.from + 1) * c.itemMs)
  }

  /** Items of the copy done by now. */
  private itemsDone (c: SimCopy): number {
    const n = Math.floor(computeDone(c.peer, c.startedAt, this.now) / c.itemMs + 1e-9)
    return Math.min(c.stopAt - c.from, n)
  }

  private beat (c: SimCopy, periodic: boolean): void {
    if (periodic) this.push({ t: this.now + this.init.progressMs, type: 'beat', c })
    if (!c.batch) {
      this.emit(c, undefined)
      return
    }
    const done = c.from + this.itemsDone(c)
    const r: CopyReport = { done }
    if (c.partial && done > c.reported) {
      r.from = c.reported
      r.outputs = this.outputsOf(c, done - c.reported)
      c.reported = done
    }
    this.emit(c, r)
  }

  private finish (c: SimCopy): void {
    const s = this.state[c.peer.idx]
    c.state = 'ended'
    s.running.delete(c)
    this.events?.run?.(c, this.now, 'finished')
    this.tryStart(c.peer)
    const ms = this.now - c.startedAt
    const heldMs = this.now - c.arrivedAt
    const r: SimResultMsg = c.batch
      ? { output: this.outputsOf(c, c.stopAt - c.reported), ms, from: c.reported, to: c.stopAt, heldMs }
      : { output: c.peer.liar ? WRONG : GOOD, ms, heldMs }
    c.reported = c.stopAt
    this.push({ t: this.now + this.half(c.peer), type: 'result', c, r })
  }

  private cutArrives (c: SimCopy, at: number): void {
    if (!this.state[c.peer.idx].alive) return
    if (c.state !== 'running') {
      c.cutAt = Math.min(c.cutAt, at)
      return
    }
    // a worker past the cut stops after the item it is on
    const on = c.from + this.itemsDone(c)
    const stopAt = Math.min(c.stopAt, Math.max(at, on + 1))
    if (stopAt === c.stopAt) return
    c.stopAt = stopAt
    this.scheduleFinish(c)
  }

  private abortArrives (c: SimCopy): void {
    const s = this.state[c.peer.idx]
    if (!s.alive || c.state === 'ended') return
    const running = c.state === 'running'
    c.state = 'ended'
    if (!running) return
    s.running.delete(c)
    this.events?.run?.(c, this.now, 'cancelled')
    this.tryStart(c.peer)
  }

  /** Sends a report: it reaches the submitter half a round trip later. */
  private emit (c: SimCopy, report: CopyReport | undefined): void {
    this.push({ t: this.now + this.half(c.peer), type: 'report', c, report })
  }

  /** The outputs of `n` items, one byte each (wrong from a liar). */
  private outputsOf (c: SimCopy, n: number): Uint8Array {
    const k = c.peer.liar ? -1 - n : n
    let o = this.outputs.get(k)
    if (o == null) this.outputs.set(k, o = encodeOutputs(Array.from({ length: n }, () => c.peer.liar ? WRONG : GOOD)))
    return o
  }
}

/** Wall time of `ms` of compute at the peer's speed started at `start`, with its slow-down (if any) applied from `slowAt`. */
export function runTime (p: SimPeer, start: number, ms: number): number {
  if (p.slowAt == null || p.slowFactor == null || start + ms <= p.slowAt) return ms
  if (start >= p.slowAt) return ms * p.slowFactor
  const before = p.slowAt - start
  return before + (ms - before) * p.slowFactor
}

/** The inverse of `runTime`: compute done (at full speed) by `now` on a run started at `start`. */
function computeDone (p: SimPeer, start: number, now: number): number {
  const wall = Math.max(0, now - start)
  if (p.slowAt == null || p.slowFactor == null || now <= p.slowAt) return wall
  if (start >= p.slowAt) return wall / p.slowFactor
  const before = p.slowAt - start
  return before + (wall - before) / p.slowFactor
}
