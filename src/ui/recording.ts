/**
 * The clip on Edit, and recording one. With filters ticked, Record also
 * starts the video job on the recording as it is made: units go out to the
 * room while the camera records, and the filtered file is ready moments
 * after Stop. With none ticked it only records; the person picks filters
 * and presses Filter video after. The chain is the one ticked when Record
 * was pressed (changing filters later does not touch that job).
 */
import { signal } from '@preact/signals'
import { explain } from './errors.js'
import { choices, filterItems } from './filters.js'
import { startRecording } from './media.js'
import { go, peer, people } from './state.js'
import { recordingSaved, recordingStopped, startVideoJob } from './video-run.js'
import type { PlainError } from './errors.js'
import type { Recording } from './media.js'
import type { Clip } from './video-run.js'

export const clip = signal<Clip | null>(null)
export const clipError = signal<PlainError | null>(null)
/** Peer ids of the people the person says are in the clip. */
export const tagged = signal<ReadonlySet<string>>(new Set())

export interface ActiveRecording extends Recording {
  name: string
  /** The job filtering it as it is recorded, if filters were ticked at Record. */
  runId?: number
  filterTitles: string[]
}
export const recording = signal<ActiveRecording | null>(null)

export function setClip (blob: Blob, name: string): void {
  if (clip.value != null) URL.revokeObjectURL(clip.value.url)
  clip.value = { blob, name, url: URL.createObjectURL(blob) }
}

/** Display names of the people tagged in the clip. */
export function taggedNames (): string[] {
  const names = new Map(people.value.map(x => [x.id, x.name]))
  return [...tagged.value].map(id => names.get(id)).filter((n): n is string => n != null)
}

function recordingName (type: string): string {
  const ext = type.includes('mp4') ? 'mp4' : 'webm'
  return `recording-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.${ext}`
}

/** Record: the camera starts; with filters ticked, the room filters the recording as it is made. */
export async function record (): Promise<void> {
  if (recording.value != null) return
  clipError.value = null
  try {
    const r = await startRecording()
    const name = recordingName(r.file.type)
    const on = filterItems.value.filter(f => f.checked)
    const p = peer.value
    const filterTitles = on.map(f => f.title)
    const runId = p != null && on.length > 0
      ? startVideoJob(p, { clip: { name, live: r.file }, filters: choices(filterItems.value), filterTitles, tags: taggedNames() })
      : undefined
    recording.value = { ...r, name, runId, filterTitles }
  } catch (err) {
    clipError.value = explain(err)
  }
}

/** Stop recording: the clip becomes Edit's clip; a job filtering it finishes its last units (the Job screen shows it). */
export async function stopRecording (): Promise<void> {
  const r = recording.value
  if (r == null) return
  recording.value = null
  if (r.runId != null) {
    recordingStopped(r.runId, performance.now())
    go('job')
  }
  const blob = await r.stop()
  setClip(blob, r.name)
  const c = clip.value
  if (r.runId != null && c != null) recordingSaved(r.runId, c)
}
