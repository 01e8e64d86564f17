import { encodeVideoChain } from '../core/media/chain.js'
import { VIDEO_UNIT_PROGRAM } from '../media/unit-program.js'
import type { ProgramTask, TaskResult } from '../runtime/pool.js'
import type { FunctionRunner, VideoUnitRunner } from './types.js'

/** The pool's program entry (src/runtime/pool.ts): what the browser's worker pool offers besides functions. */
export interface ProgramRunner {
  runProgram(task: ProgramTask, options?: { signal?: AbortSignal, onStart?: () => void }): Promise<TaskResult>
}

/**
 * The browser's video units: one task of the page's worker pool per unit,
 * the 'video-unit' program (src/media/unit-program.ts), which decodes,
 * filters every frame through the chain and encodes inside one pool worker.
 * The filters keep the sandbox of any function (the ABI checks, allowed
 * imports, each filter's memory cap); the unit's deadline (`limits.timeoutMs`,
 * codecs included) and cancellation terminate that worker, as for a
 * function. The output is the encoded VideoUnitResult.
 */
export function browserVideoRunner (pool: FunctionRunner & ProgramRunner): VideoUnitRunner {
  return {
    async run (task, options = {}) {
      const { chain, modules, limits } = task
      const r = await pool.runProgram({
        program: VIDEO_UNIT_PROGRAM,
        modules: modules.map(m => ({ key: m.key, module: m.bytes })),
        input: task.input,
        params: encodeVideoChain(chain),
        limits: { timeoutMs: limits.timeoutMs }
      }, { signal: options.signal, onStart: options.onStart })
      return { output: r.output, ms: r.ms }
    }
  }
}
