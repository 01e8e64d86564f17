/**
 * Node twin of pool-spawn.browser.ts: workers are worker_threads. The entry
 * (worker.node.mjs) loads the TypeScript worker through tsx; pass `workerUrl`
 * to use a prebuilt JavaScript worker instead.
 */
import { Worker } from 'node:worker_threads'
import type { FromWorker, ToWorker } from './executor.js'
import type { SpawnWorker, WorkerPort } from './pool.js'

export interface NodeSpawnOptions {
  workerUrl?: URL
  /** Heap limit per worker for its JS objects (WebAssembly memory is separate). */
  maxOldGenerationSizeMb?: number
}

export function nodeSpawner (opts: NodeSpawnOptions = {}): SpawnWorker {
  const url = opts.workerUrl ?? new URL('./worker.node.mjs', import.meta.url)
  return (): WorkerPort => {
    const worker = new Worker(url, {
      // The parent's flags (test runners', loaders') are no business of a worker.
      execArgv: [],
      resourceLimits: opts.maxOldGenerationSizeMb != null ? { maxOldGenerationSizeMb: opts.maxOldGenerationSizeMb } : undefined
    })
    // An idle worker must not keep the process alive.
    worker.unref()
    let ended = false
    let onExit: ((err: Error) => void) | null = null
    const end = (err: Error): void => {
      if (ended) return
      ended = true
      onExit?.(err)
    }
    worker.on('error', (err) => { end(err) })
    worker.on('exit', (code) => { end(new Error(`exit code ${code}`)) })
    return {
      post: (msg: ToWorker, transfer) => { worker.postMessage(msg, transfer) },
      onMessage: (handler) => { worker.on('message', (m: FromWorker) => { handler(m) }) },
      onExit: (handler) => { onExit = handler },
      terminate: () => {
        ended = true
        void worker.terminate()
      }
    }
  }
}

export const spawnWorker: SpawnWorker = (() => {
  let spawner: SpawnWorker | null = null
  return () => (spawner ??= nodeSpawner())()
})()
