import { AbortedError, FedraError, UnsupportedMediaError, VideoProcessingError } from '../core/errors.js'
import { concat } from 'uint8arrays/concat'
import { sha256Hex } from '../core/digest.js'
import type { VideoChunk, VideoCodecConfig, VideoUnit, VideoUnitResult } from '../core/media/units.js'

/**
 * The worker's step on one unit: decode, filter each output frame as RGBA,
 * hash it, re-encode with a new encoder. Deterministic by construction
 * (DESIGN.md, "Video"): a new VideoEncoder per unit, software codecs, the
 * same settings everywhere, so the same unit gives the same bytes in any
 * tab for frames under 640×480, and the same filtered frames (the hash) at
 * any size. Frames are closed as soon as they are used: at most a few are
 * alive at once. A worker runs it inside a pool worker (unit-program.ts);
 * the page runs it too (tests, runVideoLocally).
 *
 * The filter gets the frame's RGBA in a buffer the step reuses for the next
 * frame, and may return a view of its own memory: the step copies the
 * output (hash, VideoFrame) before it asks for the next frame.
 */
export type FrameFilter = (rgba: Uint8Array, width: number, height: number) => Promise<Uint8Array>

export interface RunVideoUnitOptions {
  /** Output codec, a WebCodecs string ('vp8', 'vp09.00.31.08', 'avc1.42001f'). */
  codec: string
  /** Bits per second (default: defaultBitrate of the frame size). */
  bitrate?: number
  signal?: AbortSignal
  onFrame?: (done: number, total: number) => void
  /** Where the unit's time went, ms added per phase (bench/video-breakdown.ts reads it). */
  timings?: StepTimings
}

/**
 * The step's own thread, phase by phase: `open` the codecs (decoder, then
 * encoder at the first frame), `waitDecoded` for a decoded frame, `copy` it
 * out as RGBA, `filter`, `encode` (hash started, new VideoFrame, encode call),
 * `waitEncoder` for room in its queue, `flush` the encoder at the end,
 * `hash` the digests' wait at the end.
 */
export interface StepTimings {
  open: number
  waitDecoded: number
  copy: number
  filter: number
  encode: number
  waitEncoder: number
  flush: number
  hash: number
}

export function emptyTimings (): StepTimings {
  return { open: 0, waitDecoded: 0, copy: 0, filter: 0, encode: 0, waitEncoder: 0, flush: 0, hash: 0 }
}

/** Decoded frames waiting for the filter, at most; the decoder is fed only while fewer wait. */
const MAX_WAITING_FRAMES = 4
/** Frames queued in the encoder, at most. */
const MAX_ENCODE_QUEUE = 4

/** A bitrate for a frame size: about 3 bits per pixel per second, 0.3–8 Mbit/s. */
export function defaultBitrate (width: number, height: number): number {
  return Math.min(8_000_000, Math.max(300_000, Math.round(width * height * 3)))
}

function isAvc (codec: string): boolean {
  return codec.startsWith('avc1') || codec.startsWith('avc3')
}

/** Filters one unit and re-encodes it; see VideoUnitResult for what comes back. */
export async function runVideoUnit (unit: VideoUnit, filter: FrameFilter, opts: RunVideoUnitOptions): Promise<VideoUnitResult> {
  const { signal } = opts
  if (signal?.aborted === true) throw new AbortedError(`unit ${unit.index} was cancelled`)
  const step = new UnitStep(unit, filter, opts)
  const onAbort = (): void => { step.fail(new AbortedError(`unit ${unit.index} was cancelled`)) }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    return await step.run()
  } finally {
    signal?.removeEventListener('abort', onAbort)
    step.close()
  }
}

