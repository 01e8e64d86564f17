import type { Beat } from '../protocol/room.js'

/**
 * A peer beats every 2 s. At 1 s, room chatter alone took an idle tab in a
 * room of 7 about 0.15 of a core (each beat is flooded to every peer and
 * forwarded over the mesh, several data-channel and WebSocket sends each):
 * a volunteer on a slow CPU (0.1 core in the calibration bench) spent all
 * of it on chatter, its beats came seconds late, and it fell out of the
 * room while idle. A silent leaver is noticed after MISSED_BEATS_TO_DIE
 * beats (6 s); one that closes its tab says bye and closes its connections
 * at once, and a worker running tasks is watched by its progress reports.
 */
export const DEFAULT_BEAT_INTERVAL_MS = 2000
/** An entry is dead after this many missed heartbeats. */
export const MISSED_BEATS_TO_DIE = 3

export interface WorkerEntry {
  id: string
  beat: Beat
  lastSeen: number
  /** False until the peer has proven it holds the room key on a direct stream. */
  verified: boolean
}

export interface RegistryInit {
  beatIntervalMs?: number
}

export type RegistryChange =
  | { type: 'joined', id: string }
  | { type: 'updated', id: string }
  | { type: 'left', id: string, reason: 'expired' | 'bye' | 'disconnected' }

/**
 * The room's view of its workers. Every peer keeps its own replica, fed by
 * heartbeats; time is passed in so the simulator and tests drive it.
 */
export class Registry {
  private readonly entries = new Map<string, WorkerEntry>()
  private readonly listeners = new Set<(change: RegistryChange) => void>()
  readonly beatIntervalMs: number

  constructor (init: RegistryInit = {}) {
    this.beatIntervalMs = init.beatIntervalMs ?? DEFAULT_BEAT_INTERVAL_MS
  }

  subscribe (fn: (change: RegistryChange) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  private emit (change: RegistryChange): void {
    for (const fn of this.listeners) fn(change)
  }

  /** Applies a heartbeat; stale (out-of-order) beats are ignored. */
  applyBeat (beat: Beat, now: number): void {
    const prev = this.entries.get(beat.id)
    // out of order: ignore; but a peer that restarted with the same id counts
    // from 0 again, which shows as a lower seq after a silence
    if (prev != null && beat.seq < prev.beat.seq && now - prev.lastSeen < this.beatIntervalMs) return
    this.entries.set(beat.id, { id: beat.id, beat, lastSeen: now, verified: prev?.verified ?? false })
    this.emit({ type: prev == null ? 'joined' : 'updated', id: beat.id })
  }

  markVerified (id: string): void {
    const e = this.entries.get(id)
    if (e != null && !e.verified) {
      e.verified = true
      this.emit({ type: 'updated', id })
    }
  }

  remove (id: string, reason: 'bye' | 'disconnected'): void {
    if (this.entries.delete(id)) this.emit({ type: 'left', id, reason })
  }

  /** Drops entries that missed too many beats; returns their ids. */
  expire (now: number): string[] {
    const deadline = now - this.beatIntervalMs * MISSED_BEATS_TO_DIE
    const dead: string[] = []
    for (const [id, e] of this.entries) {
      if (e.lastSeen < deadline) dead.push(id)
    }
    for (const id of dead) {
      this.entries.delete(id)
      this.emit({ type: 'left', id, reason: 'expired' })
    }
    return dead
  }

  get (id: string): WorkerEntry | undefined {
    return this.entries.get(id)
  }

  has (id: string): boolean {
    return this.entries.has(id)
  }

  list (): WorkerEntry[] {
    return [...this.entries.values()]
  }

  get size (): number {
    return this.entries.size
  }
}
