/**
 * Browser twin of pool-spawn.node.ts: workers are module Web Workers. The
 * `new Worker(new URL(...), { type: 'module' })` form must stay literal so
 * that Vite finds and bundles the worker entry.
 */
import type { FromWorker, ToWorker } from './executor.js'
import type { SpawnWorker, WorkerPort } from './pool.js'

export const spawnWorker: SpawnWorker = (): WorkerPort => {
  const worker = new Worker(new URL('./worker.browser.ts', import.meta.url), { type: 'module' })
  let ended = false
  let onExit: ((err: Error) => void) | null = null
  const end = (err: Error): void => {
    if (ended) return
    ended = true
    onExit?.(err)
  }
  worker.addEventListener('error', (ev) => { ev.preventDefault(); end(new Error(ev.message === '' ? 'worker error' : ev.message)) })
  worker.addEventListener('messageerror', () => { end(new Error('worker message could not be decoded')) })
  return {
    post: (msg: ToWorker, transfer) => { worker.postMessage(msg, transfer) },
    onMessage: (handler) => { worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => { handler(ev.data) }) },
    onExit: (handler) => { onExit = handler },
    terminate: () => {
      ended = true
      worker.terminate()
    }
  }
}
