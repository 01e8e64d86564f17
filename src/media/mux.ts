import { ALL_FORMATS, BlobSource, BufferTarget, EncodedAudioPacketSource, EncodedPacket, EncodedPacketSink, EncodedVideoPacketSource, Input, Mp4OutputFormat, Output, WebMOutputFormat } from 'mediabunny'
import { VideoProcessingError } from '../core/errors.js'
import { clearMp4Times } from '../core/media/isobmff.js'
import type { AudioCodec, InputAudioTrack, VideoCodec } from 'mediabunny'
import type { VideoCodecConfig, VideoUnitResult } from '../core/media/units.js'
import type { OpenedVideo, VideoOrientation } from './demux.js'

/**
 * Muxing the filtered units back into one file: results come in any order,
 * are written in unit order (early ones wait, a bounded number), with the
 * input's audio packets copied through untouched, interleaved by time.
 */
export type OutputContainer = 'mp4' | 'webm'

export interface OutputFormatChoice {
  container: OutputContainer
  /** WebCodecs codec string for the workers' encoders. */
  codec: string
}

/**
 * The output of a clip: its own family (MP4/MOV → MP4 with H.264 baseline
 * at a level that fits the size, WebM → WebM with VP9 for VP9 input, else
 * VP8); MKV goes to MP4 when it holds H.264/H.265, else to WebM.
 */
export function outputFormatFor (opened: Pick<OpenedVideo, 'container' | 'config' | 'width' | 'height'>): OutputFormatChoice {
  const input = opened.config.codec
  const toMp4 = opened.container === 'mp4' || opened.container === 'mov' || (opened.container === 'mkv' && /^(avc|hvc|hev)/.test(input))
  const area = opened.width * opened.height
  if (toMp4) {
    // constrained baseline: no B-frames, decodes everywhere; level by frame size
    const level = area <= 1280 * 720 ? '1f' : area <= 1920 * 1088 ? '28' : '33'
    return { container: 'mp4', codec: `avc1.4200${level}` }
  }
  if (input.startsWith('vp09') || input === 'vp9') {
    const level = area <= 1280 * 720 ? '31' : area <= 2048 * 1088 ? '41' : '51'
    return { container: 'webm', codec: `vp09.00.${level}.08` }
  }
  return { container: 'webm', codec: 'vp8' }
}

/** mediabunny's name for a WebCodecs codec string. */
export function mediabunnyCodec (codec: string): VideoCodec {
  if (codec.startsWith('avc1') || codec.startsWith('avc3')) return 'avc'
  if (codec.startsWith('hvc1') || codec.startsWith('hev1')) return 'hevc'
  if (codec.startsWith('vp09') || codec === 'vp9') return 'vp9'
  if (codec.startsWith('av01')) return 'av1'
  if (codec === 'vp8') return 'vp8'
  throw new VideoProcessingError(`cannot mux ${codec} video`)
}

export interface UnitMuxerInit {
  /** The input, to copy audio from (untouched). */
  source: Blob
  container: OutputContainer
  codec: string
  width: number
  height: number
  /** The input's orientation, written into the file so it plays the same way up (default: as stored). */
  orientation?: VideoOrientation
  /** Results held while waiting for an earlier one (default 16). */
  maxBuffered?: number
}

export interface MuxedVideo {
  blob: Blob
  mimeType: string
  /** The input's audio: copied, absent, or dropped because the output container cannot hold its codec. */
  audio: 'copied' | 'none' | 'dropped'
  frames: number
}

const sameBytes = (a?: Uint8Array, b?: Uint8Array): boolean =>
  a === b || (a != null && b != null && a.byteLength === b.byteLength && a.every((x, i) => x === b[i]))

export class UnitMuxer {
  private readonly init: UnitMuxerInit
  private readonly maxBuffered: number
  private readonly buffered = new Map<number, VideoUnitResult>()
  private next = 0
  private frames = 0
  /** Serialises writes: one unit at a time, in order. */
  private writing: Promise<void> = Promise.resolve()
  private roomWaiters: Array<() => void> = []
  private started?: Promise<void>
  private output?: Output<Mp4OutputFormat | WebMOutputFormat, BufferTarget>
  private video?: EncodedVideoPacketSource
  private firstConfig?: VideoCodecConfig
  private audio?: AudioCopy
  private audioState: MuxedVideo['audio'] = 'none'
  private failure?: Error
  private finished = false
  private wroteVideo = false

  constructor (init: UnitMuxerInit) {
    this.init = init
    this.maxBuffered = Math.max(1, init.maxBuffered ?? 16)
  }

  /**
   * Takes one unit's result. The next one in order is written at once (with
   * any held ones it unblocks); an early one is held, waiting first for room
   * when `maxBuffered` are held already. A unit already taken is ignored (a
   * backup copy's second answer).
   */
  async add (result: VideoUnitResult): Promise<void> {
    if (this.finished) throw new VideoProcessingError('UnitMuxer.add after finish()')
    while (result.index !== this.next && this.buffered.size >= this.maxBuffered && this.failure == null) {
      await new Promise<void>(resolve => { this.roomWaiters.push(resolve) })
    }
    if (this.failure != null) throw this.failure
    if (result.index < this.next || this.buffered.has(result.index)) return
    this.buffered.set(result.index, result)
    if (result.index !== this.next) return
    const write = this.writing.then(async () => { await this.drain() })
    this.writing = write.catch(() => {})
    await write
  }

