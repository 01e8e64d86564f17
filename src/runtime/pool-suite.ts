/**
 * Compliance checks every worker pool twin must pass (worker_threads in
 * Node, Web Workers in the browser). Free of any test runner: each check is
 * an async function that throws on failure, so vitest runs them in Node
 * (pool.test.ts) and a Playwright page can run the very same code in a
 * browser. Errors are compared by `code`, which survives minification.
 */
import { AbortedError, DeadlineExceededError, FunctionTrapError, InvalidModuleError, MemoryLimitError } from '../core/errors.js'
import { encodeImageParams } from '../filters/catalog.js'
import * as ref from '../filters/reference.js'
import { ModuleNotCachedError, PoolNotRunningError } from './errors.js'
import type { TaskLimits, WorkerPool, WorkerPoolInit } from './pool.js'

export interface PoolSuiteFixtures {
  createWorkerPool(init: Partial<WorkerPoolInit>): WorkerPool
  /** A built filter from public/filters, by name (`grayscale`, `echo`, …). */
  filter(name: string): Promise<Uint8Array>
  /** A hostile test module, by name (`loop`, `memhog`, `trap`, `badptr`, `forbidden`). */
  hostile(name: string): Promise<Uint8Array>
}

export interface PoolCheck {
  name: string
  run(): Promise<void>
}

export interface PoolSuite {
  /** Starts a 2-worker pool and waits until both workers are ready. */
  setup(): Promise<void>
  teardown(): void
  checks: PoolCheck[]
}

const limits: TaskLimits = { memoryPages: 16, timeoutMs: 5000 }
const none = new Uint8Array(0)

