/** The environment-free part of the runtime's public API, re-exported by both index files. */
export {
  ABI_VERSION, PAGE_SIZE, DEFAULT_MAX_MODULE_BYTES, MAX_MEMORY_PAGES, DEFAULT_ALLOWED_IMPORTS,
  inspectModule, applyMemoryCap, callEntry, hostImports,
  type AllowedImport, type InspectOptions, type ModuleInfo, type ModuleImportInfo, type CallLimits
} from './abi.js'
export { ModuleNotCachedError, PoolNotRunningError } from './errors.js'
export { createExecutor, type Executor, type ExecutorInit, type ExecRequest, type ExecResult } from './executor.js'
export {
  type WorkerPool, type WorkerPoolInit, type PoolTask, type TaskLimits, type TaskResult, type PoolStats,
  type SpawnWorker, type WorkerPort, type AbortOptions, DEFAULT_TASK_LIMITS
} from './pool.js'
export type { RuntimeCapabilities } from './capabilities.js'
