/**
 * The worker pool's compliance suite: every case of the runner suite
 * (runner-suite.ts), which the board runner passes too, plus what only a
 * pool offers: workers seen one by one, compiled modules kept warm, a known
 * module run by key alone, workers replaced, start/stop. Both twins run it:
 * worker_threads in pool.test.ts, Web Workers in Chromium in e2e/pool.spec.ts.
 */
import { AbortedError, DeadlineExceededError, PoolNotRunningError } from '../core/errors.js'
import { encodeImageParams } from '../filters/catalog.js'
import { MAX_MEMORY_PAGES } from './abi.js'
import type { WorkerPool, WorkerPoolInit } from './pool.js'
import { assert, limits, moduleKey, none, rejects, runnerSuite, sameBytes, until } from './runner-suite.js'
import type { RunnerClaims, Suite, SuiteCase, SuiteModuleName } from './runner-suite.js'

export interface PoolSuiteFixtures {
  createWorkerPool(init: Partial<WorkerPoolInit>): WorkerPool
  /** A module's bytes, by name (suiteModules() in test-support.ts reads them in Node). */
  module(name: SuiteModuleName): Promise<Uint8Array>
}

const SIZE = 2

/** What a 2-worker pool claims: a tab's memory cap (src/ui/capabilities.ts gives 4096 pages), no I/O limit. */
export const POOL_CLAIMS: RunnerClaims = { slots: SIZE, maxMemoryPages: Math.min(4096, MAX_MEMORY_PAGES) }

export function poolSuite (fx: PoolSuiteFixtures): Suite {
  let pool: WorkerPool | null = null
  const p = (): WorkerPool => {
    if (pool == null) throw new Error('poolSuite: setup() was not called')
    return pool
  }
  const idle = async (): Promise<void> => { await until(() => p().stats().idle === SIZE, 15_000, `${SIZE} idle workers`) }
  const mod = async (name: SuiteModuleName): Promise<{ key: string, module: Uint8Array }> => {
    const module = await fx.module(name)
    return { key: await moduleKey(module), module }
  }

  const poolOnly: SuiteCase[] = [
    {
      name: 'pool: runs one task per worker, on different workers at once',
      async run () {
        await idle()
        const { key, module } = await mod('echo')
        const a = p().run({ key, module, entry: 'echo', input: new Uint8Array([1]), limits })
        const b = p().run({ key, module, entry: 'echo', input: new Uint8Array([2]), limits })
        assert(p().stats().busy === 2, 'both workers busy at once')
        const [ra, rb] = await Promise.all([a, b])
        assert(ra.output[0] === 1 && rb.output[0] === 2, 'each task gets its own output')
        assert(ra.worker !== rb.worker, 'tasks ran on different workers')
      }
    },
    {
      name: 'pool: keeps compiled modules warm and runs a module it holds by key alone',
      async run () {
        await idle()
        const params = encodeImageParams(2, 2)
        const { key, module } = await mod('invert')
        const first = await p().run({ key, module, entry: 'invert', input: new Uint8Array(16), params, limits })
        const compiles = p().stats().compiles
        const second = await p().run({ key, entry: 'invert', input: new Uint8Array(16), params, limits })
        assert(first.compiled && !second.compiled, 'first run compiles, second does not')
        assert(second.worker === first.worker, 'the warm worker is preferred')
        assert(p().stats().compiles === compiles, 'compile counter unchanged')
        assert(p().cachedKeys().includes(key), 'the key is in the cache summary')
        assert(sameBytes(second.output.subarray(0, 4), new Uint8Array([255, 255, 255, 0])), 'inverted')
      }
    },
    {
      name: 'pool: replaces the worker it kills at a deadline or an abort',
      async run () {
        await idle()
        const { key, module } = await mod('loop')
        const replaced = p().stats().replaced
        await rejects(p().run({ key, module, entry: 'spin', input: none, limits: { memoryPages: 1, timeoutMs: 300 } }), DeadlineExceededError.code)
        assert(p().stats().replaced === replaced + 1, 'one worker replaced at the deadline')
        const ac = new AbortController()
        const spin = p().run({ key, entry: 'spin', input: none, limits: { memoryPages: 1, timeoutMs: 30_000 } }, { signal: ac.signal, onStart: () => { setTimeout(() => { ac.abort() }, 50) } })
        await rejects(spin, AbortedError.code)
        assert(p().stats().replaced === replaced + 2, 'one more replaced at the abort')
        await idle()
      }
    },
    {
      name: 'pool: stop() rejects pending tasks; run() needs start()',
      async run () {
        const other = fx.createWorkerPool({ size: 1 })
        const { key, module } = await mod('echo')
        await rejects(other.run({ key, module, entry: 'echo', input: none, limits }), PoolNotRunningError.code)
        other.start()
        const pending = other.run({ key, module, entry: 'echo', input: none, limits })
        other.stop()
        await rejects(pending, AbortedError.code)
      }
    }
  ]

  const cases = [
    ...runnerSuite({ claims: POOL_CLAIMS, module: fx.module, runner: p, settle: idle }),
    ...poolOnly
  ]

  return {
    async setup () {
      pool = fx.createWorkerPool({ size: SIZE })
      pool.start()
      await idle()
    },
    async teardown () {
      pool?.stop()
      pool = null
    },
    cases
  }
}
