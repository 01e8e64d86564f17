/**
 * A test-only page (built by e2e/pool.spec.ts, never by the app's build):
 * the worker pool's compliance suite on the browser twin, the Web Worker
 * pool that tabs run (src/runtime/index.browser.ts), with the same cases as
 * pool.test.ts runs on worker_threads.
 */
import { createWorkerPool } from '../../src/runtime/index.browser.js'
import { poolSuite } from '../../src/runtime/pool-suite.js'
import type { SuiteModuleName } from '../../src/runtime/runner-suite.js'

const modules = new Map<string, Uint8Array>()
const suite = poolSuite({
  createWorkerPool,
  module: async (name: SuiteModuleName) => {
    const bytes = modules.get(name)
    if (bytes == null) throw new Error(`module ${name} was not given to setup()`)
    return bytes
  }
})

export interface PoolSuitePage {
  /** Takes the modules (base64, by name), starts the pool and waits for its workers. */
  setup: (base64: Record<string, string>) => Promise<void>
  cases: () => Array<{ name: string, skip?: string }>
  /** Runs one case; throws its failure. */
  run: (name: string) => Promise<void>
  teardown: () => Promise<void>
}

const page: PoolSuitePage = {
  async setup (base64) {
    for (const [name, b64] of Object.entries(base64)) modules.set(name, Uint8Array.from(atob(b64), c => c.charCodeAt(0)))
    await suite.setup()
  },
  cases: () => suite.cases.map(c => ({ name: c.name, skip: c.skip })),
  async run (name) {
    const c = suite.cases.find(c => c.name === name)
    if (c == null) throw new Error(`no case named "${name}"`)
    await c.run()
  },
  teardown: async () => { await suite.teardown() }
}

Object.assign(window, { poolSuite: page, poolSuiteReady: true })