/** One run of one unit: a decoder feeding a queue, a loop filtering and encoding from it. */
class UnitStep {
  /** The output frames' durations in presentation order (the decoder's output order). */
  private readonly durations: number[]
  /** Frames presented before this time are priming frames, decoded and dropped. */
  private readonly firstShown: number
  private readonly total: number
  private readonly waiting: VideoFrame[] = []
  private decoder?: VideoDecoder
  private encoder?: VideoEncoder
  private failure?: Error
  private decoderDone = false
  /** Whoever waits for a frame, for room in the queue, or for a failure. */
  private waiters: Array<() => void> = []
  private readonly chunks: VideoChunk[] = []
  private outConfig?: VideoCodecConfig
  /** Each frame's SHA-256, in order, awaited at the end (hashing runs beside the next frames). */
  private readonly digests: Array<Promise<ArrayBuffer>> = []
  /** The RGBA copy of the frame being filtered, reused frame after frame. */
  private rgba?: Uint8Array

  constructor (private readonly unit: VideoUnit, private readonly filter: FrameFilter, private readonly opts: RunVideoUnitOptions) {
    // the unit's planner cut it where every priming frame is shown before
    // every output frame, so a decoded frame is told by its place, not its
    // time: two frames may share a timestamp (a damaged file)
    const shown = unit.chunks.slice(unit.skip).map(c => ({ timestamp: c.timestamp, duration: c.duration }))
    shown.sort((a, b) => a.timestamp - b.timestamp)
    this.durations = shown.map(c => c.duration)
    this.firstShown = shown[0]?.timestamp ?? 0
    this.total = shown.length
  }

  fail (err: Error): void {
    this.failure ??= err
    this.wake()
  }

  private wake (): void {
    for (const resolve of this.waiters.splice(0)) resolve()
  }

  private check (): void {
    if (this.failure != null) throw this.failure
  }

  /** Resolves at the next change: a frame decoded or taken, the decoder done, a failure. */
  private async changed (): Promise<void> {
    await new Promise<void>(resolve => { this.waiters.push(resolve) })
  }

  /** Adds the time since `t0` to a phase, when timings are asked for; returns now. */
  private lap (phase: keyof StepTimings, t0: number): number {
    const t = performance.now()
    if (this.opts.timings != null) this.opts.timings[phase] += t - t0
    return t
  }

  async run (): Promise<VideoUnitResult> {
    let t = performance.now()
    await this.openDecoder()
    t = this.lap('open', t)
    const feeding = this.feed().catch(err => { this.fail(err as Error) })
    let done = 0
    let at = 0
    while (done < this.total) {
      this.check()
      const frame = this.waiting.shift()
      if (frame == null) {
        if (this.decoderDone) {
          throw new VideoProcessingError(`unit ${this.unit.index}: the decoder gave ${done} of its ${this.total} frames`)
        }
        t = performance.now()
        await this.changed()
        this.lap('waitDecoded', t)
        continue
      }
      this.wake()
      try {
        await this.process(frame, at++)
      } finally {
        frame.close()
      }
      done++
      this.opts.onFrame?.(done, this.total)
    }
    await feeding
    this.check()
    const encoder = this.encoder
    if (encoder == null) throw new VideoProcessingError(`unit ${this.unit.index} output no frame`)
    t = performance.now()
    await encoder.flush().catch(err => { throw this.wrap(err, 'encoding') })
    t = this.lap('flush', t)
    this.check()
    if (this.outConfig == null) throw new VideoProcessingError(`the ${this.opts.codec} encoder gave no decoder config`)
    const hash = await sha256Hex(concat((await Promise.all(this.digests)).map(d => new Uint8Array(d))))
    this.lap('hash', t)
    return { index: this.unit.index, config: this.outConfig, chunks: this.chunks, frames: done, hash }
  }

  private async openDecoder (): Promise<void> {
    const c = this.unit.config
    const base: VideoDecoderConfig = { codec: c.codec, codedWidth: c.codedWidth, codedHeight: c.codedHeight }
    if (c.description != null) base.description = c.description
    const config = await supportedConfig('decode', base, VideoDecoder.isConfigSupported.bind(VideoDecoder), `this browser cannot decode ${c.codec} video`)
    this.decoder = new VideoDecoder({
      output: frame => {
        if (this.failure != null || frame.timestamp < this.firstShown) frame.close() // a priming frame
        else this.waiting.push(frame)
        this.wake()
      },
      error: err => { this.fail(this.wrap(err, 'decoding')) }
    })
    // the feeder waits on the decoder's queue too
    this.decoder.addEventListener('dequeue', () => { this.wake() })
    this.decoder.configure(config)
  }

