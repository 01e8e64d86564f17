import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { AbortedError, DeadlineExceededError, InvalidModuleError, ModuleNotCachedError, WorkerLostError } from '../core/errors.js'
import type { FunctionRunner } from '../peer/types.js'
import type { BoardClient } from './board-client.js'

/** The board names a module by the 32-byte SHA-256 digest inside its CID. */
export function boardKey (cid: string): Uint8Array {
  const c = CID.parse(cid)
  if (c.multihash.code !== sha256.code || c.multihash.digest.byteLength !== 32) {
    throw new InvalidModuleError(`${cid} is not named by a SHA-256 hash; the board cannot check it`)
  }
  return c.multihash.digest
}

export interface BoardRunStats {
  tasks: number
  instructions: bigint
  cycles: number
}

/**
 * Runs a peer's tasks on a board: uploads the module once (the board caches
 * it by digest), RUN with the task's deadline, and maps board errors to Fedra
 * errors. As many tasks as the board has task slots run on it at once (it
 * interleaves them); more wait here, not in the board's own queue, so that
 * `onStart` and the deadline start when the board really takes the task up.
 */
export class BoardRunner implements FunctionRunner {
  readonly stats: BoardRunStats = { tasks: 0, instructions: 0n, cycles: 0 }
  private active = 0
  private readonly queue: Array<() => void> = []

  constructor (private readonly client: () => BoardClient | undefined, private readonly onStart?: (entry: string) => void) {}

  private async slot (signal?: AbortSignal): Promise<() => void> {
    const max = this.client()?.caps?.taskSlots ?? 1
    if (this.active >= max) {
      await new Promise<void>((resolve, reject) => {
        const go = (): void => { signal?.removeEventListener('abort', stop); resolve() }
        const stop = (): void => { this.queue.splice(this.queue.indexOf(go), 1); reject(new AbortedError('task aborted while queued for the board')) }
        this.queue.push(go)
        signal?.addEventListener('abort', stop, { once: true })
      })
    }
    this.active++
    return () => {
      this.active--
      this.queue.shift()?.()
    }
  }

  async run (task: Parameters<FunctionRunner['run']>[0], options: { signal?: AbortSignal, onStart?: () => void } = {}): Promise<{ output: Uint8Array, ms: number }> {
    if (options.signal?.aborted === true) throw new AbortedError('task aborted before it started')
    const release = await this.slot(options.signal)
    try {
      const board = this.client()
      if (board == null || board.closed) throw new WorkerLostError('no board is connected')
      if (task.module == null) throw new ModuleNotCachedError(`module ${task.key} was not provided`)
      const key = boardKey(task.key)
      const signal = AbortSignal.any([AbortSignal.timeout(task.limits.timeoutMs), ...(options.signal != null ? [options.signal] : [])])
      // BoardClient does not see a signal that aborted before its request
      // (while this task waited for a slot, or between two requests)
      const check = (): void => {
        if (options.signal?.aborted === true) throw new AbortedError(`task "${task.entry}" aborted`)
        if (signal.aborted) throw new DeadlineExceededError(`"${task.entry}" ran past its ${task.limits.timeoutMs} ms deadline`)
      }
      check()
      const t0 = performance.now()
      this.onStart?.(task.entry)
      options.onStart?.()
      await board.ensureModule(key, task.module, { signal })
      let r
      try {
        check()
        r = await board.run({ key, entry: task.entry, input: task.input, params: task.params, signal })
      } catch (err) {
        // the board evicted the module since we checked: upload and retry once
        if (err instanceof ModuleNotCachedError) {
          await board.ensureModule(key, task.module, { signal, force: true })
          check()
          r = await board.run({ key, entry: task.entry, input: task.input, params: task.params, signal })
        } else {
          throw err
        }
      }
      this.stats.tasks++
      this.stats.instructions += r.instructions
      this.stats.cycles += r.cycles
      return { output: r.output, ms: performance.now() - t0 }
    } finally {
      release()
    }
  }
}
