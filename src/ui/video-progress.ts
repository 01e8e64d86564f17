/**
 * A video job's progress as the Job screen draws it: one cell per unit,
 * coloured by the device computing it, plus throughput and an ETA. Pure: it
 * folds runVideoJob's events (src/peer/video-job.ts) with the time passed in.
 */
import type { VideoJobEvent } from '../peer/video-job.js'

export type UnitStage = 'stored' | 'running' | 'done'

export interface UnitCell {
  index: number
  stage: UnitStage
  /** The device computing it (the latest one given it) or that computed it. */
  workerId?: string
  frames?: number
}

export interface VideoProgress {
  startedAt: number
  units: UnitCell[]
  /** Known once the source is fully read. */
  total: number | null
  /** Before that, guessed from the clip's duration (null while a recording is still made). */
  expected: number | null
  /** The clip is a recording still being made: units go out as it is recorded. */
  live: boolean
  unitsDone: number
  framesDone: number
  /** Devices in the order they first took a unit (the legend). */
  workers: string[]
  /** Why the room paused the job ('' while it runs). */
  paused: string
  /** Units given to a device more than once (a device left, or a backup copy). */
  retries: number
}

export function startProgress (now: number): VideoProgress {
  return { startedAt: now, units: [], total: null, expected: null, live: false, unitsDone: 0, framesDone: 0, workers: [], paused: '', retries: 0 }
}

function withUnit (p: VideoProgress, index: number, f: (u: UnitCell) => UnitCell): UnitCell[] {
  const units = p.units.slice()
  for (let i = units.length; i <= index; i++) units.push({ index: i, stage: 'stored' })
  units[index] = f(units[index])
  return units
}

const addWorker = (workers: string[], id: string): string[] => workers.includes(id) ? workers : [...workers, id]

export function applyVideoEvent (p: VideoProgress, e: VideoJobEvent, unitSeconds = 1): VideoProgress {
  switch (e.type) {
    case 'video:opened':
      return { ...p, live: e.live, expected: e.durationS == null ? null : Math.max(1, Math.ceil(e.durationS / unitSeconds)) }
    case 'video:unit-stored':
      return { ...p, units: withUnit(p, e.index, u => ({ ...u, frames: e.frames })) }
    case 'video:unit-started': {
      const again = p.units[e.index]?.workerId != null
      return {
        ...p,
        units: withUnit(p, e.index, u => u.stage === 'done' ? u : { ...u, stage: 'running', workerId: e.workerId }),
        workers: addWorker(p.workers, e.workerId),
        retries: p.retries + (again ? 1 : 0)
      }
    }
    case 'video:unit-done': {
      if (p.units[e.index]?.stage === 'done') return p
      return {
        ...p,
        units: withUnit(p, e.index, u => ({ ...u, stage: 'done', workerId: e.workerId, frames: e.frames })),
        workers: addWorker(p.workers, e.workerId),
        unitsDone: p.unitsDone + 1,
        framesDone: p.framesDone + e.frames
      }
    }
    case 'video:source-closed':
      return { ...p, total: e.units, live: false }
    case 'video:job':
      if (e.event.type === 'paused') return { ...p, paused: e.event.reason }
      if (e.event.type === 'resumed') return { ...p, paused: '' }
      return p
  }
}

/** Units to expect in all: exact once the source is read. */
export function totalUnits (p: VideoProgress): number {
  return p.total ?? Math.max(p.expected ?? 0, p.units.length)
}

/** Units given to a device so far (each counted once, however many copies went out). */
export function unitsOut (p: VideoProgress): number {
  return p.units.filter(u => u.workerId != null).length
}

/**
 * Frames per second over the whole job so far, and seconds left (null
 * until a unit is done, and while the length of the clip is unknown: a
 * recording still being made).
 */
export function rates (p: VideoProgress, now: number): { fps: number, etaS: number | null } {
  const elapsed = Math.max(1e-3, (now - p.startedAt) / 1000)
  const fps = p.framesDone / elapsed
  const total = totalUnits(p)
  if (p.unitsDone === 0 || total === 0 || (p.total == null && p.expected == null)) return { fps, etaS: null }
  const left = Math.max(0, total - p.unitsDone)
  return { fps, etaS: left * elapsed / p.unitsDone }
}

export function formatEta (etaS: number | null): string {
  if (etaS == null) return 'estimating…'
  if (etaS < 1) return 'less than a second'
  if (etaS < 90) return `about ${Math.round(etaS)} s`
  return `about ${Math.round(etaS / 60)} min`
}
