/**
 * The compliance suite every function runner passes: the worker pool
 * (worker_threads in Node, Web Workers in a tab) and the board runner (the
 * firmware in QEMU through its serial protocol). It checks the contract of
 * `FunctionRunner` (src/peer/types.ts): results, failures as typed error
 * codes, deadlines, cancellation by AbortSignal, memory caps, hostile
 * modules refused, and slots with a queue.
 *
 * A runner declares what it offers in the terms it announces to the room
 * (`slots`, `maxMemoryPages`, `maxIoBytes` of its Capabilities); a case that
 * needs more is skipped, with the reason. Free of any test runner and of any
 * environment API: each case is an async function that throws on failure, so
 * vitest runs it in Node and a Playwright page runs the very same code in
 * Chromium. Errors are compared by `code`, which survives minification.
 */
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  AbortedError, DeadlineExceededError, FunctionFailedError, FunctionTrapError, InvalidModuleError, MemoryLimitError, ModuleNotCachedError
} from '../core/errors.js'
import type { Capabilities } from '../core/requirements/capabilities.js'
import { encodeImageParams } from '../filters/catalog.js'
import * as ref from '../filters/reference.js'
import type { TaskLimits } from './pool.js'

/**
 * The task a runner takes (`FunctionRunner`'s in src/peer/types.ts uses
 * this one: the runtime sits below the peer).
 */
export interface SuiteTask {
  /** The module's CID (CIDv1, raw, SHA-256 of its bytes: a board checks it). */
  key: string
  module?: Uint8Array
  entry: string
  input: Uint8Array
  params: Uint8Array
  limits: TaskLimits
}

export interface SuiteRunOptions {
  signal?: AbortSignal
  onStart?: () => void
}

export interface SuiteRunner {
  run(task: SuiteTask, options?: SuiteRunOptions): Promise<{ output: Uint8Array, ms: number }>
}

/** What a runner offers, as its peer announces it to the room. */
export type RunnerClaims = Pick<Capabilities, 'slots' | 'maxMemoryPages' | 'maxIoBytes'>

/** The modules the cases run; `suiteModules()` in test-support.ts reads them in Node. */
export const SUITE_MODULES = [
  // built-in filters (public/filters)
  'echo', 'grayscale', 'invert',
  // hostile modules (src/filters/assembly/hostile)
  'loop', 'memhog', 'trap', 'badalloc', 'badptr', 'forbidden', 'asabort',
  // hand-assembled: an ABI module that starts with two pages of memory
  'bigmem'
] as const
export type SuiteModuleName = typeof SUITE_MODULES[number]

export interface SuiteCase {
  name: string
  /** Why this runner skips the case: it does not claim what the case needs. Absent: the case runs. */
  skip?: string
  run(): Promise<void>
}

export interface Suite {
  setup(): Promise<void>
  teardown(): Promise<void>
  cases: SuiteCase[]
}

export interface RunnerSuiteInit {
  claims: RunnerClaims
  /** A module's bytes, by name; called only while cases run. */
  module(name: SuiteModuleName): Promise<Uint8Array>
  /** The runner under test (set up by the caller). */
  runner(): SuiteRunner
  /** Resolves once every slot is free and ready again (a pool replaces killed workers). */
  settle?(): Promise<void>
}

export const limits: TaskLimits = { memoryPages: 16, timeoutMs: 10_000 }
export const none: Uint8Array = new Uint8Array(0)
/** A loop that never ends runs under this deadline where a case stops it otherwise. */
const LONG: TaskLimits = { memoryPages: 1, timeoutMs: 60_000 }

export function assert (cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(`check failed: ${message}`)
}

export function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

/** Awaits `p`, which must fail with `code` (and a message matching `pattern`); returns the error's message. */
export async function rejects (p: Promise<unknown>, code: string, pattern?: RegExp): Promise<string> {
  try {
    await p
  } catch (err) {
    const e = err as { code?: string, message?: string, name?: string }
    const message = e.message ?? String(err)
    assert(e.code === code, `expected ${code}, got ${e.code ?? `no code (${e.name ?? typeof err})`}: ${message}`)
    if (pattern != null) assert(pattern.test(message), `message "${message}" does not match ${String(pattern)}`)
    return message
  }
  throw new Error(`check failed: expected ${code}, but the task succeeded`)
}

export async function until (cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`check failed: timed out waiting for ${what}`)
    await sleep(20)
  }
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

export function pseudoRandom (length: number, seed = 0x2545f491): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** The name a room gives a module: CIDv1, raw codec, SHA-256 (src/storage/blocks.ts). */
export async function moduleKey (bytes: Uint8Array): Promise<string> {
  return CID.createV1(raw.code, await sha256.digest(bytes)).toString()
}

/**
 * Runs `fn` while `n` endless loops hold the runner's slots (each started,
 * none waiting for another); then aborts them, even when `fn` failed, so a
 * failing case leaves the runner free for the next.
 */
