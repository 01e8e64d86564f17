import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorkerPool, describeRuntime, nodeSpawner } from './index.js'
import { poolSuite } from './pool-suite.js'
import { buildFilters, filterWasm, hostileWasm } from './test-support.js'

const suite = poolSuite({
  createWorkerPool,
  filter: async (name) => filterWasm(name),
  hostile: async (name) => hostileWasm(name)
})

describe('worker pool (worker_threads): compliance suite', () => {
  beforeAll(async () => {
    buildFilters()
    await suite.setup()
  }, 60_000)
  afterAll(() => { suite.teardown() })
  for (const check of suite.checks) it(check.name, async () => { await check.run() })
})

describe('worker pool (worker_threads): Node specifics', () => {
  it('stops respawning a worker script that fails to start', async () => {
    const broken = createWorkerPool({ size: 1, spawn: nodeSpawner({ workerUrl: new URL('data:text/javascript,throw new Error("boom")') }) })
    broken.start()
    const p = broken.run({ key: 'echo', module: filterWasm('echo'), entry: 'echo', input: new Uint8Array(0) })
    await expect(p).rejects.toThrow(/fail to start/)
    expect(broken.stats().replaced).toBe(3)
    broken.stop()
  })

  it('describeRuntime reports cores, memory and WebAssembly features', () => {
    const caps = describeRuntime()
    expect(caps.cores).toBeGreaterThanOrEqual(1)
    expect(caps.memoryMB).toBeGreaterThan(0)
    expect(caps.wasmSimd).toBe(true)
    expect(typeof caps.wasmThreads).toBe('boolean')
  })
})
