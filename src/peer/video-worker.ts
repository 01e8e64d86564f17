import { AbortedError, DeadlineExceededError } from '../core/errors.js'
import { encodeImageParams } from '../filters/catalog.js'
import { decodeVideoUnit, encodeVideoUnitResult } from '../core/media/units.js'
import { runVideoUnit } from '../media/step.js'
import type { FunctionRunner, VideoUnitRunner } from './types.js'

/**
 * The browser's video units: WebCodecs decodes and encodes on this page,
 * each frame goes through the chain's filters in the worker pool (the same
 * sandbox, memory caps and deadlines as any function), one pool call per
 * filter per frame, all inside one task.
 */
export function browserVideoRunner (pool: FunctionRunner): VideoUnitRunner {
  return {
    async run (task, options = {}) {
      const t0 = performance.now()
      const unit = decodeVideoUnit(task.input)
      options.onStart?.()
      const { chain, modules, limits } = task
      const filter = async (rgba: Uint8Array, width: number, height: number): Promise<Uint8Array> => {
        let frame = rgba
        for (let i = 0; i < chain.filters.length; i++) {
          const f = chain.filters[i]
          const r = await pool.run({
            key: modules[i].key,
            module: modules[i].bytes,
            entry: f.entry,
            input: frame,
            params: encodeImageParams(width, height, f.values),
            limits: { memoryPages: f.memoryPages, timeoutMs: limits.timeoutMs }
          }, { signal: options.signal })
          frame = r.output
        }
        return frame
      }
      // the unit's deadline covers the codecs too: a decoder or encoder that
      // never answers fails the task (another worker gets it), not the job
      const deadline = AbortSignal.timeout(limits.timeoutMs)
      const signal = options.signal != null ? AbortSignal.any([options.signal, deadline]) : deadline
      let stop = (): void => {}
      const stopped = new Promise<never>((_resolve, reject) => {
        stop = () => {
          reject(deadline.aborted ? new DeadlineExceededError(`unit ${unit.index} took longer than ${limits.timeoutMs} ms`) : new AbortedError(`unit ${unit.index} was cancelled`))
        }
      })
      if (signal.aborted) stop()
      signal.addEventListener('abort', stop, { once: true })
      let result
      try {
        result = await Promise.race([runVideoUnit(unit, filter, { codec: chain.codec, bitrate: chain.bitrate, signal }), stopped])
      } finally {
        signal.removeEventListener('abort', stop)
      }
      return { output: encodeVideoUnitResult(result), ms: performance.now() - t0 }
    }
  }
}