  /** Feeds the unit's chunks while few decoded frames wait, then flushes. */
  private async feed (): Promise<void> {
    const decoder = this.decoder
    if (decoder == null) return
    for (const c of this.unit.chunks) {
      while (this.failure == null && this.waiting.length + decoder.decodeQueueSize >= MAX_WAITING_FRAMES) await this.changed()
      this.check()
      decoder.decode(new EncodedVideoChunk({ type: c.key ? 'key' : 'delta', timestamp: c.timestamp, duration: c.duration, data: c.data }))
    }
    await decoder.flush().catch(err => { throw this.wrap(err, 'decoding') })
    this.decoderDone = true
    this.wake()
  }

  /** Filters one decoded frame, hashes the result and hands it to the encoder. */
  private async process (frame: VideoFrame, at: number): Promise<void> {
    const rect = frame.visibleRect
    const width = rect?.width ?? frame.displayWidth
    const height = rect?.height ?? frame.displayHeight
    // one buffer for every frame: the filter's output is copied (hash,
    // VideoFrame) before the next frame is copied out
    if (this.rgba?.byteLength !== width * height * 4) this.rgba = new Uint8Array(width * height * 4)
    const rgba = this.rgba
    let t = performance.now()
    await frame.copyTo(rgba, { rect: rect ?? undefined, format: 'RGBA', colorSpace: 'srgb' })
    t = this.lap('copy', t)
    this.check()
    let out: Uint8Array
    try {
      out = await this.filter(rgba, width, height)
      t = this.lap('filter', t)
    } catch (err) {
      if (err instanceof FedraError) throw err
      throw new VideoProcessingError(`the filter failed on frame ${at} of unit ${this.unit.index}: ${(err as Error).message}`, undefined, { cause: err })
    }
    if (!(out instanceof Uint8Array) || out.byteLength !== width * height * 4) {
      throw new VideoProcessingError(`the filter returned ${(out as Uint8Array | undefined)?.byteLength ?? 'no'} bytes for a ${width}×${height} RGBA frame (${width * height * 4} expected)`)
    }
    // digest() copies the bytes before it returns, as the VideoFrame constructor does
    this.digests.push(crypto.subtle.digest('SHA-256', out as Uint8Array<ArrayBuffer>))
    let encoder = this.encoder
    if (encoder == null) {
      t = this.lap('encode', t)
      encoder = await this.openEncoder(width, height, frame)
      t = this.lap('open', t)
    }
    const duration = this.durations[at] ?? frame.duration ?? 0
    const filtered = new VideoFrame(out as Uint8Array<ArrayBuffer>, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: frame.timestamp, duration })
    try {
      this.check()
      encoder.encode(filtered, { keyFrame: at === 0 })
    } finally {
      filtered.close()
    }
    t = this.lap('encode', t)
    while (this.failure == null && encoder.encodeQueueSize > MAX_ENCODE_QUEUE) {
      const dequeued = new Promise<void>(resolve => { encoder.addEventListener('dequeue', () => { resolve() }, { once: true }) })
      await Promise.race([dequeued, this.changed()])
    }
    this.lap('waitEncoder', t)
  }

  /** A new encoder for this unit (never one reused: reuse changes the bytes). */
  private async openEncoder (width: number, height: number, frame: VideoFrame): Promise<VideoEncoder> {
    const codec = this.opts.codec
    const base: VideoEncoderConfig = {
      codec,
      width,
      height,
      bitrate: this.opts.bitrate ?? defaultBitrate(width, height),
      latencyMode: 'quality'
    }
    if (frame.displayWidth !== width || frame.displayHeight !== height) {
      base.displayWidth = frame.displayWidth
      base.displayHeight = frame.displayHeight
    }
    if (isAvc(codec)) base.avc = { format: 'avc' }
    const config = await supportedConfig('encode', base, VideoEncoder.isConfigSupported.bind(VideoEncoder), `this browser cannot encode ${codec} video at ${width}×${height}`)
    this.check()
    const encoder = new VideoEncoder({
      output: (chunk, meta) => {
        const data = new Uint8Array(chunk.byteLength)
        chunk.copyTo(data)
        this.chunks.push({ key: chunk.type === 'key', timestamp: chunk.timestamp, duration: chunk.duration ?? 0, data })
        const dc = meta?.decoderConfig
        if (dc != null && this.outConfig == null) {
          const out: VideoCodecConfig = { codec: dc.codec, codedWidth: dc.codedWidth ?? width, codedHeight: dc.codedHeight ?? height }
          if (dc.displayAspectWidth != null && dc.displayAspectHeight != null) {
            out.displayWidth = dc.displayAspectWidth
            out.displayHeight = dc.displayAspectHeight
          }
          const desc = copyBytes(dc.description)
          if (desc != null) out.description = desc
          this.outConfig = out
        }
      },
      error: err => { this.fail(this.wrap(err, 'encoding')) }
    })
    encoder.configure(config)
    this.encoder = encoder
    return encoder
  }

  private wrap (err: unknown, what: 'decoding' | 'encoding'): Error {
    if (err instanceof FedraError) return err
    const codec = what === 'decoding' ? this.unit.config.codec : this.opts.codec
    return new VideoProcessingError(`${what} unit ${this.unit.index} (${codec}) failed: ${(err as Error)?.message ?? String(err)}`, undefined, { cause: err })
  }

  close (): void {
    // a feeder still waiting (the run failed) stops, and drops what it holds
    this.failure ??= new AbortedError(`unit ${this.unit.index} is closed`)
    this.wake()
    for (const f of this.waiting.splice(0)) f.close()
    for (const c of [this.decoder, this.encoder]) {
      if (c != null && c.state !== 'closed') c.close()
    }
  }
}

