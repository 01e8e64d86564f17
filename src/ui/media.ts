/**
 * Recording a clip with the camera, and sharing with the Web Share API
 * where the browser has it.
 */
import { LiveFile } from '../media/live.js'

export interface Recording {
  stream: MediaStream
  /**
   * The recording as it is written: a chunk every `TIMESLICE_MS`, closed
   * when the recorder stops. A video job can read it while it grows.
   */
  file: LiveFile
  /** `performance.now()` when the recorder started. */
  startedAt: number
  /** Stops the camera; resolves to the recorded clip. */
  stop: () => Promise<Blob>
}

const RECORD_TYPES = ['video/webm;codecs=vp8', 'video/webm;codecs=vp9', 'video/webm', 'video/mp4']
/** How often the recorder hands over what it has written: the units wait for clusters (one a second) anyway. */
export const TIMESLICE_MS = 500

export async function startRecording (): Promise<Recording> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment', width: { ideal: 1280 } }, audio: false })
  const mimeType = RECORD_TYPES.find(t => MediaRecorder.isTypeSupported(t)) ?? ''
  // a key frame every second: the job cuts the clip into units of about a
  // second at key frames (video-job.ts), and Chromium starts a WebM cluster
  // at each one, which is when the units already recorded can go out
  const options = { mimeType, videoKeyFrameIntervalDuration: 1000 } as MediaRecorderOptions
  const recorder = new MediaRecorder(stream, options)
  const file = new LiveFile(recorder.mimeType || mimeType || 'video/webm')
  // chunks arrive in order; the file closes when the recorder stops (Stop, or the camera went away)
  recorder.addEventListener('dataavailable', e => { if (!file.ended) file.append(e.data) })
  const stopped = new Promise<void>(resolve => {
    recorder.addEventListener('stop', () => { file.close(); resolve() }, { once: true })
  })
  recorder.addEventListener('error', e => { file.fail((e as ErrorEvent).error ?? new Error('the recorder failed')) })
  recorder.start(TIMESLICE_MS)
  return {
    stream,
    file,
    startedAt: performance.now(),
    stop: async () => {
      if (recorder.state !== 'inactive') recorder.stop()
      await stopped
      for (const t of stream.getTracks()) t.stop()
      return file.blob()
    }
  }
}

export const canShare = (): boolean => typeof navigator.share === 'function'

export function canShareFile (file: File): boolean {
  return typeof navigator.canShare === 'function' && navigator.canShare({ files: [file] })
}

/** Shares; false when the person closed the share sheet or the browser refused. */
export async function share (data: ShareData): Promise<boolean> {
  try {
    await navigator.share(data)
    return true
  } catch {
    return false
  }
}

export async function copyText (text: string, fallback?: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    if (fallback == null) return false
    fallback.select()
    return document.execCommand('copy')
  }
}
