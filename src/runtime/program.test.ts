import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeImageParams } from '../filters/catalog.js'
import * as ref from '../filters/reference.js'
import { CHAIN_PROGRAM, decodeChainParams, encodeChainParams } from './chain.js'
import { createExecutor, runProgram } from './executor.js'
import { createWorkerPool } from './index.js'
import { buildFilters, filterWasm, hostileWasm, noise } from './test-support.js'
import type { WorkerPool } from './pool.js'

/**
 * Programs (executor.ts): one pool task that calls several modules, many
 * times each, inside one worker — here the built-in 'chain', in real
 * worker_threads. The browser's 'video-unit' program is checked in Chromium
 * (e2e/video.spec.ts, e2e/media.spec.ts). Each module keeps a function's
 * sandbox: memory cap, allowed imports, the pool's deadline and abort.
 */
const W = 16
const H = 8
const pages = Math.ceil((W * H * 4 + 8192) / 65536)
const call = (entry: string, values: number[] = []): { entry: string, params: Uint8Array, memoryPages: number } =>
  ({ entry, params: encodeImageParams(W, H, values), memoryPages: pages })

describe('the chain program, in a pool of worker_threads', () => {
  let pool: WorkerPool
  beforeAll(() => {
    buildFilters()
    pool = createWorkerPool({ size: 1 })
    pool.start()
  }, 60_000)
  afterAll(() => { pool.stop() })

  it('runs an input through its modules in order, as separate calls would', async () => {
    const data = noise(W * H * 4)
    const r = await pool.runProgram({
      program: CHAIN_PROGRAM,
      modules: [{ key: 'grayscale', module: filterWasm('grayscale') }, { key: 'brightness', module: filterWasm('brightness.simd') }],
      input: data,
      params: encodeChainParams([call('grayscale'), call('brightness', [275, 120])])
    })
    const img = { data, width: W, height: H }
    expect(r.output).toEqual(ref.brightness({ data: ref.grayscale(img), width: W, height: H }, 275, 120))
    expect(pool.cachedKeys()).toEqual(expect.arrayContaining(['grayscale', 'brightness']))
  })

  it('keeps each module under its own memory cap', async () => {
    const p = pool.runProgram({
      program: CHAIN_PROGRAM,
      modules: [{ key: 'echo', module: filterWasm('echo') }, { key: 'memhog', module: hostileWasm('memhog') }],
      input: new Uint8Array(8),
      params: encodeChainParams([{ entry: 'echo', params: new Uint8Array(0), memoryPages: 1 }, { entry: 'hog', params: new Uint8Array(0), memoryPages: 3 }])
    })
    await expect(p).rejects.toMatchObject({ name: 'MemoryLimitError' })
  })

  it('refuses a module with an import outside the allow-list before it costs a worker', async () => {
    const p = pool.runProgram({ program: CHAIN_PROGRAM, modules: [{ key: 'forbidden', module: hostileWasm('forbidden') }], input: new Uint8Array(4), params: encodeChainParams([call('steal')]) })
    await expect(p).rejects.toMatchObject({ name: 'InvalidModuleError' })
  })

  it('terminates a program past its deadline, and one whose caller aborts; the worker is replaced', async () => {
    const loop = { key: 'loop', module: hostileWasm('loop') }
    const spin = encodeChainParams([{ entry: 'spin', params: new Uint8Array(0), memoryPages: 1 }])
    const replaced = pool.stats().replaced
    await expect(pool.runProgram({ program: CHAIN_PROGRAM, modules: [loop], input: new Uint8Array(4), params: spin, limits: { timeoutMs: 300 } }))
      .rejects.toMatchObject({ name: 'DeadlineExceededError' })
    const ac = new AbortController()
    const p = pool.runProgram({ program: CHAIN_PROGRAM, modules: [loop], input: new Uint8Array(4), params: spin, limits: { timeoutMs: 60_000 } }, { signal: ac.signal, onStart: () => { setTimeout(() => { ac.abort() }, 50) } })
    await expect(p).rejects.toMatchObject({ name: 'AbortedError' })
    expect(pool.stats().replaced).toBe(replaced + 2)
    // and the pool still runs programs
    const r = await pool.runProgram({ program: CHAIN_PROGRAM, modules: [{ key: 'echo', module: filterWasm('echo') }], input: new Uint8Array([1, 2, 3]), params: encodeChainParams([{ entry: 'echo', params: new Uint8Array(0), memoryPages: 1 }]) })
    expect([...r.output]).toEqual([1, 2, 3])
  }, 30_000)

  it('answers a program this worker does not have with a typed error (Node has no video-unit)', async () => {
    const p = pool.runProgram({ program: 'video-unit', modules: [], input: new Uint8Array(0) })
    await expect(p).rejects.toMatchObject({ name: 'FunctionFailedError' })
  })
})

describe('programs on an executor', () => {
  it('give a module\'s instance to many calls: each call a task of the ABI, the output a view until the next', async () => {
    const executor = createExecutor()
    let seen = 0
    const r = await runProgram(executor, {
      twice: async () => async (req, host) => {
        const inst = await host.instantiate(0, pages)
        const a = inst.call('invert', req.input, req.params).slice()
        const b = inst.call('invert', a, req.params)
        seen = inst.compiled ? 1 : 0
        return b.slice()
      }
    }, { program: 'twice', modules: [{ key: 'invert', module: filterWasm('invert') }], input: noise(W * H * 4, 7), params: encodeImageParams(W, H) })
    expect(r.output).toEqual(noise(W * H * 4, 7))
    expect(seen).toBe(1)
    expect(executor.compiles).toBe(1)
  })

  it('decodes chain params within their limits', () => {
    expect(decodeChainParams(encodeChainParams([call('grayscale')]))).toEqual([call('grayscale')])
    expect(() => decodeChainParams(encodeChainParams([]))).toThrow(/1 to 16 calls/)
  })
})
