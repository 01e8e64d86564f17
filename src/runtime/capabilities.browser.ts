import { probeWasm, type RuntimeCapabilities } from './capabilities.js'

// Browsers without navigator.deviceMemory (Firefox, Safari) get a modest
// guess, so that admission control neither trusts nor ignores them.
const UNKNOWN_DEVICE_MEMORY_GB = 2

export function describeRuntime (): RuntimeCapabilities {
  const nav = globalThis.navigator as (Navigator & { deviceMemory?: number }) | undefined
  const wasm = probeWasm()
  return {
    cores: Math.max(1, nav?.hardwareConcurrency ?? 1),
    memoryMB: Math.round((nav?.deviceMemory ?? UNKNOWN_DEVICE_MEMORY_GB) * 1024),
    wasmSimd: wasm.wasmSimd,
    wasmThreads: wasm.wasmThreadsValid && globalThis.crossOriginIsolated === true
  }
}
