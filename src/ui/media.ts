/**
 * Recording a clip with the camera, and sharing with the Web Share API
 * where the browser has it.
 */
export interface Recording {
  stream: MediaStream
  /** Stops the camera; resolves to the recorded clip. */
  stop: () => Promise<Blob>
}

const RECORD_TYPES = ['video/webm;codecs=vp8', 'video/webm;codecs=vp9', 'video/webm', 'video/mp4']

export async function startRecording (): Promise<Recording> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment', width: { ideal: 1280 } }, audio: false })
  const mimeType = RECORD_TYPES.find(t => MediaRecorder.isTypeSupported(t)) ?? ''
  // a key frame every second: the job cuts the clip into units of about a
  // second at key frames (video-job.ts)
  const options = { mimeType, videoKeyFrameIntervalDuration: 1000 } as MediaRecorderOptions
  const recorder = new MediaRecorder(stream, options)
  const chunks: Blob[] = []
  recorder.addEventListener('dataavailable', e => { if (e.data.size > 0) chunks.push(e.data) })
  recorder.start(500)
  return {
    stream,
    stop: async () => {
      const stopped = new Promise(resolve => recorder.addEventListener('stop', resolve, { once: true }))
      if (recorder.state !== 'inactive') recorder.stop()
      await stopped
      for (const t of stream.getTracks()) t.stop()
      return new Blob(chunks, { type: recorder.mimeType || mimeType || 'video/webm' })
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
