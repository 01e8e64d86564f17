/** Helpers shared by the core's unit tests (pure: no test-runner imports). */
import { Rng } from './sim/prng.js'

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
