import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorkerPool, describeRuntime, nodeSpawner } from './index.js'
import { poolSuite } from './pool-suite.js'
import type { SuiteModuleName } from './runner-suite.js'
import { buildFilters, filterWasm, suiteModules } from './test-support.js'

let modules: Record<SuiteModuleName, Uint8Array>
const suite = poolSuite({ createWorkerPool, module: async (name) => modules[name] })

// the browser twin runs the same cases in Chromium (e2e/pool.spec.ts), the
// board runner those of runner-suite.ts (src/mcu/board-runner.test.ts)
describe('worker pool (worker_threads): compliance suite', () => {
  beforeAll(async () => {
    buildFilters()
    modules = suiteModules()
    await suite.setup()
  }, 60_000)
  afterAll(async () => { await suite.teardown() })
  for (const c of suite.cases) {
    if (c.skip != null) it.skip(`${c.name} (skipped: ${c.skip})`, () => {})
    else it(c.name, async () => { await c.run() })
  }
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
