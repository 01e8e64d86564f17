/**
 * The video job the Edit screen starts and the Job screen follows: runs
 * runVideoJob (src/peer/video-job.ts), folds its events into the strip's
 * progress, and keeps the result for preview, download and share.
 */
import { signal } from '@preact/signals'
import { explain } from './errors.js'
import { applyVideoEvent, startProgress } from './video-progress.js'
import type { LiveFile } from '../media/live.js'
import type { FedraPeer } from '../peer/peer.js'
import type { VideoFilterChoice, VideoJobResult } from '../peer/video-job.js'
import type { PlainError } from './errors.js'
import type { VideoProgress } from './video-progress.js'

export interface Clip {
  blob: Blob
  name: string
  url: string
}

/** A recording still being made: the job reads it as it grows. */
export interface LiveClip {
  name: string
  live: LiveFile
}

export interface VideoRun {
  id: number
  /** The input; `url` (for Before) once it is a complete file. */
  clip: { name: string, url?: string }
  /** The input is a recording still being made (until Stop). */
  recording: boolean
  /** `performance.now()` when the person pressed Stop (a recording's job). */
  stoppedAt?: number
  /** From Stop to the downloadable file, ms (a recording's job). */
  readyAfterStopMs?: number
  filters: VideoFilterChoice[]
  /** Filter titles, in order, for the Job screen. */
  filterTitles: string[]
  /** Who is in the clip, as the person confirmed (display names). */
  tags: string[]
  progress: VideoProgress
  status: 'running' | 'done' | 'failed' | 'cancelled'
  /** The person paused it: no unit is sent until they resume (those on a device finish). */
  paused: boolean
  result?: VideoJobResult & { url: string }
  error?: PlainError
  controller: AbortController
}

export const UNIT_SECONDS = 1
export const run = signal<VideoRun | null>(null)
let seq = 0

function update (id: number, f: (r: VideoRun) => VideoRun): void {
  const r = run.value
  if (r != null && r.id === id) run.value = f(r)
}

/**
 * Starts filtering a clip, or a recording while it is made (`LiveClip`:
 * units go out as it is recorded); returns the run's id.
 */
export function startVideoJob (peer: FedraPeer, init: { clip: Clip | LiveClip, filters: VideoFilterChoice[], filterTitles: string[], tags: string[] }): number {
  const prev = run.value
  if (prev?.status === 'running') prev.controller.abort()
  if (prev?.result != null) URL.revokeObjectURL(prev.result.url)
  const id = ++seq
  const controller = new AbortController()
  const { clip, ...rest } = init
  const live = 'live' in clip
  run.value = {
    id,
    ...rest,
    clip: live ? { name: clip.name } : { name: clip.name, url: clip.url },
    recording: live,
    progress: startProgress(performance.now()),
    status: 'running',
    paused: false,
    controller
  }
  // the video pipeline (demuxer, muxer) loads only when a video is filtered
  import('../peer/video-job.js').then(async ({ runVideoJob }) => runVideoJob(peer, {
    source: live ? clip.live : clip.blob,
    fileName: init.clip.name,
    filters: init.filters,
    unitSeconds: UNIT_SECONDS,
    // read by the runner at each placement round
    isPaused: () => run.value?.id === id && run.value.paused,
    signal: controller.signal,
    onProgress: e => { update(id, r => ({ ...r, progress: applyVideoEvent(r.progress, e, UNIT_SECONDS) })) }
  })).then(result => {
    const now = performance.now()
    update(id, r => ({
      ...r,
      status: 'done',
      result: { ...result, url: URL.createObjectURL(result.blob) },
      ...(r.stoppedAt != null ? { readyAfterStopMs: now - r.stoppedAt } : {})
    }))
  }, (err: unknown) => {
    const cancelled = controller.signal.aborted
    update(id, r => ({ ...r, status: cancelled ? 'cancelled' : 'failed', error: explain(cancelled ? Object.assign(new Error('cancelled'), { name: 'AbortError' }) : err) }))
  })
  return id
}

/** The recording that run `id` reads was stopped at `at` (`performance.now()`): its last units follow. */
export function recordingStopped (id: number, at: number): void {
  update(id, r => ({ ...r, recording: false, stoppedAt: at }))
}

/** The recording that run `id` read is complete: `clip` (its Before). */
export function recordingSaved (id: number, clip: Clip): void {
  update(id, r => ({ ...r, clip: { name: clip.name, url: clip.url } }))
}

/** Pauses or resumes the running job (the Job screen's Pause/Resume button). */
export function pauseVideoJob (paused: boolean): void {
  const r = run.value
  if (r?.status === 'running') update(r.id, x => ({ ...x, paused }))
}

export function cancelVideoJob (): void {
  run.value?.controller.abort()
}
