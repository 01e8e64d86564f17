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
  if (req.ioBytes != null && caps.maxIoBytes != null && req.ioBytes > caps.maxIoBytes) unmet.push(`room for ${req.ioBytes}-byte inputs and outputs`)
  if (req.kinds != null && req.kinds.length > 0 && !req.kinds.includes(caps.kind)) {
    unmet.push(`${/^[aeiou]|^mcu/.test(req.kinds[0]) ? 'an' : 'a'} ${req.kinds.join(' or ')} peer`)
  }
  return unmet
}

export function satisfies (caps: Capabilities, req: Requirement): boolean {
  return unmetRequirements(caps, req).length === 0
}

export function formatPages (pages: number): string {
  const kib = pages * 64
  return kib >= 1024 ? `${(kib / 1024).toFixed(kib % 1024 === 0 ? 0 : 1)} MiB` : `${kib} KiB`
}
