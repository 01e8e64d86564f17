/**
 * What runs inside one worker: a cache of compiled modules and the ABI call.
 * Free of any environment API, so the same code serves Web Workers,
 * worker_threads and in-process use. Each function task gets a fresh
 * instance of a warm WebAssembly.Module: instantiation is cheap, and no
 * state leaks from one task (or one failure) to the next. A worker makes
 * the instance for the next task of the same module once it has answered
 * (`prepare`), so instantiation is off the round trip. A program task
 * (below) gets fresh instances too, and may call each many times.
 */
import { FunctionFailedError, FunctionTrapError, InvalidModuleError } from '../core/errors.js'
import { applyMemoryCap, callEntry, callEntryView, checkMemoryPages, hostImports, inspectModule, type InspectOptions } from './abi.js'
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
  /** Instantiation (unless a spare was ready: `Executor.prepare`) + call + output copy, in milliseconds. */
  ms: number
  /** Whether this task had to compile the module. */
  compiled: boolean
}

export interface ExecutorInit {
  /** Compiled modules kept warm (per key and memory cap); default 32. */
  maxModules?: number
  inspect?: InspectOptions
}

/**
 * One instance of a module under a memory cap, called many times (the ABI
 * allows a host to reuse an instance: the first `fedra_alloc` after an entry
 * call starts a new task). `call` copies the input in and returns the output
 * as a view of the instance's memory, valid until the next call.
 */
export interface AbiInstance {
  call(entry: string, input: Uint8Array, params: Uint8Array): Uint8Array
  /** Whether the module was compiled for this instance (false: warm). */
  readonly compiled: boolean
}

export interface Executor {
  run(req: ExecRequest): Promise<ExecResult>
  /** A fresh instance of a module (bytes needed the first time the executor sees `key`). */
  instantiate(req: { key: string, module?: Uint8Array, memoryPages: number }): Promise<AbiInstance>
  /** Modules compiled since creation (cache misses). */
  readonly compiles: number
  has(key: string): boolean
  /**
   * Makes a fresh instance of the module the last function task ran, ahead
   * of the next task of it (call once a result is sent: the work is off the
   * round trip). Every task still gets an instance no task has called.
   */
  prepare(): void
}

/** Function tasks under a memory cap of at most this many pages get a spare instance made ahead. */
export const SPARE_MAX_PAGES = 64

interface Warm {
  bytes: Uint8Array
  /** Compiled per memory cap, since the cap is written into the module. */
  compiled: Map<number, WebAssembly.Module>
}

const now = (): number => globalThis.performance?.now() ?? Date.now()

/**
 * A compiled module's instance, made synchronously: in a worker that saves
 * the promise's extra task hop (~0.1 ms of a warm task's ~0.3 ms in
 * Chromium). Undefined where the embedder refuses synchronous instantiation
 * (a browser's main thread, for large modules: a RangeError): the caller
 * falls back to `WebAssembly.instantiate`. Link errors and start-function
 * traps throw as they would from it.
 */
function instantiateNow (module: WebAssembly.Module, imports: WebAssembly.Imports): WebAssembly.Instance | undefined {
  try {
    return new WebAssembly.Instance(module, imports)
  } catch (err) {
    if (err instanceof RangeError) return undefined
    throw err
  }
}

export function createExecutor (init: ExecutorInit = {}): Executor {
  const maxModules = init.maxModules ?? 32
  // Map order is insertion order: re-inserting on use makes it an LRU.
  const cache = new Map<string, Warm>()
  let compiles = 0
  // the module of the last function task (small caps only), and a fresh
  // instance of it made by `prepare`, kept for the next task of that module
  let last: { key: string, module: WebAssembly.Module } | undefined
  let spare: { module: WebAssembly.Module, instance: Promise<WebAssembly.Instance> } | undefined

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

  async function instanceOf (key: string, module: WebAssembly.Module): Promise<WebAssembly.Instance> {
    let memory: WebAssembly.Memory | undefined
    let instance: WebAssembly.Instance
    const imports = hostImports(() => memory)
    try {
      instance = instantiateNow(module, imports) ?? await WebAssembly.instantiate(module, imports)
    } catch (err) {
      // A start function that traps, or data that does not fit the memory.
      if (err instanceof FunctionTrapError) throw err
      if (err instanceof WebAssembly.RuntimeError) throw new FunctionTrapError(`start function trapped: ${err.message}`)
      throw new InvalidModuleError(`module ${key} does not instantiate: ${err instanceof Error ? err.message : String(err)}`)
    }
    const exported = instance.exports.memory
    memory = exported instanceof WebAssembly.Memory ? exported : undefined
    return instance
  }

  async function run (req: ExecRequest): Promise<ExecResult> {
    checkMemoryPages(req.memoryPages)
    const { module, compiled } = await moduleFor(req)
    const started = now()
    // a spare is taken once, and only by a task of its own module and cap
    const ready = spare?.module === module ? spare.instance : undefined
    spare = undefined
    last = req.memoryPages <= SPARE_MAX_PAGES ? { key: req.key, module } : undefined
    const instance = await (ready ?? instanceOf(req.key, module))
    const output = callEntry(instance.exports, req.entry, req.input, req.params, { memoryPages: req.memoryPages })
    return { output, ms: now() - started, compiled }
  }

  function prepare (): void {
    if (last == null || spare != null) return
    const instance = instanceOf(last.key, last.module)
    // its failure (a start function that traps) is the next task's, when it takes it
    instance.catch(() => {})
    spare = { module: last.module, instance }
  }

  async function instantiate (req: { key: string, module?: Uint8Array, memoryPages: number }): Promise<AbiInstance> {
    checkMemoryPages(req.memoryPages)
    const { module, compiled } = await moduleFor({ ...req, entry: '', input: new Uint8Array(0), params: new Uint8Array(0) })
    const { exports } = await instanceOf(req.key, module)
    const limits = { memoryPages: req.memoryPages }
    return {
      compiled,
      call: (entry, input, params) => callEntryView(exports, entry, input, params, limits)
    }
  }

  return {
    run,
    instantiate,
    prepare,
    get compiles () { return compiles },
    has: (key) => cache.has(key)
  }
}

