import { localOnly } from '../core/scheduler/local-only.js'
import { leastLoaded } from '../core/scheduler/least-loaded.js'
import { runVideoJob } from '../peer/video-job.js'
import type { VideoFilterChoice, VideoJobEvent } from '../peer/video-job.js'
import type { FedraPeer } from '../peer/peer.js'

/** What a test or a benchmark compares between runs of one clip. */
export interface VideoRun {
  /** The output file, base64. */
  file: string
  mimeType: string
  fileName: string
  frames: number
  owners: string[]
  hashes: string[]
  events: VideoJobEvent[]
  ms: number
}

function fromBase64 (b64: string): Uint8Array {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

function toBase64 (bytes: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

export interface VideoJobHookOptions {
  file: string
  name: string
  type?: string
  filters: VideoFilterChoice[]
  local?: boolean
  placement?: 'everyone'
  unitSeconds?: number
  /** Each event as it happens, besides the list returned at the end (bench/video.bench.ts times them). */
  onProgress?: (event: VideoJobEvent) => void
  /**
   * Benchmarks: the file arrives evenly over this many seconds from the
   * call, as an upload or a live recording would (reads past what has
   * arrived wait), so the job streams for real.
   */
  paceSeconds?: number
}

/** Bytes a paced read hands on at once: the pace's granularity. */
const PACE_PIECE = 16 * 1024

/**
 * `blob` as if its bytes arrived evenly from now until `seconds` later:
 * `stream()` and `arrayBuffer()` of it or of any slice wait for the bytes
 * they return (mediabunny's BlobSource reads through `slice().stream()`).
 */
function pacedBlob (blob: Blob, seconds: number): Blob {
  const t0 = performance.now()
  const total = Math.max(1, blob.size)
  const until = async (byte: number): Promise<void> => {
    const wait = t0 + byte / total * seconds * 1000 - performance.now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
  }
  class PacedBlob extends Blob {
    constructor (private readonly inner: Blob, private readonly offset: number) { super() }
    override get size (): number { return this.inner.size }
    override get type (): string { return this.inner.type }
    override slice (start?: number, end?: number, type?: string): Blob {
      const from = start == null ? 0 : start < 0 ? Math.max(0, this.inner.size + start) : Math.min(start, this.inner.size)
      return new PacedBlob(this.inner.slice(start, end, type), this.offset + from)
    }
    override async arrayBuffer (): Promise<ArrayBuffer> {
      await until(this.offset + this.inner.size)
      return this.inner.arrayBuffer()
    }
    override stream (): ReadableStream<Uint8Array<ArrayBuffer>> {
      const reader = this.inner.stream().getReader()
      let at = this.offset
      return new ReadableStream({
        pull: async (controller) => {
          const { done, value } = await reader.read()
          if (done) { controller.close(); return }
          for (let i = 0; i < value.byteLength; i += PACE_PIECE) {
            const piece = value.subarray(i, i + PACE_PIECE)
            await until(at + piece.byteLength)
            at += piece.byteLength
            controller.enqueue(piece)
          }
        },
        cancel: async (reason) => { await reader.cancel(reason) }
      })
    }
  }
  return new PacedBlob(blob, 0)
}

/**
 * `window.fedra.videoJob`: the video job the Edit screen runs, for tests and
 * benchmarks that compare runs byte for byte. `local`: this tab alone (the
 * one-tab reference, same per-unit code); `everyone`: spread over every
 * volunteer (least loaded) rather than by estimated completion time.
 */
export function videoHooks (peer: FedraPeer): { videoJob: (opts: VideoJobHookOptions) => Promise<VideoRun> } {
  return {
    async videoJob (opts) {
      const events: VideoJobEvent[] = []
      const file = new Blob([fromBase64(opts.file) as BlobPart], { type: opts.type ?? '' })
      const source = opts.paceSeconds != null && opts.paceSeconds > 0 ? pacedBlob(file, opts.paceSeconds) : file
      const r = await runVideoJob(peer, {
        source,
        fileName: opts.name,
        filters: opts.filters,
        unitSeconds: opts.unitSeconds,
        scheduler: opts.local === true ? localOnly() : opts.placement === 'everyone' ? leastLoaded() : undefined,
        onProgress: e => { events.push(e); opts.onProgress?.(e) }
      })
      return {
        file: toBase64(new Uint8Array(await r.blob.arrayBuffer())),
        mimeType: r.mimeType,
        fileName: r.fileName,
        frames: r.frames,
        owners: r.owners,
        hashes: r.hashes,
        events,
        ms: r.ms
      }
    }
  }
}
