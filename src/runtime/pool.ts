/**
 * The worker pool, environment-free. The environment comes in as a
 * `spawn` function (pool-spawn.browser.ts: Web Workers; pool-spawn.node.ts:
 * worker_threads); index.ts and index.browser.ts bind one.
 *
 * One task per worker at a time. A worker whose task runs past its deadline,
 * or whose caller aborts, is terminated (synchronous WebAssembly cannot be
 * interrupted any other way) and replaced by a fresh one.
 */
import { AbortedError, DeadlineExceededError, InvalidModuleError, WorkerLostError } from '../core/errors.js'
import { checkMemoryPages, DEFAULT_MAX_MODULE_BYTES, inspectModule } from './abi.js'
import { fromWireError, ModuleNotCachedError, PoolNotRunningError } from './errors.js'
import type { FromWorker, ToWorker } from './executor.js'

/** One worker as the pool sees it. */
export interface WorkerPort {
  post(msg: ToWorker, transfer: ArrayBuffer[]): void
  /** Registers the single message handler. */
  onMessage(handler: (msg: FromWorker) => void): void
  /** Called once if the worker dies on its own (crash, exit). */
  onExit(handler: (err: Error) => void): void
  terminate(): void
}

export type SpawnWorker = () => WorkerPort

export interface AbortOptions {
  signal?: AbortSignal
}

export interface RunOptions extends AbortOptions {
  /** Called when the task leaves the pool's queue for a worker (a slot was free). */
  onStart?: () => void
}

export interface TaskLimits {
  /** Memory cap in 64 KiB pages. */
  memoryPages: number
  /** Deadline for the task once a worker picks it up, in milliseconds. */
  timeoutMs: number
}

export interface PoolTask {
  /** Content id of the module (its CID). The pool trusts key and bytes to match. */
  key: string
  /** Module bytes; may be left out once the pool has seen `key`. */
  module?: Uint8Array
  entry: string
  input: Uint8Array
  params?: Uint8Array
  /** Filled in from the pool's defaults where left out. */
  limits?: Partial<TaskLimits>
}

/**
 * A program task (executor.ts): code of the worker's own that runs one task
 * through several modules, many calls each, without the data leaving the
 * worker — 'chain' (built in: one input through modules in order) or one a
 * worker entry adds ('video-unit' in the browser: decode, the filter chain
 * on every frame, encode). Each module keeps a function's sandbox (ABI
 * checks, allowed imports, its own memory cap, named in the program's
 * params); the pool gives the task a deadline and cancellation, as to any.
 */
export interface ProgramTask {
  program: string
  /** Modules by position, bytes always sent (programs take few, small modules; workers keep them compiled). */
  modules: Array<{ key: string, module: Uint8Array }>
  input: Uint8Array
  params?: Uint8Array
  /** Deadline once a worker picks the task up (default: the pool's). */
  limits?: { timeoutMs?: number }
}

export interface TaskResult {
  output: Uint8Array
  /** Time inside the worker: instantiate, call, copy out. */
  ms: number
  /** Whether the module was compiled for this task (false: warm). */
  compiled: boolean
  /** Index of the worker slot that ran it. */
  worker: number
}

export interface PoolStats {
  size: number
  /** Workers started and waiting for a task. */
  idle: number
  busy: number
  queued: number
  /** Modules compiled by all workers, ever: a warm run does not add to it. */
  compiles: number
  /** Workers terminated and replaced (deadline, abort, crash). */
  replaced: number
  /** Module keys the pool holds bytes for. */
  modules: number
}

export interface WorkerPoolInit {
  spawn: SpawnWorker
  /** Number of workers (default 2). */
  size?: number
  /** Defaults for tasks that leave limits out (16 pages, 10 s). */
  limits?: Partial<TaskLimits>
  maxModuleBytes?: number
  /** Total bytes of modules the pool keeps for re-sending (default 64 MiB). */
  maxStoredBytes?: number
}

export interface WorkerPool {
  start(): void
  stop(): void
  run(task: PoolTask, options?: RunOptions): Promise<TaskResult>
  /** Runs a program in one worker, as one task (a slot, a deadline, cancellation). */
  runProgram(task: ProgramTask, options?: RunOptions): Promise<TaskResult>
  stats(): PoolStats
  /** Keys of the modules the pool holds, most recently used last (for the registry's cache summary). */
  cachedKeys(): string[]
}

const MAX_FAILED_STARTS = 3

export const DEFAULT_TASK_LIMITS: TaskLimits = { memoryPages: 16, timeoutMs: 10_000 }

interface Job {
  /** A function task; for a program, its first module stands in (slot choice, errors). */
  task: PoolTask
  program?: ProgramTask
  limits: TaskLimits
  resolve: (r: TaskResult) => void
  reject: (e: Error) => void
  onStart?: () => void
  signal?: AbortSignal
  onAbort?: () => void
  resent: boolean
}

interface Slot {
  index: number
  port: WorkerPort
  ready: boolean
  /** Keys whose bytes this worker has been sent. */
  keys: Set<string>
  job: Job | null
  runId: number
  timer: ReturnType<typeof setTimeout> | null
}

