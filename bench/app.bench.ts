import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { launchBrowser, startRelay } from '../e2e/harness.js'
import { fmt, median, table } from './stats.js'
import type { Browser } from 'playwright-core'

/**
 * The app's time to interactive on a phone, and the JavaScript it ships.
 *
 * Cold loads (a new browser context each: empty cache, no storage) of a bare
 * link (a new room, so the app starts on Start) at 360×640, `isMobile`,
 * served by our relay's static server from a fresh build:
 *  - phone: CDP `Network.emulateNetworkConditions` (the Lighthouse mobile
 *    profile: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up) and
 *    `Emulation.setCPUThrottlingRate` 4 (the page's main thread only, not
 *    its workers: DESIGN.md);
 *  - the same unthrottled, for comparison.
 * Times are from navigation start, read in the page (an init script): first
 * contentful paint, Start's "New room" button visible and enabled, the
 * header showing the people in the room, and `window.fedra.ready` (joined).
 * JS size: every script a cold load fetched (page and workers), raw and
 * gzipped (zlib level 9), and the build's other chunks (loaded on use).
 * Run inside the loopback-only namespace (scripts/bench.sh does it).
 */
const LOADS = Number(process.env.BENCH_LOADS ?? 5)
const OUT = 'dist-appbench'
const GOAL_GZ = 300 * 1024

interface Profile {
  name: string
  /** bytes/s, as CDP takes them; null: no network throttling */
  net: { latency: number, downloadThroughput: number, uploadThroughput: number } | null
  cpu: number
}

const PROFILES: Profile[] = [
  { name: 'phone (150 ms, 1.6/0.75 Mbit/s, CPU 4×)', net: { latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 }, cpu: 4 },
  { name: 'unthrottled', net: null, cpu: 1 }
]

interface Times { fcp: number, newRoom: number, header: number, ready: number }

/** Records, in page time (ms since navigation start), when each milestone is first reached. */
const WATCH = `(() => {
  const t = window.__appBench = {}
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') t.fcp ??= e.startTime
  }).observe({ type: 'paint', buffered: true })
  let fedra
  Object.defineProperty(window, 'fedra', {
    configurable: true,
    get: () => fedra,
    set: v => { fedra = v; if (v?.ready === true) t.ready ??= performance.now() }
  })
  const check = () => {
    if (t.newRoom == null) {
      const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'New room')
      if (b != null && !b.disabled && b.checkVisibility()) t.newRoom = performance.now()
    }
    if (t.header == null && /in the room/.test(document.querySelector('header .count')?.textContent ?? '')) t.header = performance.now()
  }
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true, characterData: true })
})()`

async function coldLoad (browser: Browser, url: string, p: Profile, scripts: Set<string>): Promise<Times> {
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true })
  try {
    await context.addInitScript(WATCH)
    context.on('request', r => { if (r.resourceType() === 'script' || /\.m?js(\?|$)/.test(r.url())) scripts.add(new URL(r.url()).pathname) })
    const page = await context.newPage()
    page.on('pageerror', e => { console.error('[page error]', e.message) })
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
    if (p.net != null) await cdp.send('Network.emulateNetworkConditions', { offline: false, ...p.net })
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: p.cpu })
    await page.goto(url, { waitUntil: 'commit' })
    await page.waitForFunction(() => { const t = (window as any).__appBench; return t?.ready != null && t.newRoom != null && t.header != null && t.fcp != null }, undefined, { timeout: 90_000, polling: 200 })
    return await page.evaluate(() => (window as any).__appBench as Times)
  } finally {
    await context.close()
  }
}

function sizes (path: string): { raw: number, gz: number } {
  const b = readFileSync(join(OUT, path))
  return { raw: b.length, gz: gzipSync(b, { level: 9 }).length }
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`

async function main (): Promise<void> {
  if (process.env.BENCH_NO_BUILD == null) {
    execFileSync('npx', ['vite', 'build', '--outDir', OUT, '--logLevel', 'warn'], { stdio: 'inherit' })
  }
  const relay = await startRelay(OUT)
  const { browser, dataDir } = await launchBrowser()
  const scripts = new Set<string>()
  const rows: Array<Record<string, string>> = []
  try {
    const runs = new Map<string, Times[]>()
    // interleaved, so a burst of load on the shared cores hits both profiles
    for (let i = 0; i < LOADS; i++) {
      for (const p of PROFILES) {
        const t = await coldLoad(browser, relay.url, p, scripts)
        runs.set(p.name, [...(runs.get(p.name) ?? []), t])
        console.error(`load ${i + 1} ${p.name}: fcp ${fmt(t.fcp, 0)}, New room ${fmt(t.newRoom, 0)}, header ${fmt(t.header, 0)}, ready ${fmt(t.ready, 0)} ms`)
      }
    }
    const base = runs.get(PROFILES[1].name) ?? []
    for (const p of PROFILES) {
      const ts = runs.get(p.name) ?? []
      for (const [key, label] of [['fcp', 'first contentful paint'], ['newRoom', '"New room" visible and enabled'], ['header', 'header shows people in the room'], ['ready', 'room joined (fedra.ready)']] as const) {
        const m = median(ts.map(t => t[key]))
        rows.push({ profile: p.name, figure: label, median: `${fmt(m, 0)} ms`, range: `${fmt(Math.min(...ts.map(t => t[key])), 0)}–${fmt(Math.max(...ts.map(t => t[key])), 0)} ms`, ratio: `${fmt(m / median(base.map(t => t[key])), 2)}×` })
      }
    }
  } finally {
    await browser.close().catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
    await relay.stop()
  }
  console.log(`\nFedra app: ${LOADS} cold loads per profile at 360×640 (isMobile), medians; ratio = / unthrottled. Load average ${loadAvg()}.\n`)
  console.log(table(rows))

  const all = readdirSync(join(OUT, 'assets')).filter(f => f.endsWith('.js')).map(f => `/assets/${f}`)
  const startup = [...scripts].filter(s => all.includes(s)).sort()
  const lazy = all.filter(s => !startup.includes(s)).sort()
  const sizeRows: Array<Record<string, string>> = []
  let raw = 0
  let gz = 0
  for (const s of startup) {
    const z = sizes(s)
    raw += z.raw
    gz += z.gz
    sizeRows.push({ chunk: s.replace('/assets/', ''), when: 'start-up', raw: kb(z.raw), gzip: kb(z.gz) })
  }
  sizeRows.push({ chunk: 'total at start-up', when: '', raw: kb(raw), gzip: `${kb(gz)} (goal < 300 KB: ${gz < GOAL_GZ ? 'met' : 'not met'})` })
  for (const s of lazy) {
    const z = sizes(s)
    sizeRows.push({ chunk: s.replace('/assets/', ''), when: 'on use', raw: kb(z.raw), gzip: kb(z.gz) })
  }
  console.log(`\nJavaScript shipped (KB = 1024 B; gzip: node:zlib level 9; the relay's static server sends it gzipped)\n`)
  console.log(table(sizeRows))
}

function loadAvg (): string {
  try { return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') } catch { return 'n/a' }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
