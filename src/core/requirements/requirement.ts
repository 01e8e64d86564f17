import { codecFamily, codecWords } from '../media/chain.js'
import type { Capabilities, RuntimeKind } from './capabilities.js'

export const CAPABILITY_FLAGS = ['wasmSimd', 'wasmThreads', 'webgpu', 'videoDecode', 'videoEncode'] as const
export type CapabilityFlag = typeof CAPABILITY_FLAGS[number]

/** What one function of a job needs from the worker that runs it. */
export interface Requirement {
  runtime: RuntimeKind
  /** Linear memory the function may use, in 64 KiB pages. */
  memoryPages: number
  capabilities?: CapabilityFlag[]
  /** Refuse workers whose kind is not listed (e.g. keep a job off microcontrollers). */
  kinds?: Array<Capabilities['kind']>
  /** Bytes of the task's input and of its output, whichever is larger. */
  ioBytes?: number
  /** Video units: the worker decodes `decode` and encodes `encode` (WebCodecs codec strings, matched by family). */
  video?: { decode: string, encode: string }
}

const FLAG_WORDS: Record<CapabilityFlag, string> = {
  wasmSimd: 'WASM SIMD',
  wasmThreads: 'WASM threads',
  webgpu: 'WebGPU',
  videoDecode: 'a video decoder',
  videoEncode: 'a video encoder'
}

function hasFlag (caps: Capabilities, flag: CapabilityFlag): boolean {
  switch (flag) {
    case 'videoDecode': return caps.videoDecode.length > 0
    case 'videoEncode': return caps.videoEncode.length > 0
    default: return caps[flag]
  }
}

/**
 * The requirements a worker does not meet, in words a user understands.
 * Empty means the worker fits.
 */
export function unmetRequirements (caps: Capabilities, req: Requirement): string[] {
  const unmet: string[] = []
  if (!caps.runtimes.includes(req.runtime)) unmet.push(`the ${req.runtime} runtime`)
  if (caps.maxMemoryPages < req.memoryPages) unmet.push(`${formatPages(req.memoryPages)} of function memory`)
  for (const flag of req.capabilities ?? []) {
    if (!hasFlag(caps, flag)) unmet.push(FLAG_WORDS[flag])
  }
  if (req.video != null) {
    if (!offersCodec(caps.videoDecode, req.video.decode)) unmet.push(`${withArticle(codecWords(req.video.decode))} video decoder`)
    if (!offersCodec(caps.videoEncode, req.video.encode)) unmet.push(`${withArticle(codecWords(req.video.encode))} video encoder`)
  }
  if (req.ioBytes != null && caps.maxIoBytes != null && req.ioBytes > caps.maxIoBytes) unmet.push(`room for ${req.ioBytes}-byte inputs and outputs`)
  if (req.kinds != null && req.kinds.length > 0 && !req.kinds.includes(caps.kind)) {
    unmet.push(`${/^[aeiou]|^mcu/.test(req.kinds[0]) ? 'an' : 'a'} ${req.kinds.join(' or ')} peer`)
  }
  return unmet
}

/** Codec names are read letter by letter: an H.264, an AV1, a VP8. */
function withArticle (name: string): string {
  return `${/^[AEFHILMNORSX]/.test(name) ? 'an' : 'a'} ${name}`
}

function offersCodec (offered: readonly string[], codec: string): boolean {
  const family = codecFamily(codec)
  return offered.some(c => c === codec || (family != null && codecFamily(c) === family))
}

export function satisfies (caps: Capabilities, req: Requirement): boolean {
  return unmetRequirements(caps, req).length === 0
}

export function formatPages (pages: number): string {
  const kib = pages * 64
  return kib >= 1024 ? `${(kib / 1024).toFixed(kib % 1024 === 0 ? 0 : 1)} MiB` : `${kib} KiB`
}
