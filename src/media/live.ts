import { GrowingList } from '../core/media/growing.js'

/**
 * A video file still being written: a recording, in the chunks
 * MediaRecorder hands over every timeslice. `openVideo` reads it as a
 * stream (mediabunny's ReadableStreamSource: no file size, read front to
 * back, waiting for the next chunk), so a job's units go out to the room
 * while the camera still records. The chunks stay Blobs (the browser may
 * keep them out of the JS heap) and are read into memory one at a time as
 * the demuxer pulls them.
 */
export class LiveFile {
  /** MIME type of the whole file, e.g. `video/webm;codecs=vp8`. */
  readonly type: string
  private readonly chunks = new GrowingList<Blob>()
  private bytes = 0

  constructor (type = 'video/webm') {
    this.type = type
  }

  /** Bytes so far. */
  get size (): number {
    return this.bytes
  }

  /** True once the recording stopped (or failed): the file is complete. */
  get ended (): boolean {
    return this.chunks.ended
  }

  /** The next piece of the file (empty ones are skipped). */
  append (chunk: Blob): void {
    if (chunk.size === 0) return
    this.bytes += chunk.size
    this.chunks.push(chunk)
  }

  /** The file is complete: readers end after the last chunk. */
  close (): void {
    this.chunks.close()
  }

  /** Recording failed: readers throw `error` after the chunks they have. */
  fail (error: unknown): void {
    this.chunks.fail(error)
  }

  /** The file as far as it is written. */
  blob (): Blob {
    return new Blob(this.chunks.snapshot(), { type: this.type })
  }

  /** The whole file from its first byte: each chunk as it arrives; closes when the file is complete. */
  stream (): ReadableStream<Uint8Array> {
    const stop = new AbortController()
    const pieces = this.chunks.read(0, { signal: stop.signal })
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const next = await pieces.next()
        if (next.done === true) controller.close()
        else controller.enqueue(new Uint8Array(await next.value.arrayBuffer()))
      },
      cancel: (reason) => { stop.abort(reason ?? new Error('stream cancelled')) }
    }, { highWaterMark: 0 })
  }
}
