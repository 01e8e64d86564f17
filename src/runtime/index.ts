/**
 * The runtime for Node (relay's fog worker, bridge, tests): worker_threads.
 * The web app imports index.browser.ts instead; both export the same API.
 */
import { createWorkerPool as createPool, type WorkerPool, type WorkerPoolInit } from './pool.js'
import { spawnWorker } from './pool-spawn.node.js'

export * from './shared.js'
export { describeRuntime } from './capabilities.node.js'
export { nodeSpawner, type NodeSpawnOptions } from './pool-spawn.node.js'

export function createWorkerPool (init: Partial<WorkerPoolInit> = {}): WorkerPool {
  return createPool({ ...init, spawn: init.spawn ?? spawnWorker })
}