  /** Writes every held unit that is next in order. */
  private async drain (): Promise<void> {
    try {
      for (let r = this.buffered.get(this.next); r != null; r = this.buffered.get(this.next)) {
        await this.write(r)
        this.buffered.delete(r.index)
        this.next++
        this.frames += r.frames
        for (const wake of this.roomWaiters.splice(0)) wake()
      }
    } catch (err) {
      this.failure ??= err instanceof VideoProcessingError ? err : new VideoProcessingError(`muxing failed: ${(err as Error).message}`, undefined, { cause: err })
      for (const wake of this.roomWaiters.splice(0)) wake()
      throw this.failure
    }
  }

  private async start (config: VideoCodecConfig): Promise<void> {
    const { container } = this.init
    const format = container === 'mp4' ? new Mp4OutputFormat({ fastStart: 'in-memory' }) : new WebMOutputFormat()
    const output = new Output({ format, target: new BufferTarget() })
    this.video = new EncodedVideoPacketSource(mediabunnyCodec(config.codec))
    const { rotation = 0, flip = false } = this.init.orientation ?? {}
    output.addVideoTrack(this.video, { rotation, flip })
    const audio = await AudioCopy.open(this.init.source, format.getSupportedAudioCodecs())
    this.audioState = audio.state
    if (audio.source != null) {
      output.addAudioTrack(audio.source)
      this.audio = audio
    } else {
      audio.close()
    }
    await output.start()
    this.output = output
    this.firstConfig = config
  }

  private async write (r: VideoUnitResult): Promise<void> {
    this.started ??= this.start(r.config)
    await this.started
    const video = this.video
    const first = this.firstConfig
    if (video == null || first == null) throw new VideoProcessingError('the muxer did not start')
    if (r.config.codec !== first.codec || !sameBytes(r.config.description, first.description)) {
      throw new VideoProcessingError(`unit ${r.index} was encoded as ${r.config.codec} with other codec data than unit 0 (${first.codec}): the file cannot hold both`)
    }
    // audio up to the end of this unit goes first, so the muxer can interleave
    let end = -Infinity
    for (const c of r.chunks) end = Math.max(end, c.timestamp + c.duration)
    await this.audio?.copyUntil(end / 1e6)
    for (const c of r.chunks) {
      const meta = this.wroteVideo ? undefined : { decoderConfig: toDecoderConfig(first) }
      await video.add(new EncodedPacket(c.data, c.key ? 'key' : 'delta', c.timestamp / 1e6, c.duration / 1e6), meta)
      this.wroteVideo = true
    }
  }

  /** Writes the rest of the audio and closes the file; every unit must have been added. */
  async finish (): Promise<MuxedVideo> {
    this.finished = true
    await this.writing
    if (this.failure != null) throw this.failure
    if (this.buffered.size > 0) {
      throw new VideoProcessingError(`cannot finish: unit ${this.next} is missing (${this.buffered.size} later unit(s) wait for it)`)
    }
    const output = this.output
    if (output == null) throw new VideoProcessingError('cannot finish a video with no units')
    await this.audio?.copyUntil(Infinity)
    this.video?.close()
    this.audio?.source?.close()
    await output.finalize()
    this.audio?.close()
    const buffer = output.target.buffer
    if (buffer == null) throw new VideoProcessingError('the muxer produced no file')
    // the file depends on its content only, not on when it was written
    if (this.init.container === 'mp4') clearMp4Times(new Uint8Array(buffer))
    const mimeType = await output.getMimeType()
    return { blob: new Blob([buffer], { type: mimeType }), mimeType, audio: this.audioState, frames: this.frames }
  }
}

function toDecoderConfig (c: VideoCodecConfig): VideoDecoderConfig {
  const dc: VideoDecoderConfig = { codec: c.codec, codedWidth: c.codedWidth, codedHeight: c.codedHeight }
  if (c.displayWidth != null && c.displayHeight != null) {
    dc.displayAspectWidth = c.displayWidth
    dc.displayAspectHeight = c.displayHeight
  }
  if (c.description != null) dc.description = c.description
  return dc
}

/** The input's primary audio track, copied packet by packet into the output. */
class AudioCopy {
  private pending?: EncodedPacket
  private first = true
  private done = false

  private constructor (
    private readonly input: Input,
    readonly state: MuxedVideo['audio'],
    readonly source?: EncodedAudioPacketSource,
    private readonly track?: InputAudioTrack,
    private readonly packets?: AsyncGenerator<EncodedPacket, void, unknown>
  ) {}

  static async open (blob: Blob, supported: AudioCodec[]): Promise<AudioCopy> {
    const input = new Input({ source: new BlobSource(blob), formats: ALL_FORMATS })
    const track = await input.getPrimaryAudioTrack()
    if (track == null) return new AudioCopy(input, 'none')
    const codec = await track.getCodec()
    if (codec == null || !supported.includes(codec)) return new AudioCopy(input, 'dropped')
    const packets = new EncodedPacketSink(track).packets()
    return new AudioCopy(input, 'copied', new EncodedAudioPacketSource(codec), track, packets)
  }

  /** Adds the audio packets that start before `endS` seconds. */
  async copyUntil (endS: number): Promise<void> {
    const { source, track, packets } = this
    if (source == null || track == null || packets == null) return
    for (;;) {
      if (this.pending == null) {
        if (this.done) return
        const n = await packets.next()
        if (n.done === true) { this.done = true; return }
        this.pending = n.value
      }
      if (this.pending.timestamp >= endS) return
      const p = this.pending
      this.pending = undefined
      if (this.first) {
        this.first = false
        const decoderConfig = await track.getDecoderConfig()
        await source.add(p, decoderConfig != null ? { decoderConfig } : undefined)
      } else {
        await source.add(p)
      }
    }
  }

  close (): void {
    void this.packets?.return(undefined)
    this.input.dispose()
  }
}
