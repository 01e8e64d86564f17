/** Helpers shared by the core's unit tests (pure: no test-runner imports). */
import { Rng } from './sim/prng.js'
import type { Capabilities } from './requirements/capabilities.js'

/** A seeded uniform [0, 1) generator, for property tests that repeat exactly. */
export function prng (seed: number): () => number {
  const rng = new Rng(seed)
  return () => rng.next()
}

/** Runs `fn` and returns what it threw; fails the test when it does not throw. */
export function thrown (fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw')
}

/** A plain WASM-only browser worker; tests override what they look at. */
export function testCaps (over: Partial<Capabilities> = {}): Capabilities {
  return {
    kind: 'browser',
    cores: 4,
    memoryMB: 8192,
    maxMemoryPages: 16384,
    slots: 1,
    wasmSimd: false,
    wasmThreads: false,
    webgpu: false,
    videoDecode: [],
    videoEncode: [],
    runtimes: ['wasm'],
    ...over
  }
}
