import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidModuleError, ModuleNotCachedError, WorkerLostError } from '../core/errors.js'
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
 * errors. Several tasks may be on the board at once (its task slots
 * interleave them); more wait here.
 */
export class BoardRunner implements FunctionRunner {
  readonly stats: BoardRunStats = { tasks: 0, instructions: 0n, cycles: 0 }
  private active = 0
  private readonly queue: Array<() => void> = []

  constructor (private readonly client: () => BoardClient | undefined, private readonly onStart?: (entry: string) => void) {}

  private async slot (signal?: AbortSignal): Promise<() => void> {
    const max = this.client()?.caps?.maxTasks ?? 1
    if (this.active >= max) {
      await new Promise<void>((resolve, reject) => {
        const go = (): void => { signal?.removeEventListener('abort', stop); resolve() }
        const stop = (): void => { this.queue.splice(this.queue.indexOf(go), 1); reject(signal?.reason) }
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
    const release = await this.slot(options.signal)
    try {
      const board = this.client()
      if (board == null || board.closed) throw new WorkerLostError('no board is connected')
      if (task.module == null) throw new ModuleNotCachedError(`module ${task.key} was not provided`)
      const key = boardKey(task.key)
      const signal = AbortSignal.any([AbortSignal.timeout(task.limits.timeoutMs), ...(options.signal != null ? [options.signal] : [])])
      const t0 = performance.now()
      this.onStart?.(task.entry)
      options.onStart?.()
      await board.ensureModule(key, task.module, { signal })
      let r
      try {
        r = await board.run({ key, entry: task.entry, input: task.input, params: task.params, signal })
      } catch (err) {
        // the board evicted the module since we checked: upload and retry once
        if (err instanceof ModuleNotCachedError) {
          await board.ensureModule(key, task.module, { signal, force: true })
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