async function whileBusy (r: () => SuiteRunner, loop: { key: string, module: Uint8Array }, n: number, fn: () => Promise<void>): Promise<void> {
  let started = 0
  const acs = Array.from({ length: n }, () => new AbortController())
  const runs = acs.map(async ac => await r().run({ ...loop, entry: 'spin', input: none, params: none, limits: LONG }, { signal: ac.signal, onStart: () => { started++ } })
    .then(() => new Error('check failed: an endless loop returned'), (err: unknown) => err))
  let failure: unknown
  try {
    await until(() => started === n, 20_000, `${n} endless loops to start`)
    await fn()
  } catch (err) {
    failure = err
  }
  for (const ac of acs) ac.abort()
  const errors = await Promise.all(runs)
  // the case's own failure first: it says more than the loops' fate
  if (failure != null) throw failure
  for (const err of errors) {
    assert((err as { code?: string }).code === AbortedError.code, `an aborted loop failed with AbortedError, not ${String(err)}`)
  }
}

export function runnerSuite (init: RunnerSuiteInit): SuiteCase[] {
  const { claims } = init
  const r = init.runner
  const settle = async (): Promise<void> => { await init.settle?.() }
  const keys = new Map<string, Promise<string>>()
  const mod = async (name: SuiteModuleName): Promise<{ key: string, module: Uint8Array }> => {
    const module = await init.module(name)
    let key = keys.get(name)
    if (key == null) keys.set(name, key = moduleKey(module))
    return { key: await key, module }
  }
  const task = async (name: SuiteModuleName, entry: string, input: Uint8Array = none, lim: TaskLimits = limits): Promise<SuiteTask> =>
    ({ ...await mod(name), entry, input, params: none, limits: lim })
  const echo = async (bytes: number[]): Promise<Uint8Array> => (await r().run(await task('echo', 'echo', new Uint8Array(bytes)))).output
  const maxIo = claims.maxIoBytes ?? Infinity

  const cases: SuiteCase[] = [
    {
      name: 'computes a filter byte-identical to the reference, and leaves the caller\'s input alone',
      async run () {
        // the largest of these tiles that fits the runner's frames
        const [w, h] = [[64, 64], [12, 10]].find(([w, h]) => w * h * 4 <= maxIo) ?? [2, 2]
        const img = { data: pseudoRandom(w * h * 4), width: w, height: h }
        const copy = img.data.slice()
        const res = await r().run({ ...await task('grayscale', 'grayscale', img.data), params: encodeImageParams(w, h) })
        assert(sameBytes(res.output, ref.grayscale(img)), `the ${w}x${h} output equals the reference`)
        assert(res.ms >= 0, 'ms is reported')
        assert(sameBytes(img.data, copy), "the caller's input is neither transferred away nor changed")
      }
    },
    {
      name: 'fails a function that traps with FunctionTrapError',
      async run () {
        await rejects(r().run(await task('trap', 'crash')), FunctionTrapError.code, /unreachable/)
      }
    },
    {
      name: 'fails a function that returns a negative code with FunctionFailedError',
      async run () {
        await rejects(r().run(await task('trap', 'fail')), FunctionFailedError.code, /-42/)
      }
    },
    {
      name: 'fails a task whose module it was neither given nor holds with ModuleNotCachedError',
      async run () {
        const key = await moduleKey(pseudoRandom(64, 0x1234567))
        await rejects(r().run({ key, entry: 'run', input: none, params: none, limits }), ModuleNotCachedError.code)
      }
    },
    {
      name: 'refuses a module that imports outside the allow-list with InvalidModuleError',
      async run () {
        await rejects(r().run(await task('forbidden', 'steal')), InvalidModuleError.code)
        assert(sameBytes(await echo([4]), new Uint8Array([4])), 'still serves')
      }
    },
    {
      name: 'refuses bytes that are not a WebAssembly module with InvalidModuleError',
      async run () {
        const garbage = pseudoRandom(300)
        await rejects(r().run({ key: await moduleKey(garbage), module: garbage, entry: 'x', input: none, params: none, limits }), InvalidModuleError.code)
      }
    },
    {
      name: 'refuses an entry point the module does not export with InvalidModuleError',
      async run () {
        await rejects(r().run(await task('echo', 'no_such_entry')), InvalidModuleError.code)
      }
    },
    {
      name: 'refuses an allocator that answers outside memory with InvalidModuleError',
      async run () {
        await rejects(r().run(await task('badalloc', 'run', new Uint8Array(8))), InvalidModuleError.code)
      }
    },
    {
      name: 'refuses an output pointer outside memory with InvalidModuleError',
      // badptr claims 4096 output bytes: a runner that carries less refuses the size first
      skip: maxIo < 4096 ? `it carries at most ${maxIo} output bytes, so badptr's 4096-byte output is refused as too large before its pointer is checked` : undefined,
      async run () {
        await rejects(r().run(await task('badptr', 'lie')), InvalidModuleError.code, /outside/)
      }
    },
    {
      name: 'links the allowed import env.abort: a module calling it fails with FunctionTrapError',
      async run () {
        const ok = await r().run(await task('asabort', 'check', new Uint8Array(2)))
        assert(ok.output.length === 0, 'runs while it does not abort')
        await rejects(r().run(await task('asabort', 'check', new Uint8Array(8))), FunctionTrapError.code, /abort/)
      }
    },
    {
      name: 'refuses a module that starts with more memory than the cap with MemoryLimitError',
      async run () {
        await rejects(r().run(await task('bigmem', 'run', none, { memoryPages: 1, timeoutMs: 10_000 })), MemoryLimitError.code)
      }
    },
    {
      name: 'stops a module that grows past the memory cap with MemoryLimitError',
      skip: claims.maxMemoryPages < 2 ? `its memory cap is ${claims.maxMemoryPages} page, so a module cannot grow towards it (one that starts bigger is refused: case above)` : undefined,
      async run () {
        const memoryPages = Math.min(32, claims.maxMemoryPages)
        await rejects(r().run(await task('memhog', 'hog', none, { memoryPages, timeoutMs: 10_000 })), MemoryLimitError.code, new RegExp(`cap of ${memoryPages} pages`))
        assert(sameBytes(await echo([5, 6]), new Uint8Array([5, 6])), 'still serves')
      }
    },
    {
      name: 'stops a task past its deadline with DeadlineExceededError, then serves the next',
      async run () {
        await settle()
        const timeoutMs = 500
        const t0 = Date.now()
        await rejects(r().run(await task('loop', 'spin', none, { memoryPages: 1, timeoutMs })), DeadlineExceededError.code)
        const ms = Date.now() - t0
        assert(ms >= timeoutMs - 20, `stopped at its deadline, not before (${ms} ms)`)
        assert(ms < timeoutMs + 10_000, `stopped soon after its deadline (${ms} ms)`)
        assert(sameBytes(await echo([7]), new Uint8Array([7])), 'the next task succeeds')
      }
    },
    {
      name: 'stops a running task when its signal aborts, with AbortedError, then serves the next',
      async run () {
        await settle()
        const ac = new AbortController()
        let abortedAt = 0
        const run = r().run(await task('loop', 'spin', none, LONG), {
          signal: ac.signal,
          onStart: () => { setTimeout(() => { abortedAt = Date.now(); ac.abort() }, 100) }
        })
        await rejects(run, AbortedError.code)
        assert(abortedAt > 0, 'failed only once aborted')
        assert(Date.now() - abortedAt < 5000, `failed soon after the abort (${Date.now() - abortedAt} ms)`)
        assert(sameBytes(await echo([3]), new Uint8Array([3])), 'the next task succeeds')
      }
    },
    {
      name: 'refuses a task whose signal has already aborted, with AbortedError, without starting it',
      async run () {
        let started = false
        const run = r().run(await task('echo', 'echo', new Uint8Array([1])), { signal: AbortSignal.abort(), onStart: () => { started = true } })
        await rejects(run, AbortedError.code)
        assert(!started, 'never started')
      }
    },
    {
      name: 'runs as many tasks at once as it has slots',
      skip: claims.slots < 2 ? 'it has one slot' : undefined,
      async run () {
        await settle()
        // whileBusy() waits until every loop has started: none waits for another to end
        await whileBusy(r, await mod('loop'), claims.slots, async () => {})
      }
    },
    {
      name: 'queues a task while every slot is busy and starts it only when one frees',
      async run () {
        await settle()
        let starts = 0
        let queued: Promise<{ output: Uint8Array }> | undefined
        const input = await task('echo', 'echo', new Uint8Array([9]))
        await whileBusy(r, await mod('loop'), claims.slots, async () => {
          queued = r().run(input, { onStart: () => { starts++ } })
          queued.catch(() => {})
          await sleep(200)
          assert(starts === 0, 'not started while every slot is busy')
        })
        const res = await queued
        assert(starts === 1 && res?.output[0] === 9, 'started once a slot freed, and ran')
      }
    },
    {
      name: 'drops a queued task whose signal aborts, with AbortedError, without starting it',
      async run () {
        await settle()
        let started = false
        const input = await task('echo', 'echo', new Uint8Array([2]))
        await whileBusy(r, await mod('loop'), claims.slots, async () => {
          const ac = new AbortController()
          const queued = r().run(input, { signal: ac.signal, onStart: () => { started = true } })
          await sleep(100)
          ac.abort()
          await rejects(queued, AbortedError.code)
        })
        await sleep(100)
        assert(!started, 'the dropped task never started, not even once a slot freed')
      }
    },
    {
      name: 'runs every task queued beyond its slots, each with its own input',
      async run () {
        const n = claims.slots * 3
        const outs = await Promise.all(Array.from({ length: n }, async (_, i) => await echo([i, 100 + i])))
        assert(outs.every((o, i) => sameBytes(o, new Uint8Array([i, 100 + i]))), `all ${n} tasks answered in kind`)
      }
    }
  ]
  return cases
}
