/**
 * The runtime's part of a peer's capability announcement. The WebAssembly
 * probes are shared; cores and memory come from the environment twins
 * (capabilities.node.ts, capabilities.browser.ts).
 */

export interface RuntimeCapabilities {
  cores: number
  /** Device memory in MiB; browsers report it coarsely (Chromium: at most 8 GiB). */
  memoryMB: number
  wasmSimd: boolean
  /** Shared memory and atomics usable from here (browsers: only when cross-origin isolated). */
  wasmThreads: boolean
}

// (func (result v128) i32.const 0 i32x4.splat)
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11, 0x0b
])

// (memory 1 1 shared) (func i32.const 0 i32.atomic.load drop)
const THREADS_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
  0x03, 0x02, 0x01, 0x00,
  0x05, 0x04, 0x01, 0x03, 0x01, 0x01,
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a, 0x0b
])

function validates (bytes: Uint8Array): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)
  } catch {
    return false
  }
}

export function probeWasm (): { wasmSimd: boolean, wasmThreadsValid: boolean } {
  return {
    wasmSimd: validates(SIMD_PROBE),
    wasmThreadsValid: validates(THREADS_PROBE) && typeof SharedArrayBuffer === 'function'
  }
}
