import { ALL_FORMATS, BlobSource, EncodedPacketSink, Input, MatroskaInputFormat, Mp4InputFormat, QuickTimeInputFormat, ReadableStreamSource, WebMInputFormat } from 'mediabunny'
import { AbortedError, UnsupportedMediaError } from '../core/errors.js'
import { FrameTimes } from '../core/media/times.js'
import { UnitPlanner } from '../core/media/plan.js'
import { LiveFile } from './live.js'
import type { EncodedPacket, InputVideoTrack } from 'mediabunny'
import type { VideoChunk, VideoCodecConfig, VideoUnit } from '../core/media/units.js'

/**
 * Opening a clip and cutting it into work units (src/core/media/plan.ts)
 * while it is read: mediabunny demuxes encoded packets in decode order, the
 * planner says where units end, and each unit is yielded as soon as it is
 * complete. Only the packets of the unit being gathered are held.
 *
 * The clip is a file (a Blob), or a recording still being written (a
 * `LiveFile`): that one is read as a stream, front to back, each packet as
 * soon as its bytes are in — with MediaRecorder's WebM (a Segment and
 * Clusters of unknown size, one cluster per key frame) a cluster's frames
 * come out once the next cluster begins, or when the recording stops.
 */
export type InputContainer = 'mp4' | 'webm' | 'mov' | 'mkv'

/** A clip: a file, or a recording still being written. */
export type VideoSource = Blob | LiveFile

export interface OpenedVideo {
  container: InputContainer
  /** The decoder config every unit carries. */
  config: VideoCodecConfig
  /** Frame size as presented (the decoder's visible rectangle), pixels. */
  width: number
  height: number
  /** The clip is a recording still being written: its length is known only once its units are read. */
  live: boolean
  /** End of the video track, seconds; undefined while a live clip is still being written. */
  durationS?: number
  /** Frames in the video track, where the container says it cheaply (MP4/MOV). */
  frameCount?: number
  hasAudio: boolean
  /** How a player turns the frames to show them (a phone filmed upright stores them sideways): clockwise degrees, then a mirror. */
  orientation: VideoOrientation
  /** The units of the whole video, in order, each as soon as it is read. Call once at a time. */
  units: (opts?: { targetUs?: number, signal?: AbortSignal }) => AsyncIterable<VideoUnit>
  close: () => void
}

export interface VideoOrientation {
  rotation: 0 | 90 | 180 | 270
  flip: boolean
}

function containerOf (format: unknown): InputContainer | undefined {
  // subclasses first: WebM is a Matroska, QuickTime and MP4 are both ISOBMFF
  if (format instanceof WebMInputFormat) return 'webm'
  if (format instanceof MatroskaInputFormat) return 'mkv'
  if (format instanceof QuickTimeInputFormat) return 'mov'
  if (format instanceof Mp4InputFormat) return 'mp4'
  return undefined
}

/** Codecs whose containers may hold frames out of presentation order (B-frames). */
function reorders (codec: string): boolean {
  return /^(avc|hvc|hev)/.test(codec)
}

/** mediabunny's seconds to whole microseconds (its own getter truncates 0.57 s to 569 999 µs). */
export function toMicros (seconds: number): number {
  return Math.round(seconds * 1_000_000)
}

function toChunk (p: EncodedPacket): VideoChunk {
  return { key: p.type === 'key', timestamp: toMicros(p.timestamp), duration: toMicros(p.duration), data: p.data }
}

function copyDescription (d: AllowSharedBufferSource | undefined): Uint8Array | undefined {
  if (d == null) return undefined
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength) as ArrayBuffer)
  return new Uint8Array((d as ArrayBuffer).slice(0))
}

function throwIfAborted (signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AbortedError('opening the video was cancelled')
}

/** Opens a clip: container, codec, size, duration; `units()` then reads it. */
export async function openVideo (source: VideoSource, opts: { signal?: AbortSignal } = {}): Promise<OpenedVideo> {
  const opened = await openContainer(source, opts)
  try {
    const support = await VideoDecoder.isConfigSupported(toDecoderConfig(opened.config)).catch(() => ({ supported: false }))
    if (support.supported !== true) {
      throw new UnsupportedMediaError(`this browser cannot decode ${opened.config.codec} video; try a VP8, VP9 or H.264 file`)
    }
    throwIfAborted(opts.signal)
    return opened
  } catch (err) {
    opened.close()
    throw err
  }
}

function toDecoderConfig (c: VideoCodecConfig): VideoDecoderConfig {
  const dc: VideoDecoderConfig = { codec: c.codec, codedWidth: c.codedWidth, codedHeight: c.codedHeight }
  if (c.description != null) dc.description = c.description
  return dc
}

/**
 * `openVideo` without asking WebCodecs whether the codec decodes here: the
 * container read by mediabunny alone (it runs under Node too, where the
 * unit tests read real recordings with it).
 */
