import { InvalidMessageError } from '../errors.js'
import { decodeMessage, encodeMessage } from '../protocol/codec.js'
import { asObject, readInt, readOptionalString, readString, readVersion } from '../protocol/validate.js'

/**
 * What a worker runs on a video unit: a filter chain, applied in order to
 * every frame, and the codec the filtered frames are encoded to. It travels
 * as the task's function (stored by CID, pushed with the task like a small
 * module), so every unit of a job names the same chain and a worker that
 * ran one unit has it cached for the next.
 */
export const VIDEO_UNIT_ENTRY = 'fedra:video-unit'
export const VIDEO_CHAIN_VERSION = 1
/** Filters in one chain at most; a chain is one task per unit, not one per filter. */
export const MAX_CHAIN_FILTERS = 16
const MAX_CHAIN_BYTES = 16 * 1024
const MAX_FILTER_VALUES = 16

export interface ChainFilter {
  /** Scalar build, by CID: every WASM runtime runs it. */
  cid: string
  /** SIMD build of the same filter (identical output), for workers with WASM SIMD. */
  simdCid?: string
  entry: string
  /** The filter's own parameters (u32 each), after the frame's width and height (ABI v1 image params). */
  values: number[]
  /** Linear memory one call on one frame of the job may use, in 64 KiB pages. */
  memoryPages: number
}

export interface VideoChain {
  v: 1
  filters: ChainFilter[]
  /** Output codec (WebCodecs codec string) the worker encodes each unit with. */
  codec: string
  /** Encoder bit rate, bits/s. */
  bitrate: number
}

export function encodeVideoChain (chain: VideoChain): Uint8Array {
  return encodeMessage(chain)
}

export function decodeVideoChain (bytes: Uint8Array): VideoChain {
  const o = asObject(decodeMessage(bytes, { maxBytes: MAX_CHAIN_BYTES }), 'video chain')
  readVersion(o, VIDEO_CHAIN_VERSION, 'video chain')
  if (!Array.isArray(o.filters) || o.filters.length > MAX_CHAIN_FILTERS) {
    throw new InvalidMessageError(`video chain.filters must be a list of at most ${MAX_CHAIN_FILTERS} filters`)
  }
  const filters = o.filters.map((value, i): ChainFilter => {
    const what = `video chain.filters[${i}]`
    const f = asObject(value, what)
    if (!Array.isArray(f.values) || f.values.length > MAX_FILTER_VALUES ||
      !f.values.every(v => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
      throw new InvalidMessageError(`${what}.values must be at most ${MAX_FILTER_VALUES} unsigned 32-bit integers`)
    }
    const simdCid = readOptionalString(f, 'simdCid', what)
    return {
      cid: readString(f, 'cid', what),
      ...(simdCid != null ? { simdCid } : {}),
      entry: readString(f, 'entry', what, 64),
      values: f.values as number[],
      memoryPages: readInt(f, 'memoryPages', what, 1, 65536)
    }
  })
  return {
    v: 1,
    filters,
    codec: readString(o, 'codec', 'video chain', 64),
    bitrate: readInt(o, 'bitrate', 'video chain', 10_000, 100_000_000)
  }
}

export type CodecFamily = 'h264' | 'hevc' | 'vp8' | 'vp9' | 'av1'

const FAMILY_WORDS: Record<CodecFamily, string> = { h264: 'H.264', hevc: 'HEVC', vp8: 'VP8', vp9: 'VP9', av1: 'AV1' }

/**
 * The codec family of a WebCodecs codec string: a worker that decodes
 * `avc1.42001f` decodes the `avc1.64001f` of a phone's clip too, so
 * requirements and capabilities are matched by family.
 */
export function codecFamily (codec: string): CodecFamily | undefined {
  const c = codec.toLowerCase()
  if (c.startsWith('avc1') || c.startsWith('avc3') || c === 'h264') return 'h264'
  if (c.startsWith('hvc1') || c.startsWith('hev1') || c === 'hevc') return 'hevc'
  if (c === 'vp8') return 'vp8'
  if (c.startsWith('vp09') || c === 'vp9') return 'vp9'
  if (c.startsWith('av01') || c === 'av1') return 'av1'
  return undefined
}

export function codecWords (codec: string): string {
  const family = codecFamily(codec)
  return family != null ? FAMILY_WORDS[family] : codec
}
