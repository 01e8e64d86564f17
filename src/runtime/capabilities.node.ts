import { availableParallelism, totalmem } from 'node:os'
import { probeWasm, type RuntimeCapabilities } from './capabilities.js'

export function describeRuntime (): RuntimeCapabilities {
  const wasm = probeWasm()
  return {
    cores: availableParallelism(),
    memoryMB: Math.floor(totalmem() / (1024 * 1024)),
    wasmSimd: wasm.wasmSimd,
    // worker_threads share memory without any isolation requirement.
    wasmThreads: wasm.wasmThreadsValid
  }
}
