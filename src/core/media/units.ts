import { InvalidMessageError } from '../errors.js'
import { decodeMessage, encodeMessage } from '../protocol/codec.js'
import { asObject, readBool, readBytes, readInt, readString, readVersion } from '../protocol/validate.js'
import type { Obj } from '../protocol/validate.js'

/**
 * The video work unit and its result, and their wire form (see
 * docs/video.md). A unit is encoded video, never raw frames: whole GOPs in
 * decode order, so a worker needs nothing but the unit to decode it.
 */

/** One encoded frame. Times in microseconds; `timestamp` is the presentation time. */
export interface VideoChunk {
  key: boolean
  timestamp: number
  duration: number
  data: Uint8Array
}

/** A WebCodecs decoder configuration, reduced to what travels. */
export interface VideoCodecConfig {
  codec: string
  codedWidth: number
  codedHeight: number
  displayWidth?: number
  displayHeight?: number
  /** Codec-private data (H.264 avcC, …); absent for VP8/VP9. */
  description?: Uint8Array
}

/**
 * A work unit: chunks in decode order from a key frame; the first `skip`
 * chunks only prime the decoder (a long GOP split), their frames are not
 * output.
 */
export interface VideoUnit {
  index: number
  config: VideoCodecConfig
  chunks: VideoChunk[]
  skip: number
}

/** What a worker returns for a unit: the filtered frames re-encoded from a key frame by a new encoder. */
export interface VideoUnitResult {
  index: number
  /** The encoder's decoder config (what the muxer needs). */
  config: VideoCodecConfig
  chunks: VideoChunk[]
  /** Frames output (the unit's chunks after `skip`). */
  frames: number
  /**
   * SHA-256 hex of the filtered RGBA frames in presentation order, before
   * encoding: SHA-256 over the concatenated SHA-256 digests of each frame's
   * tightly packed RGBA bytes (width × height × 4).
   */
  hash: string
}

export interface VideoUnitLimits {
  /** Size of the whole message (default 64 MiB). */
  maxBytes?: number
  /** Chunks in one unit or result (default 16 384). */
  maxChunks?: number
}

export const VIDEO_UNIT_VERSION = 1
export const DEFAULT_MAX_UNIT_BYTES = 64 * 1024 * 1024
export const DEFAULT_MAX_UNIT_CHUNKS = 16_384
/** Frame sides above this are refused (WebCodecs implementations stop at 8K–16K). */
export const MAX_VIDEO_SIDE = 16_384
const MAX_CODEC_LENGTH = 128
const MAX_DESCRIPTION_BYTES = 64 * 1024
const MAX_UNITS = 1 << 24
const MAX_TIME_US = Number.MAX_SAFE_INTEGER
const HASH_RE = /^[0-9a-f]{64}$/

/** The timestamps (µs) of the frames a unit outputs: those of its chunks after `skip`. */
export function outputTimestamps (u: Pick<VideoUnit, 'chunks' | 'skip'>): number[] {
  return u.chunks.slice(u.skip).map(c => c.timestamp)
}

/** Encoded size of a unit's chunk data, bytes (for progress and placement). */
export function chunkBytes (chunks: readonly VideoChunk[]): number {
  let n = 0
  for (const c of chunks) n += c.data.byteLength
  return n
}

function configToWire (c: VideoCodecConfig): Obj {
  return {
    codec: c.codec,
    w: c.codedWidth,
    h: c.codedHeight,
    dw: c.displayWidth,
    dh: c.displayHeight,
    desc: c.description
  }
}

function chunksToWire (chunks: readonly VideoChunk[]): Obj[] {
  return chunks.map(c => ({ k: c.key, ts: c.timestamp, d: c.duration, b: c.data }))
}

export function encodeVideoUnit (u: VideoUnit): Uint8Array {
  checkSkip(u.skip, u.chunks.length, 'video unit')
  return encodeMessage({ v: VIDEO_UNIT_VERSION, t: 'video-unit', index: u.index, config: configToWire(u.config), skip: u.skip, chunks: chunksToWire(u.chunks) })
}

export function encodeVideoUnitResult (r: VideoUnitResult): Uint8Array {
  return encodeMessage({ v: VIDEO_UNIT_VERSION, t: 'video-result', index: r.index, config: configToWire(r.config), frames: r.frames, hash: r.hash, chunks: chunksToWire(r.chunks) })
}