function assert (cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(`check failed: ${message}`)
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

async function rejects (p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  try {
    await p
  } catch (err) {
    const e = err as { code?: string, message?: string }
    assert(e.code === code, `expected ${code}, got ${e.code ?? 'no code'}: ${e.message ?? String(err)}`)
    if (pattern != null) assert(pattern.test(e.message ?? ''), `message "${e.message ?? ''}" does not match ${String(pattern)}`)
    return
  }
  throw new Error(`check failed: expected ${code}, but the task succeeded`)
}

async function until (cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`check failed: timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

function pseudoRandom (length: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = 0x2545f491
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

export function poolSuite (fx: PoolSuiteFixtures): PoolSuite {
  let pool: WorkerPool | null = null
  const p = (): WorkerPool => {
    if (pool == null) throw new Error('poolSuite: setup() was not called')
    return pool
  }
  const idle = async (): Promise<void> => { await until(() => p().stats().idle === 2, 15_000, 'two idle workers') }

  const checks: PoolCheck[] = [
    {
      name: 'runs grayscale in a worker, byte-identical to the reference',
      async run () {
        const img = { data: pseudoRandom(64 * 64 * 4), width: 64, height: 64 }
        const res = await p().run({ key: 'grayscale', module: await fx.filter('grayscale'), entry: 'grayscale', input: img.data, params: encodeImageParams(64, 64), limits })
        assert(sameBytes(res.output, ref.grayscale(img)), 'output equals the reference')
        assert(res.ms >= 0, 'ms is reported')
        assert(img.data.length === 64 * 64 * 4, "the caller's input buffer is not transferred away")
      }
    },
    {
      name: 'runs tasks in parallel, one per worker',
      async run () {
        await idle()
        const echo = await fx.filter('echo')
        const a = p().run({ key: 'echo', module: echo, entry: 'echo', input: new Uint8Array([1]), limits })
        const b = p().run({ key: 'echo', module: echo, entry: 'echo', input: new Uint8Array([2]), limits })
        assert(p().stats().busy === 2, 'both workers busy at once')
        const [ra, rb] = await Promise.all([a, b])
        assert(ra.output[0] === 1 && rb.output[0] === 2, 'each task gets its own output')
        assert(ra.worker !== rb.worker, 'tasks ran on different workers')
      }
    },
    {
      name: 'keeps compiled modules warm: the second run does not compile',
      async run () {
        await idle()
        const params = encodeImageParams(2, 2)
        const first = await p().run({ key: 'invert', module: await fx.filter('invert'), entry: 'invert', input: new Uint8Array(16), params, limits })
        const compiles = p().stats().compiles
        const second = await p().run({ key: 'invert', entry: 'invert', input: new Uint8Array(16), params, limits })
        assert(first.compiled && !second.compiled, 'first run compiles, second does not')
        assert(second.worker === first.worker, 'the warm worker is preferred')
        assert(p().stats().compiles === compiles, 'compile counter unchanged')
        assert(sameBytes(second.output.subarray(0, 4), new Uint8Array([255, 255, 255, 0])), 'inverted')
      }
    },
    {
      name: 'rejects an unknown key sent without bytes',
      async run () {
        await rejects(p().run({ key: 'never-seen', entry: 'x', input: none, limits }), ModuleNotCachedError.code)
      }
    },
    {
      name: 'terminates a task past its deadline, replaces the worker and keeps serving',
      async run () {
        await idle()
        const replaced = p().stats().replaced
        await rejects(p().run({ key: 'loop', module: await fx.hostile('loop'), entry: 'spin', input: none, limits: { memoryPages: 1, timeoutMs: 300 } }), DeadlineExceededError.code)
        assert(p().stats().replaced === replaced + 1, 'one worker replaced')
        await idle()
        const ok = await p().run({ key: 'echo', module: await fx.filter('echo'), entry: 'echo', input: new Uint8Array([7]), limits })
        assert(ok.output[0] === 7, 'next task succeeds')
      }
    },
    {
      name: 'an abort signal terminates the running task with AbortedError',
      async run () {
        await idle()
        const ac = new AbortController()
        const task = p().run({ key: 'loop', module: await fx.hostile('loop'), entry: 'spin', input: none, limits: { memoryPages: 1, timeoutMs: 30_000 } }, { signal: ac.signal })
        setTimeout(() => { ac.abort() }, 50)
        await rejects(task, AbortedError.code)
        await rejects(p().run({ key: 'echo', module: await fx.filter('echo'), entry: 'echo', input: none, limits }, { signal: AbortSignal.abort() }), AbortedError.code)
        await idle()
        const ok = await p().run({ key: 'echo', module: await fx.filter('echo'), entry: 'echo', input: new Uint8Array([3]), limits })
        assert(ok.output[0] === 3, 'next task succeeds')
      }
    },
    {
      name: 'survives hostile modules with typed errors',
      async run () {
        await rejects(p().run({ key: 'memhog', module: await fx.hostile('memhog'), entry: 'hog', input: none, limits: { memoryPages: 32, timeoutMs: 5000 } }), MemoryLimitError.code)
        await rejects(p().run({ key: 'trap', module: await fx.hostile('trap'), entry: 'crash', input: none, limits }), FunctionTrapError.code, /unreachable/)
        await rejects(p().run({ key: 'badptr', module: await fx.hostile('badptr'), entry: 'lie', input: none, limits }), InvalidModuleError.code, /outside the module's/)
        await rejects(p().run({ key: 'forbidden', module: await fx.hostile('forbidden'), entry: 'steal', input: none, limits }), InvalidModuleError.code, /env\.fetch/)
        await rejects(p().run({ key: 'garbage', module: pseudoRandom(300), entry: 'x', input: none, limits }), InvalidModuleError.code)
        const ok = await p().run({ key: 'echo', module: await fx.filter('echo'), entry: 'echo', input: new Uint8Array([5, 6]), limits })
        assert(sameBytes(ok.output, new Uint8Array([5, 6])), 'pool still serves')
      }
    },
    {
      name: 'queues tasks beyond its size and runs them all',
      async run () {
        const echo = await fx.filter('echo')
        const results = await Promise.all(Array.from({ length: 9 }, async (_, i) =>
          await p().run({ key: 'echo', module: echo, entry: 'echo', input: new Uint8Array([i]), limits })))
        assert(results.every((r, i) => r.output[0] === i), 'every queued task answered in kind')
      }
    },
    {
      name: 'says when a queued task starts: only once a worker is free for it',
      async run () {
        await idle()
        const loop = await fx.hostile('loop')
        const spin = { key: 'loop', module: loop, entry: 'spin', input: none, limits: { memoryPages: 1, timeoutMs: 30_000 } }
        const acs = [new AbortController(), new AbortController()]
        const busy = acs.map(async ac => await p().run(spin, { signal: ac.signal }).catch(() => undefined))
        const started: string[] = []
        const queued = p().run({ key: 'echo', module: await fx.filter('echo'), entry: 'echo', input: new Uint8Array([9]), limits }, { onStart: () => { started.push('echo') } })
        await new Promise(resolve => setTimeout(resolve, 100))
        const starts = (): number => started.length
        assert(starts() === 0, 'not started while both workers spin')
        acs[0].abort()
        const r = await queued
        assert(starts() === 1 && r.output[0] === 9, 'started once, when a worker freed, and ran')
        acs[1].abort()
        await Promise.all(busy)
      }
    },
    {
      name: 'stop() rejects pending tasks; run() needs start()',
      async run () {
        const other = fx.createWorkerPool({ size: 1 })
        const echo = await fx.filter('echo')
        await rejects(other.run({ key: 'echo', module: echo, entry: 'echo', input: none, limits }), PoolNotRunningError.code)
        other.start()
        const pending = other.run({ key: 'echo', module: echo, entry: 'echo', input: none, limits })
        other.stop()
        await rejects(pending, AbortedError.code)
      }
    }
  ]

  return {
    async setup () {
      pool = fx.createWorkerPool({ size: 2 })
      pool.start()
      await idle()
    },
    teardown () {
      pool?.stop()
      pool = null
    },
    checks
  }
}
