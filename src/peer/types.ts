import type { VideoChain } from '../core/media/chain.js'
import type { TaskLimits } from '../core/protocol/task.js'
import type { SuiteTask } from '../runtime/runner-suite.js'

/** The slice of the runtime's worker pool a peer uses to run functions. */
export interface FunctionRunner {
  run: (task: SuiteTask, options?: {
    signal?: AbortSignal
    /**
     * Called when the task leaves the runner's queue and starts running. A
     * submitter moves tasks that have not started to workers that come free
     * (and judges lateness from the start), so call it when a slot is taken.
     */
    onStart?: () => void
  }) => Promise<{ output: Uint8Array, ms: number }>
  start?: () => void | Promise<void>
  stop?: () => void | Promise<void>
}

/**
 * Runs one video unit (src/core/media): decode, the chain's filters on
 * every frame, encode. Only peers with WebCodecs have one; admission keeps
 * video units off the others.
 */
export interface VideoUnitRunner {
  run: (task: {
    chain: VideoChain
    /** The chain's filter modules, in its order (the build this peer runs). */
    modules: Array<{ key: string, bytes: Uint8Array }>
    /** The encoded unit (src/core/media/units.ts). */
    input: Uint8Array
    limits: TaskLimits
  }, options?: { signal?: AbortSignal, onStart?: () => void }) => Promise<{ output: Uint8Array, ms: number }>
}