/**
 * A program: code of the worker's own (not a module) that runs one task
 * through the task's modules, many calls each — a filter chain over a
 * frame, or a whole video unit (decode, the chain on every frame, encode)
 * — so that the data never leaves the worker between calls. Modules keep
 * the sandbox of a function: the ABI checks, the import allow-list and a
 * memory cap each; the pool keeps the deadline and cancellation.
 */
export interface ProgramRequest {
  program: string
  /** The modules, by position; the program names them by index. */
  modules: Array<{ key: string, module: Uint8Array }>
  input: Uint8Array
  params: Uint8Array
}

/** What a program gets from the worker: instances of the request's modules. */
export interface ProgramHost {
  /** A fresh instance of module `index` under a memory cap of `memoryPages`. */
  instantiate(index: number, memoryPages: number): Promise<AbiInstance>
}

export type Program = (req: ProgramRequest, host: ProgramHost) => Promise<Uint8Array>

/** Programs by name; each loaded on first use (a worker that never runs one never loads its code). */
export type ProgramLoaders = Record<string, () => Promise<Program>>

/** Messages from the pool to a worker. */
export type ToWorker = ({ type: 'run', id: number } & ExecRequest) | ({ type: 'program', id: number } & ProgramRequest)

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

/** Runs a program request on an executor's warm modules. */
export async function runProgram (executor: Executor, programs: ProgramLoaders, req: ProgramRequest): Promise<ExecResult> {
  const load = Object.hasOwn(programs, req.program) ? programs[req.program] : undefined
  if (load == null) throw new FunctionFailedError(`this worker has no program "${req.program}"`)
  const program = await load()
  const started = now()
  let compiled = false
  const output = await program(req, {
    instantiate: async (index, memoryPages) => {
      const m = req.modules[index]
      if (m == null) throw new InvalidModuleError(`program "${req.program}" asked for module ${index} of ${req.modules.length}`)
      const instance = await executor.instantiate({ key: m.key, module: m.module, memoryPages })
      compiled ||= instance.compiled
      return instance
    }
  })
  return { output, ms: now() - started, compiled }
}

export interface ServeInit extends ExecutorInit {
  /** Programs this worker runs besides the built-in 'chain' (the browser's adds 'video-unit'). */
  programs?: ProgramLoaders
}

/** Serves run and program requests one at a time (the pool never sends two at once). */
export function serveExecutor (scope: WorkerScope, init: ServeInit = {}): void {
  const executor = createExecutor(init)
  // the built-in chain loads with its first task, like any program
  const programs: ProgramLoaders = { chain: async () => (await import('./chain.js')).chainProgram, ...init.programs }
  scope.listen((msg) => {
    if (msg?.type !== 'run' && msg?.type !== 'program') return
    const result = msg.type === 'run' ? executor.run(msg) : runProgram(executor, programs, msg)
    result.then(
      (res) => {
        // a view of a larger buffer is copied, not the whole buffer sent
        const output = res.output.byteOffset === 0 && res.output.byteLength === res.output.buffer.byteLength ? res.output : res.output.slice()
        scope.post({ type: 'done', id: msg.id, output, ms: res.ms, compiled: res.compiled }, [output.buffer as ArrayBuffer])
        if (msg.type === 'run') executor.prepare()
      },
      (err: unknown) => { scope.post({ type: 'error', id: msg.id, error: toWireError(err) }, []) }
    )
  })
  scope.post({ type: 'ready' }, [])
}
