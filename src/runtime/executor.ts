/**
 * What runs inside one worker: a cache of compiled modules and the ABI call.
 * Free of any environment API, so the same code serves Web Workers,
 * worker_threads and in-process use. Each task gets a fresh instance of a
 * warm WebAssembly.Module: instantiation is cheap, and no state leaks from
 * one task (or one failure) to the next.
 */
import { FunctionTrapError, InvalidModuleError } from '../core/errors.js'
import { applyMemoryCap, callEntry, checkMemoryPages, hostImports, inspectModule, type InspectOptions } from './abi.js'
import { ModuleNotCachedError, toWireError, type WireError } from './errors.js'

export interface ExecRequest {
  key: string
  /** Module bytes; needed only the first time this executor sees `key`. */
  module?: Uint8Array
  entry: string
  input: Uint8Array
  params: Uint8Array
  memoryPages: number
}

export interface ExecResult {
  output: Uint8Array
  /** Instantiation + call + output copy, in milliseconds. */
  ms: number
  /** Whether this task had to compile the module. */
  compiled: boolean
}

export interface ExecutorInit {
  /** Compiled modules kept warm (per key and memory cap); default 32. */
  maxModules?: number
  inspect?: InspectOptions
}

export interface Executor {
  run(req: ExecRequest): Promise<ExecResult>
  /** Modules compiled since creation (cache misses). */
  readonly compiles: number
  has(key: string): boolean
}

interface Warm {
  bytes: Uint8Array
  /** Compiled per memory cap, since the cap is written into the module. */
  compiled: Map<number, WebAssembly.Module>
}

const now = (): number => globalThis.performance?.now() ?? Date.now()

export function createExecutor (init: ExecutorInit = {}): Executor {
  const maxModules = init.maxModules ?? 32
  // Map order is insertion order: re-inserting on use makes it an LRU.
  const cache = new Map<string, Warm>()
  let compiles = 0

  function remember (key: string, warm: Warm): void {
    cache.delete(key)
    cache.set(key, warm)
    while (cache.size > maxModules) cache.delete(cache.keys().next().value as string)
  }

  async function moduleFor (req: ExecRequest): Promise<{ module: WebAssembly.Module, compiled: boolean }> {
    const warm = cache.get(req.key) ?? (req.module != null ? { bytes: req.module, compiled: new Map<number, WebAssembly.Module>() } : null)
    if (warm == null) throw new ModuleNotCachedError(`module ${req.key} is not cached in this worker and no bytes were sent`)
    const hit = warm.compiled.get(req.memoryPages)
    if (hit != null) {
      remember(req.key, warm)
      return { module: hit, compiled: false }
    }
    // Only modules that compile are remembered: a bad one costs nothing later.
    inspectModule(warm.bytes, { ...init.inspect, validate: false })
    const capped = applyMemoryCap(warm.bytes, req.memoryPages)
    let module: WebAssembly.Module
    try {
      module = await WebAssembly.compile(capped as Uint8Array<ArrayBuffer>)
    } catch (err) {
      throw new InvalidModuleError(`module ${req.key} does not compile: ${err instanceof Error ? err.message : String(err)}`)
    }
    compiles++
    warm.compiled.set(req.memoryPages, module)
    remember(req.key, warm)
    return { module, compiled: true }
  }

  async function run (req: ExecRequest): Promise<ExecResult> {
    checkMemoryPages(req.memoryPages)
    const { module, compiled } = await moduleFor(req)
    const started = now()
    let memory: WebAssembly.Memory | undefined
    let instance: WebAssembly.Instance
    try {
      instance = await WebAssembly.instantiate(module, hostImports(() => memory))
    } catch (err) {
      // A start function that traps, or data that does not fit the memory.
      if (err instanceof FunctionTrapError) throw err
      if (err instanceof WebAssembly.RuntimeError) throw new FunctionTrapError(`start function trapped: ${err.message}`)
      throw new InvalidModuleError(`module ${req.key} does not instantiate: ${err instanceof Error ? err.message : String(err)}`)
    }
    const exported = instance.exports.memory
    memory = exported instanceof WebAssembly.Memory ? exported : undefined
    const output = callEntry(instance.exports, req.entry, req.input, req.params, { memoryPages: req.memoryPages })
    return { output, ms: now() - started, compiled }
  }

  return {
    run,
    get compiles () { return compiles },
    has: (key) => cache.has(key)
  }
}

/** Messages from the pool to a worker. */
export type ToWorker = { type: 'run', id: number } & ExecRequest

/** Messages from a worker to the pool. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'done', id: number, output: Uint8Array, ms: number, compiled: boolean }
  | { type: 'error', id: number, error: WireError }

/** The two ends of a worker's message channel, as seen from inside it. */
export interface WorkerScope {
  post(msg: FromWorker, transfer: ArrayBuffer[]): void
  listen(handler: (msg: ToWorker) => void): void
}

/** Serves run requests one at a time (the pool never sends two at once). */
export function serveExecutor (scope: WorkerScope, init: ExecutorInit = {}): void {
  const executor = createExecutor(init)
  scope.listen((msg) => {
    if (msg?.type !== 'run') return
    executor.run(msg).then(
      (res) => { scope.post({ type: 'done', id: msg.id, output: res.output, ms: res.ms, compiled: res.compiled }, [res.output.buffer as ArrayBuffer]) },
      (err: unknown) => { scope.post({ type: 'error', id: msg.id, error: toWireError(err) }, []) }
    )
  })
  scope.post({ type: 'ready' }, [])
}
