import { rmSync } from 'node:fs'
import { expect, test } from '@playwright/test'
import type { Browser, Page } from 'playwright-core'
import { startStaticServer } from '../relay/static-server.js'
import type { StaticServer } from '../relay/static-server.js'
import { poolSuite } from '../src/runtime/pool-suite.js'
import { buildFilters, suiteModules } from '../src/runtime/test-support.js'
import { launchBrowser } from './harness.js'
import type { PoolSuitePage } from './pool-page/main.js'

/**
 * The worker pool's compliance suite (src/runtime/pool-suite.ts) in real
 * Chromium, on the Web Worker pool that tabs run: a test-only page
 * (e2e/pool-page/) built by Vite with the app's config into its own folder,
 * served with the app's headers, one Playwright test per case so that a
 * failure names the case. pool.test.ts runs the same cases on worker_threads.
 */
const OUT = `${process.env.FEDRA_DIST ?? 'dist'}-pool-page`

// the case names and skips, for Playwright to list (the pool's claims are fixed)
const unused = (): never => { throw new Error('listing only') }
const cases = poolSuite({ createWorkerPool: unused, module: unused }).cases

let browser: Browser | undefined
let dataDir: string | undefined
let server: StaticServer | undefined
let page: Page

test.beforeAll(async () => {
  test.setTimeout(120_000)
  buildFilters()
  const { build } = await import('vite')
  await build({
    configFile: 'vite.config.ts',
    publicDir: false,
    logLevel: 'warn',
    build: { outDir: OUT, emptyOutDir: true, rolldownOptions: { input: 'e2e/pool-page/index.html' } }
  })
  server = await startStaticServer({ root: OUT, host: '127.0.0.1', port: 0 })
  ;({ browser, dataDir } = await launchBrowser())
  page = await (await browser.newContext()).newPage()
  page.on('pageerror', e => { console.error('[page error]', e.message) })
  await page.goto(`http://127.0.0.1:${server.port}/e2e/pool-page/index.html`)
  await page.waitForFunction(() => (window as unknown as { poolSuiteReady?: boolean }).poolSuiteReady === true, undefined, { timeout: 30_000 })
  // the page lists the same cases as this file
  const listed = await page.evaluate(() => (window as unknown as { poolSuite: PoolSuitePage }).poolSuite.cases())
  expect(listed).toEqual(cases.map(c => ({ name: c.name, skip: c.skip })))
  const modules = Object.fromEntries(Object.entries(suiteModules()).map(([name, bytes]) => [name, Buffer.from(bytes).toString('base64')]))
  await page.evaluate(async (m) => { await (window as unknown as { poolSuite: PoolSuitePage }).poolSuite.setup(m) }, modules)
})

test.afterAll(async () => {
  await page?.evaluate(async () => { await (window as unknown as { poolSuite: PoolSuitePage }).poolSuite.teardown() }).catch(() => {})
  await browser?.close().catch(() => {})
  server?.close()
  if (dataDir != null) rmSync(dataDir, { recursive: true, force: true })
})

for (const c of cases) {
  test(`browser pool: ${c.name}`, async () => {
    test.skip(c.skip != null, c.skip)
    test.setTimeout(60_000)
    await page.evaluate(async (name) => { await (window as unknown as { poolSuite: PoolSuitePage }).poolSuite.run(name) }, c.name)
  })
}