export function decodeVideoUnit (b: Uint8Array, limits: VideoUnitLimits = {}): VideoUnit {
  const o = readEnvelope(b, limits, 'video-unit', 'video unit')
  const chunks = readChunks(o, limits, 'video unit')
  const skip = readInt(o, 'skip', 'video unit', 0, chunks.length - 1)
  checkSkip(skip, chunks.length, 'video unit')
  return { index: readInt(o, 'index', 'video unit', 0, MAX_UNITS), config: readConfig(o.config, 'video unit.config'), chunks, skip }
}

export function decodeVideoUnitResult (b: Uint8Array, limits: VideoUnitLimits = {}): VideoUnitResult {
  const o = readEnvelope(b, limits, 'video-result', 'video result')
  const chunks = readChunks(o, limits, 'video result')
  const hash = readString(o, 'hash', 'video result', 64)
  if (!HASH_RE.test(hash)) throw new InvalidMessageError('video result.hash must be 64 lowercase hex digits (SHA-256)')
  return {
    index: readInt(o, 'index', 'video result', 0, MAX_UNITS),
    config: readConfig(o.config, 'video result.config'),
    chunks,
    frames: readInt(o, 'frames', 'video result', 1, limits.maxChunks ?? DEFAULT_MAX_UNIT_CHUNKS),
    hash
  }
}

function readEnvelope (b: Uint8Array, limits: VideoUnitLimits, type: string, what: string): Obj {
  const o = asObject(decodeMessage(b, { maxBytes: limits.maxBytes ?? DEFAULT_MAX_UNIT_BYTES }), what)
  readVersion(o, VIDEO_UNIT_VERSION, what)
  if (o.t !== type) throw new InvalidMessageError(`${what}.t must be '${type}'`)
  return o
}

function readConfig (value: unknown, what: string): VideoCodecConfig {
  const o = asObject(value, what)
  const codec = readString(o, 'codec', what, MAX_CODEC_LENGTH)
  if (codec === '') throw new InvalidMessageError(`${what}.codec must not be empty`)
  const config: VideoCodecConfig = {
    codec,
    codedWidth: readInt(o, 'w', what, 1, MAX_VIDEO_SIDE),
    codedHeight: readInt(o, 'h', what, 1, MAX_VIDEO_SIDE)
  }
  if ((o.dw == null) !== (o.dh == null)) throw new InvalidMessageError(`${what} must hold both display sides or neither`)
  if (o.dw != null) {
    config.displayWidth = readInt(o, 'dw', what, 1, MAX_VIDEO_SIDE)
    config.displayHeight = readInt(o, 'dh', what, 1, MAX_VIDEO_SIDE)
  }
  if (o.desc != null) config.description = readBytes(o, 'desc', what, MAX_DESCRIPTION_BYTES)
  return config
}

function readChunks (o: Obj, limits: VideoUnitLimits, what: string): VideoChunk[] {
  const max = limits.maxChunks ?? DEFAULT_MAX_UNIT_CHUNKS
  const list = o.chunks
  if (!Array.isArray(list) || list.length === 0 || list.length > max) {
    throw new InvalidMessageError(`${what}.chunks must be a list of 1 to ${max} chunks`)
  }
  const chunks: VideoChunk[] = []
  for (let i = 0; i < list.length; i++) {
    const at = `${what}.chunks[${i}]`
    const c = asObject(list[i], at)
    chunks.push({
      key: readBool(c, 'k', at),
      timestamp: readInt(c, 'ts', at, -MAX_TIME_US, MAX_TIME_US),
      duration: readInt(c, 'd', at, 0, MAX_TIME_US),
      // the message size already bounds every chunk
      data: readBytes(c, 'b', at, Number.MAX_SAFE_INTEGER)
    })
  }
  if (!chunks[0].key) throw new InvalidMessageError(`${what}.chunks[0] must be a key frame`)
  return chunks
}

function checkSkip (skip: number, count: number, what: string): void {
  if (!Number.isInteger(skip) || skip < 0 || skip >= count) {
    throw new InvalidMessageError(`${what}.skip (${skip}) must leave at least one of its ${count} chunks to output`)
  }
}
