/**
 * The runtime for the web app: Web Workers. Node code imports index.ts
 * instead; both export the same API.
 */
import { createWorkerPool as createPool, type WorkerPool, type WorkerPoolInit } from './pool.js'
import { spawnWorker } from './pool-spawn.browser.js'

export * from './shared.js'
export { describeRuntime } from './capabilities.browser.js'

export function createWorkerPool (init: Partial<WorkerPoolInit> = {}): WorkerPool {
  return createPool({ ...init, spawn: init.spawn ?? spawnWorker })
}
