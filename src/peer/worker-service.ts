import { logger } from '@libp2p/logger'
import { InvalidModuleError } from '../core/errors.js'
import { MAX_INLINE_BYTES, PROGRESS_EVERY_MS } from '../core/protocol/task.js'
import { rawCid } from '../storage/blocks.js'
import { FunctionCache } from './function-cache.js'
import type { DataRef, TaskRequest } from '../core/protocol/task.js'
import type { FedraBlocks } from '../storage/blocks.js'
import type { FunctionRunner } from './types.js'

const log = logger('fedra:peer:worker')

export interface WorkerServiceInit {
  blocks: FedraBlocks
  runner: FunctionRunner
  cache?: FunctionCache
}

/**
 * The volunteer side of a peer: resolves a task's function and input (pushed
 * inline, cached, or pulled by CID over bitswap), runs it in the pool, and
 * returns or stores the output. Keeps the load figures the heartbeat carries.
 */
export class WorkerService {
  readonly functions: FunctionCache
  queued = 0
  running = 0
  completed = 0
  /**
   * Fault injection, for testing what the room does with a dishonest or
   * broken volunteer: `corruptOutputs` flips a bit in every result.
   */
  readonly faults = { corruptOutputs: false }

  constructor (private readonly init: WorkerServiceInit) {
    this.functions = init.cache ?? new FunctionCache()
  }

  private async moduleBytes (req: TaskRequest, signal: AbortSignal): Promise<Uint8Array> {
    const cached = this.functions.get(req.fn.cid)
    if (cached != null) return cached
    let bytes = req.fn.bytes
    if (bytes != null) {
      // pushed bytes must be what the CID names, or anyone could swap the code
      if (await rawCid(bytes) !== req.fn.cid) throw new InvalidModuleError(`module bytes do not match ${req.fn.cid}`)
      await this.init.blocks.put(bytes, { signal })
    } else {
      bytes = await this.init.blocks.get(req.fn.cid, { signal })
    }
    this.functions.set(req.fn.cid, bytes)
    return bytes
  }

  private async inputBytes (input: DataRef, signal: AbortSignal): Promise<Uint8Array> {
    return 'bytes' in input ? input.bytes : await this.init.blocks.get(input.cid, { signal })
  }

  /**
   * `onProgress` is called when the task leaves the queue for a slot of the
   * runner (the submitter tells waiting from running by it), then every
   * `PROGRESS_EVERY_MS` while it runs (the submitter notices a silent
   * worker by their absence).
   */
  async handle (req: TaskRequest, signal: AbortSignal, onProgress?: () => void): Promise<{ output: DataRef, ms: number }> {
    this.queued++
    let started = false
    let beat: ReturnType<typeof setInterval> | undefined
    const onStart = onProgress == null
      ? undefined
      : () => {
          onProgress()
          beat = setInterval(onProgress, PROGRESS_EVERY_MS)
        }
    try {
      // fetching by CID is bounded by the task's deadline: a CID nobody holds
      // fails the task instead of waiting forever
      const fetchSignal = AbortSignal.any([signal, AbortSignal.timeout(req.limits.timeoutMs)])
      const [module, input] = await Promise.all([this.moduleBytes(req, fetchSignal), this.inputBytes(req.input, fetchSignal)])
      this.queued--
      this.running++
      started = true
      const { output, ms } = await this.init.runner.run({
        key: req.fn.cid, module, entry: req.entry, input, params: req.params, limits: req.limits
      }, { signal, onStart })
      this.completed++
      if (this.faults.corruptOutputs && output.byteLength > 0) output[0] ^= 0x01
      // too big to ride back inline: store it, the submitter fetches it by CID
      if (req.output === 'store' || output.byteLength > MAX_INLINE_BYTES) return { output: { cid: await this.init.blocks.put(output, { signal }) }, ms }
      return { output: { bytes: output }, ms }
    } catch (err) {
      log('task %s failed: %s', req.id, (err as Error).message)
      throw err
    } finally {
      if (beat != null) clearInterval(beat)
      if (started) this.running--
      else this.queued--
    }
  }
}
