/**
 * The video job the Edit screen starts and the Job screen follows: runs
 * runVideoJob (src/peer/video-job.ts), folds its events into the strip's
 * progress, and keeps the result for preview, download and share.
 */
import { signal } from '@preact/signals'
import { explain } from './errors.js'
import { applyVideoEvent, startProgress } from './video-progress.js'
import type { FedraPeer } from '../peer/peer.js'
import type { VideoFilterChoice, VideoJobResult } from '../peer/video-job.js'
import type { PlainError } from './errors.js'
import type { VideoProgress } from './video-progress.js'

export interface Clip {
  blob: Blob
  name: string
  url: string
}

export interface VideoRun {
  id: number
  clip: Clip
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

export function startVideoJob (peer: FedraPeer, init: { clip: Clip, filters: VideoFilterChoice[], filterTitles: string[], tags: string[] }): void {
  const prev = run.value
  if (prev?.status === 'running') prev.controller.abort()
  if (prev?.result != null) URL.revokeObjectURL(prev.result.url)
  const id = ++seq
  const controller = new AbortController()
  run.value = { id, ...init, progress: startProgress(performance.now()), status: 'running', paused: false, controller }
  // the video pipeline (demuxer, muxer) loads only when a video is filtered
  import('../peer/video-job.js').then(async ({ runVideoJob }) => runVideoJob(peer, {
    source: init.clip.blob,
    fileName: init.clip.name,
    filters: init.filters,
    unitSeconds: UNIT_SECONDS,
    // read by the runner at each placement round
    isPaused: () => run.value?.id === id && run.value.paused,
    signal: controller.signal,
    onProgress: e => { update(id, r => ({ ...r, progress: applyVideoEvent(r.progress, e, UNIT_SECONDS) })) }
  })).then(result => {
    update(id, r => ({ ...r, status: 'done', result: { ...result, url: URL.createObjectURL(result.blob) } }))
  }, (err: unknown) => {
    const cancelled = controller.signal.aborted
    update(id, r => ({ ...r, status: cancelled ? 'cancelled' : 'failed', error: explain(cancelled ? Object.assign(new Error('cancelled'), { name: 'AbortError' }) : err) }))
  })
}

/** Pauses or resumes the running job (the Job screen's Pause/Resume button). */
export function pauseVideoJob (paused: boolean): void {
  const r = run.value
  if (r?.status === 'running') update(r.id, x => ({ ...x, paused }))
}

export function cancelVideoJob (): void {
  run.value?.controller.abort()
}
