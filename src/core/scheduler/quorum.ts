import { restoreFields, saveFields } from '../job/plain.js'
import type { Plain } from '../job/plain.js'
/**
 * Quorum for untrusted results: a task runs on k different workers and is
 * decided when k of them return the same result digest. A disagreement runs a
 * tie-breaker; once a digest reaches k votes, every worker that voted for
 * another is marked a liar: its pending votes are dropped and its later
 * results ignored. Pure bookkeeping; the runner places the replicas.
 */
export type Vote =
  | { type: 'pending' }
  /** Decided: `workers` agreed on `digest`; `liars` are newly caught; `reopened` tasks lost a liar's vote and need a replica. */
  | { type: 'agreed', digest: string, workers: string[], liars: string[], reopened: string[] }
  /** Every replica has answered and none reached k: launch `wanted()` more. */
  | { type: 'tie-break' }
  | { type: 'ignored', reason: 'decided' | 'distrusted' | 'duplicate' }
  /** maxReplicas were spent without agreement. */
  | { type: 'failed' }

export interface QuorumInit {
  /** Agreeing results needed (1 = trust the first result). */
  k?: number
  /** Replicas launched per task at most, tie-breakers included. */
  maxReplicas?: number
}

interface Entry {
  votes: Map<string, string>
  running: Set<string>
  /** Workers that ran or run it: replicas go to other workers. */
  ran: Set<string>
  launched: number
  decided?: string
  failed: boolean
}

export class QuorumBook {
  readonly k: number
  private readonly maxReplicas: number
  private readonly tasks = new Map<string, Entry>()
  private readonly liarSet = new Set<string>()
  /** Worker → undecided tasks it voted on. */
  private readonly openVotes = new Map<string, Set<string>>()

  constructor (init: QuorumInit = {}) {
    this.k = Math.max(1, init.k ?? 1)
    this.maxReplicas = init.maxReplicas ?? this.k + 3
  }

  /** Replicas to launch now for the task (0 when decided, failed, or enough are running). */
  /** The book as plain data (src/core/job/plain.ts). */
  toState (): Plain {
    return saveFields(this, ['k', 'maxReplicas', 'tasks', 'liarSet', 'openVotes'])
  }

  static fromState (state: Plain): QuorumBook {
    return restoreFields(new QuorumBook(), state)
  }

  wanted (taskId: string): number {
    const e = this.entry(taskId)
    if (e.decided != null || e.failed) return 0
    const need = this.k - this.topCount(e) - e.running.size
    return Math.max(0, Math.min(need, this.maxReplicas - e.launched))
  }

  started (taskId: string, workerId: string): void {
    const e = this.entry(taskId)
    e.running.add(workerId)
    e.ran.add(workerId)
    e.launched++
  }

  /** A replica ended without a result (worker left, cancelled): it may be launched again. */
  lost (taskId: string, workerId: string): void {
    const e = this.entry(taskId)
    if (e.running.delete(workerId)) e.launched = Math.max(0, e.launched - 1)
  }

  ranOn (taskId: string): ReadonlySet<string> {
    return this.entry(taskId).ran
  }

  decided (taskId: string): string | undefined {
    return this.tasks.get(taskId)?.decided
  }

  isTrusted (workerId: string): boolean {
    return !this.liarSet.has(workerId)
  }

  liars (): string[] {
    return [...this.liarSet]
  }

  record (taskId: string, workerId: string, digest: string): Vote {
    const e = this.entry(taskId)
    e.running.delete(workerId)
    if (e.decided != null) return { type: 'ignored', reason: 'decided' }
    if (this.liarSet.has(workerId)) return this.afterLoss(e, { type: 'ignored', reason: 'distrusted' })
    if (e.votes.has(workerId)) return { type: 'ignored', reason: 'duplicate' }
    e.votes.set(workerId, digest)
    let count = 0
    for (const d of e.votes.values()) if (d === digest) count++
    if (count >= this.k) return this.decide(taskId, e, digest)
    let s = this.openVotes.get(workerId)
    if (s == null) this.openVotes.set(workerId, s = new Set())
    s.add(taskId)
    return this.afterLoss(e, { type: 'pending' })
  }

  private afterLoss (e: Entry, otherwise: Vote): Vote {
    if (e.running.size > 0 || e.decided != null) return otherwise
    if (this.topCount(e) >= this.k) return otherwise
    if (e.launched >= this.maxReplicas) {
      e.failed = true
      return { type: 'failed' }
    }
    return e.votes.size > 0 ? { type: 'tie-break' } : otherwise
  }

  private decide (taskId: string, e: Entry, digest: string): Vote {
    e.decided = digest
    const workers: string[] = []
    const liars: string[] = []
    for (const [w, d] of e.votes) {
      this.openVotes.get(w)?.delete(taskId)
      if (d === digest) workers.push(w)
      else if (!this.liarSet.has(w)) liars.push(w)
    }
    const reopened = new Set<string>()
    for (const w of liars) {
      this.liarSet.add(w)
      for (const other of this.openVotes.get(w) ?? []) {
        const o = this.entry(other)
        o.votes.delete(w)
        o.launched = Math.max(0, o.launched - 1)
        reopened.add(other)
      }
      this.openVotes.delete(w)
    }
    return { type: 'agreed', digest, workers, liars, reopened: [...reopened] }
  }

  private topCount (e: Entry): number {
    const counts = new Map<string, number>()
    let top = 0
    for (const d of e.votes.values()) {
      const c = (counts.get(d) ?? 0) + 1
      counts.set(d, c)
      if (c > top) top = c
    }
    return top
  }

  private entry (taskId: string): Entry {
    let e = this.tasks.get(taskId)
    if (e == null) this.tasks.set(taskId, e = { votes: new Map(), running: new Set(), ran: new Set(), launched: 0, failed: false })
    return e
  }
}