/**
 * The config with software codecs preferred (the same bytes on every peer;
 * a hardware codec would differ by device), or as given where a browser
 * offers no software codec for it.
 */
async function supportedConfig<C extends VideoDecoderConfig | VideoEncoderConfig> (kind: 'decode' | 'encode', base: C, isSupported: (c: C) => Promise<{ supported?: boolean }>, refusal: string): Promise<C> {
  for (const config of [{ ...base, hardwareAcceleration: 'prefer-software' }, base] as C[]) {
    const key = `${kind} ${configKey(config)}`
    let answer = supportAnswers.get(key)
    if (answer == null) {
      answer = await isSupported(config).then(r => r.supported === true, () => false)
      rememberAnswer(key, answer)
    }
    if (answer) return config
  }
  throw new UnsupportedMediaError(refusal)
}

/**
 * isConfigSupported's answers, by config: the same config gets the same
 * answer in one browser, and a unit asks two or three times (a round trip
 * each) before its first frame.
 */
const supportAnswers = new Map<string, boolean>()
const MAX_SUPPORT_ANSWERS = 64

function rememberAnswer (key: string, answer: boolean): void {
  if (supportAnswers.size >= MAX_SUPPORT_ANSWERS) supportAnswers.delete(supportAnswers.keys().next().value as string)
  supportAnswers.set(key, answer)
}

function configKey (config: VideoDecoderConfig | VideoEncoderConfig): string {
  return JSON.stringify(config, (_k, v: unknown) => ArrayBuffer.isView(v) ? Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) : v)
}

function copyBytes (d: AllowSharedBufferSource | undefined): Uint8Array | undefined {
  if (d == null) return undefined
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength) as ArrayBuffer)
  return new Uint8Array((d as ArrayBuffer).slice(0))
}