export function createWorkerPool (init: WorkerPoolInit): WorkerPool {
  const size = init.size ?? 2
  const maxModuleBytes = init.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES
  const maxStoredBytes = init.maxStoredBytes ?? 64 * 1024 * 1024
  const modules = new Map<string, Uint8Array>()
  let storedBytes = 0
  let slots: Slot[] = []
  let queue: Job[] = []
  let running = false
  let nextRunId = 1
  let compiles = 0
  let replaced = 0
  // Workers that died before saying ready, in a row: a broken worker script
  // must not turn into an endless respawn loop.
  let failedStarts = 0
  let startError: Error | null = null

  function store (key: string, bytes: Uint8Array): void {
    const old = modules.get(key)
    if (old != null) { modules.delete(key); modules.set(key, old); return }
    modules.set(key, bytes)
    storedBytes += bytes.length
    for (const [k, b] of modules) {
      if (storedBytes <= maxStoredBytes || k === key) break
      modules.delete(k)
      storedBytes -= b.length
    }
  }

  function forget (key: string): void {
    const bytes = modules.get(key)
    if (bytes == null) return
    modules.delete(key)
    storedBytes -= bytes.length
  }

  function spawnSlot (index: number): Slot {
    const slot: Slot = { index, port: init.spawn(), ready: false, keys: new Set(), job: null, runId: 0, timer: null }
    slot.port.onMessage((msg) => { onMessage(slot, msg) })
    slot.port.onExit((err) => {
      if (slots[slot.index] !== slot) return
      if (!slot.ready && ++failedStarts >= MAX_FAILED_STARTS) {
        startError = new WorkerLostError(`workers fail to start: ${err.message}`)
        for (const job of queue) job.reject(startError)
        queue = []
      }
      replace(slot, new WorkerLostError(`worker ${slot.index} exited: ${err.message}`))
    })
    return slot
  }

  function finish (slot: Slot): Job | null {
    const job = slot.job
    slot.job = null
    if (slot.timer != null) clearTimeout(slot.timer)
    slot.timer = null
    if (job?.onAbort != null) job.signal?.removeEventListener('abort', job.onAbort)
    return job
  }

  /** Kills a slot's worker, fails its task with `err`, and starts a fresh worker. */
  function replace (slot: Slot, err: Error): void {
    const job = finish(slot)
    slot.port.terminate()
    replaced++
    if (running && startError == null) slots[slot.index] = spawnSlot(slot.index)
    job?.reject(err)
    dispatch()
  }

  function onMessage (slot: Slot, msg: FromWorker): void {
    if (slots[slot.index] !== slot) return
    if (msg.type === 'ready') {
      slot.ready = true
      failedStarts = 0
      dispatch()
      return
    }
    if (slot.job == null || msg.id !== slot.runId) return
    if (msg.type === 'done') {
      if (msg.compiled) compiles++
      const job = finish(slot)
      job?.resolve({ output: msg.output, ms: msg.ms, compiled: msg.compiled, worker: slot.index })
    } else {
      const err = fromWireError(msg.error)
      const job = finish(slot)
      // (a program sends its modules' bytes every time: nothing to resend)
      if (job != null && job.program == null && (err instanceof ModuleNotCachedError || err instanceof InvalidModuleError)) {
        slot.keys.delete(job.task.key)
        // Bytes that do not compile are not worth keeping for a resend.
        if (err instanceof InvalidModuleError) forget(job.task.key)
      }
      // The worker may have evicted a module we thought it held: send it again once.
      if (job != null && job.program == null && err instanceof ModuleNotCachedError && !job.resent && modules.has(job.task.key)) {
        job.resent = true
        queue.unshift(job)
      } else {
        job?.reject(err)
      }
    }
    dispatch()
  }

  function pickSlot (job: Job): Slot | undefined {
    const idle = slots.filter(s => s.ready && s.job == null)
    return idle.find(s => s.keys.has(job.task.key)) ?? idle[0]
  }

  function send (slot: Slot, job: Job): void {
    const { task, limits, program } = job
    const bytes = slot.keys.has(task.key) ? undefined : (task.module ?? modules.get(task.key))
    slot.job = job
    slot.runId = nextRunId++
    // Copies: the caller keeps its buffers, and ours are transferred away.
    // (new Uint8Array(view) copies; a Node Buffer's slice() would not, and
    // transferring its pooled ArrayBuffer would detach every Buffer on it.)
    const input = new Uint8Array(program?.input ?? task.input)
    const params = new Uint8Array(program?.params ?? task.params ?? new Uint8Array(0))
    let msg: ToWorker
    if (program != null) {
      for (const m of program.modules) slot.keys.add(m.key)
      msg = { type: 'program', id: slot.runId, program: program.program, modules: program.modules, input, params }
    } else {
      slot.keys.add(task.key)
      msg = { type: 'run', id: slot.runId, key: task.key, entry: task.entry, input, params, memoryPages: limits.memoryPages }
      if (bytes != null) msg.module = bytes
    }
    slot.timer = setTimeout(() => {
      const what = program != null ? `program "${program.program}"` : `"${task.entry}" of module ${task.key}`
      replace(slot, new DeadlineExceededError(`${what} ran past its ${limits.timeoutMs} ms deadline; its worker was terminated`))
    }, limits.timeoutMs)
    slot.port.post(msg, [input.buffer, params.buffer])
    // after the post: what the caller does on start (a progress report to
    // encode and send) overlaps the worker's run instead of delaying it.
    // Once only: a job resent after its module was evicted started already
    const onStart = job.onStart
    job.onStart = undefined
    onStart?.()
  }

  function dispatch (): void {
    if (!running) return
    const waiting: Job[] = []
    for (const job of queue) {
      const slot = pickSlot(job)
      if (slot == null) waiting.push(job)
      else send(slot, job)
    }
    queue = waiting
  }

  function validate (task: PoolTask): TaskLimits {
    const limits = { ...DEFAULT_TASK_LIMITS, ...init.limits, ...task.limits }
    if (typeof task.key !== 'string' || task.key === '') throw new ModuleNotCachedError('task has no module key')
    checkMemoryPages(limits.memoryPages)
    if (!(limits.timeoutMs > 0)) throw new DeadlineExceededError(`timeoutMs must be positive, not ${limits.timeoutMs}`)
    if (task.module != null) {
      // Structural checks only: cheap enough for the caller's thread, and a
      // bad module is refused before it costs a worker.
      if (!modules.has(task.key)) inspectModule(task.module, { maxBytes: maxModuleBytes, validate: false })
      store(task.key, task.module)
    } else if (!modules.has(task.key) && !slots.some(s => s.keys.has(task.key))) {
      throw new ModuleNotCachedError(`module ${task.key} is not cached in the pool; send its bytes with the task`)
    }
    return limits
  }

  function validateProgram (p: ProgramTask): TaskLimits {
    const limits = { ...DEFAULT_TASK_LIMITS, ...init.limits, ...p.limits }
    if (typeof p.program !== 'string' || p.program === '') throw new InvalidModuleError('program task names no program')
    if (!(limits.timeoutMs > 0)) throw new DeadlineExceededError(`timeoutMs must be positive, not ${limits.timeoutMs}`)
    for (const m of p.modules) {
      if (typeof m.key !== 'string' || m.key === '') throw new ModuleNotCachedError('program module has no key')
      // the same structural checks as a function's module, before it costs a worker
      if (!modules.has(m.key)) inspectModule(m.module, { maxBytes: maxModuleBytes, validate: false })
      store(m.key, m.module)
    }
    return limits
  }

  async function runProgram (program: ProgramTask, options: RunOptions = {}): Promise<TaskResult> {
    if (options.signal?.aborted === true) throw new AbortedError('task aborted before it started')
    if (!running) throw new PoolNotRunningError('worker pool is not running; call start() first')
    if (startError != null) throw startError
    const limits = validateProgram(program)
    const first = program.modules[0]
    const stand = { key: first?.key ?? `program:${program.program}`, entry: program.program, input: program.input }
    return await enqueue(stand, limits, options, program)
  }

  async function run (task: PoolTask, options: RunOptions = {}): Promise<TaskResult> {
    const { signal } = options
    if (signal?.aborted === true) throw new AbortedError('task aborted before it started')
    if (!running) throw new PoolNotRunningError('worker pool is not running; call start() first')
    if (startError != null) throw startError
    const limits = validate(task)
    return await enqueue(task, limits, options)
  }

  async function enqueue (task: PoolTask, limits: TaskLimits, options: RunOptions, program?: ProgramTask): Promise<TaskResult> {
    const { signal } = options
    return await new Promise<TaskResult>((resolve, reject) => {
      const job: Job = { task, program, limits, resolve, reject, resent: false, onStart: options.onStart }
      if (signal != null) {
        job.signal = signal
        job.onAbort = () => {
          const slot = slots.find(s => s.job === job)
          if (slot != null) {
            replace(slot, new AbortedError(`task "${task.entry}" aborted; its worker was terminated`))
          } else {
            queue = queue.filter(j => j !== job)
            reject(new AbortedError(`task "${task.entry}" aborted while queued`))
          }
        }
        signal.addEventListener('abort', job.onAbort, { once: true })
      }
      queue.push(job)
      dispatch()
    })
  }

  return {
    start () {
      if (running) return
      running = true
      failedStarts = 0
      startError = null
      slots = Array.from({ length: size }, (_, i) => spawnSlot(i))
    },
    stop () {
      if (!running) return
      running = false
      const jobs = [...slots.map(s => finish(s)), ...queue]
      queue = []
      for (const s of slots) s.port.terminate()
      slots = []
      for (const job of jobs) {
        if (job == null) continue
        if (job.onAbort != null) job.signal?.removeEventListener('abort', job.onAbort)
        job.reject(new AbortedError('worker pool stopped'))
      }
    },
    run,
    runProgram,
    cachedKeys: () => [...modules.keys()],
    stats () {
      return {
        size,
        idle: slots.filter(s => s.ready && s.job == null).length,
        busy: slots.filter(s => s.job != null).length,
        queued: queue.length,
        compiles,
        replaced,
        modules: modules.size
      }
    }
  }
}