export async function openContainer (source: VideoSource, opts: { signal?: AbortSignal } = {}): Promise<OpenedVideo> {
  throwIfAborted(opts.signal)
  const live = source instanceof LiveFile
  const input = new Input({
    source: source instanceof LiveFile
      // a failure with no read pending (the recording failed between reads) surfaces at the next read
      ? new ReadableStreamSource(source.stream(), { handleUnhandledError: () => {} })
      : new BlobSource(source),
    formats: ALL_FORMATS
  })
  try {
    let format
    try {
      format = await input.getFormat()
    } catch (err) {
      throw new UnsupportedMediaError('this file is not a video Fedra can read (MP4, MOV, WebM or MKV)', undefined, { cause: err })
    }
    const container = containerOf(format)
    if (container == null) throw new UnsupportedMediaError(`${format.name} files are not supported: open an MP4, MOV, WebM or MKV video`)
    const track = await input.getPrimaryVideoTrack()
    if (track == null) throw new UnsupportedMediaError('this file has no video track')
    const config = await decoderConfigOf(track)
    throwIfAborted(opts.signal)
    const width = config.displayWidth ?? config.codedWidth
    const height = config.displayHeight ?? config.codedHeight
    // a recording's length and frame count are known once it is read (asking would wait for its end)
    const durationS = live ? undefined : await track.computeDuration()
    const frameCount = !live && (container === 'mp4' || container === 'mov') ? (await track.computePacketStats()).packetCount : undefined
    const hasAudio = (await input.getPrimaryAudioTrack()) != null
    const orientation: VideoOrientation = { rotation: await track.getRotation(), flip: await track.getFlip() }
    let reading = false
    return {
      container,
      config,
      live,
      width,
      height,
      durationS,
      frameCount,
      hasAudio,
      orientation,
      units: (o = {}) => {
        if (reading) throw new Error('openVideo: units() is already being read')
        reading = true
        return (async function * () {
          try {
            yield * readUnits(track, config, o)
          } finally {
            reading = false
          }
        })()
      },
      close: () => { input.dispose() }
    }
  } catch (err) {
    input.dispose()
    throw err
  }
}

async function decoderConfigOf (track: InputVideoTrack): Promise<VideoCodecConfig> {
  const codecName = await track.getCodec()
  const dc = await track.getDecoderConfig()
  if (dc == null || codecName == null) {
    throw new UnsupportedMediaError(`the video codec of this file (${String(await track.getInternalCodecId())}) is not supported`)
  }
  const codedWidth = dc.codedWidth ?? await track.getCodedWidth()
  const codedHeight = dc.codedHeight ?? await track.getCodedHeight()
  const config: VideoCodecConfig = {
    codec: dc.codec,
    codedWidth,
    codedHeight,
    // the frame size the container states is the visible one (H.264 crops its 368 coded rows to 360)
    displayWidth: await track.getCodedWidth(),
    displayHeight: await track.getCodedHeight()
  }
  const description = copyDescription(dc.description)
  if (description != null) config.description = description
  return config
}

/**
 * Reads packets in decode order, plans units as they come, and yields each
 * complete unit with its chunks from its key frame. Packets before the
 * earliest key frame a later unit may still decode from are let go.
 * Frame times are repaired first (times.ts): every frame gets a duration,
 * and without reordering each frame's time is after the one before.
 */
async function * readUnits (track: InputVideoTrack, config: VideoCodecConfig, opts: { targetUs?: number, signal?: AbortSignal }): AsyncGenerator<VideoUnit> {
  const reordered = reorders(config.codec)
  const planner = new UnitPlanner({ targetUs: opts.targetUs, lookahead: reordered ? 16 : 1 })
  const times = new FrameTimes<VideoChunk>({ inOrder: !reordered })
  const sink = new EncodedPacketSink(track)
  /** Chunks from decode index `base` on. */
  let held: VideoChunk[] = []
  let base = 0
  const take = function * (plans: ReturnType<UnitPlanner['push']>): Generator<VideoUnit> {
    for (const p of plans) {
      yield { index: p.index, config, chunks: held.slice(p.first - base, p.to - base), skip: p.from - p.first }
      // later units decode from the key frame of the GOP that holds p.to, or later
      let k = Math.min(p.to, base + held.length)
      while (k > base && k < base + held.length && !held[k - base].key) k--
      held = held.slice(k - base)
      base = k
    }
  }
  const add = function * (chunk: VideoChunk): Generator<VideoUnit> {
    const plans = planner.push(chunk)
    if (held.length === 0 && !chunk.key) { base = planner.packets; return } // before the first key frame: never decoded
    held.push(chunk)
    yield * take(plans)
  }
  for await (const packet of sink.packets()) {
    throwIfAborted(opts.signal)
    for (const chunk of times.push(toChunk(packet))) yield * add(chunk)
  }
  throwIfAborted(opts.signal)
  for (const chunk of times.end()) yield * add(chunk)
  yield * take(planner.end())
}
