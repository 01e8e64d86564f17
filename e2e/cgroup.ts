import { existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { CHROMIUM, CHROMIUM_ARGS, openPage } from './harness.js'
import type { Browser, BrowserContext, Page } from 'playwright-core'

/**
 * Slow devices for real: each emulated device is its own Chromium process
 * whose whole process tree — renderer and the Web Workers where functions
 * run — lives in a CPU cgroup with a quota (DESIGN.md, "Emulating slower
 * devices"; CDP CPU throttling slows only the main thread). The browser is
 * started through scripts/chromium-in-cgroup.sh, which joins the group and
 * then execs Chromium; this module creates the group, reads its CPU usage,
 * can change its quota while the browser runs, and removes it on close.
 *
 *   const slow = await launchThrottledBrowser({ name: 'w1', quotaCores: 0.25 })
 *   const { page } = await openThrottledTab(slow, relay.url)
 *   …
 *   await slow.close()
 *
 * Needs root and a writable cgroup (v1 `cpu` hierarchy, as on these
 * machines, or v2 with the cpu controller); `cgroupSupport()` says which,
 * or why not, without starting anything.
 */

export const CGROUP_WRAPPER = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'chromium-in-cgroup.sh')
const ROOT = process.env.FEDRA_CGROUP_ROOT ?? '/sys/fs/cgroup'
export const PERIOD_US = 100_000

export interface CgroupSupport {
  version: 'v1' | 'v2'
  /** Directory that holds the groups (v1: the cpu hierarchy). */
  base: string
  /** v1 only: cpuacct hierarchy when mounted apart from cpu (CPU accounting). */
  acctBase?: string
}

/** Which cgroup flavour this machine offers for CPU quotas; throws a clear error when none is usable. */
export function cgroupSupport (): CgroupSupport {
  const v1 = join(ROOT, 'cpu')
  if (existsSync(join(v1, 'cpu.cfs_quota_us'))) {
    const acct = join(ROOT, 'cpuacct')
    return { version: 'v1', base: v1, acctBase: existsSync(join(acct, 'cpuacct.usage')) && acct !== v1 ? acct : undefined }
  }
  if (existsSync(join(ROOT, 'cgroup.controllers'))) {
    const controllers = readFileSync(join(ROOT, 'cgroup.controllers'), 'utf8')
    if (!/\bcpu\b/.test(controllers)) throw new Error(`cgroup v2 at ${ROOT} has no cpu controller (${controllers.trim()}): cannot throttle browsers`)
    return { version: 'v2', base: ROOT }
  }
  throw new Error(`no CPU cgroup under ${ROOT} (neither v1 cpu/cpu.cfs_quota_us nor v2 cgroup.controllers): cannot make a slow peer for real; CDP CPU throttling does not slow Web Workers`)
}

export interface ThrottledBrowserInit {
  /** Short name; the group is `fedra-<name>`. */
  name: string
  /** CPU cores the whole browser may use (0.25 = a quarter core); null or Infinity = unlimited (accounting only). */
  quotaCores: number | null
  /** Extra Chromium flags on top of the harness's CHROMIUM_ARGS. */
  args?: string[]
}

export interface ThrottledBrowser {
  browser: Browser
  name: string
  /** The cgroup directory (v1: under the cpu hierarchy). */
  cgroup: string
  quotaCores: number | null
  /** CPU seconds the group has used so far (NaN where no accounting is mounted). */
  cpuSeconds: () => number
  /** Seconds the group spent throttled (v1 cpu.stat throttled_time / v2 throttled_usec). */
  throttledSeconds: () => number
  /** Changes the quota while the browser runs (null = unlimited). */
  setQuota: (quotaCores: number | null) => void
  /** Closes the browser, then removes its cgroup(s). Safe to call twice. */
  close: () => Promise<void>
}

function quotaUs (cores: number | null): number {
  if (cores == null || !Number.isFinite(cores)) return -1
  if (!(cores > 0)) throw new Error(`quotaCores must be > 0, got ${cores}`)
  // the kernel refuses quotas under 1 ms
  return Math.max(1000, Math.round(cores * PERIOD_US))
}

function writeQuota (support: CgroupSupport, dir: string, cores: number | null): void {
  const q = quotaUs(cores)
  if (support.version === 'v1') {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US))
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(q))
  } else {
    writeFileSync(join(dir, 'cpu.max'), q < 0 ? `max ${PERIOD_US}` : `${q} ${PERIOD_US}`)
  }
}

function pidsOf (dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

function statField (dir: string, field: string): number {
  try {
    const m = readFileSync(join(dir, 'cpu.stat'), 'utf8').match(new RegExp(`^${field} (\\d+)$`, 'm'))
    return m == null ? NaN : Number(m[1])
  } catch {
    return NaN
  }
}

/** Removes a cgroup once its processes are gone; kills (by pid) what is left of this browser after a grace period. */
async function removeGroup (dir: string, graceMs = 3000): Promise<void> {
  if (!existsSync(dir)) return
  const until = Date.now() + graceMs
  for (;;) {
    const left = pidsOf(dir)
    if (left.length === 0) {
      try { rmdirSync(dir); return } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > until + 2000) throw err
      }
    } else if (Date.now() > until) {
      // leftovers of the browser we started (its zygote, crashpad): only the pids in our own group
      for (const pid of left) { try { process.kill(pid, 'SIGKILL') } catch {} }
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/**
 * Launches Chromium (headless, the harness's loopback-only flags) with its
 * whole process tree in the cgroup `fedra-<name>` limited to `quotaCores`.
 */
export async function launchThrottledBrowser (init: ThrottledBrowserInit): Promise<ThrottledBrowser> {
  const support = cgroupSupport()
  if (!/^[A-Za-z0-9_.-]+$/.test(init.name)) throw new Error(`cgroup name must be [A-Za-z0-9_.-]+, got ${init.name}`)
  const group = `fedra-${init.name}`
  const dir = join(support.base, group)
  const acct = support.acctBase != null ? join(support.acctBase, group) : undefined
  // an empty group left by a crashed earlier run is reused; a busy one is not
  if (existsSync(dir) && pidsOf(dir).length > 0) throw new Error(`cgroup ${dir} already holds processes (${pidsOf(dir).join(', ')}): another run uses the name ${init.name}`)
  const browser = await chromium.launch({
    executablePath: CGROUP_WRAPPER,
    args: [...CHROMIUM_ARGS, ...(init.args ?? [])],
    headless: true,
    env: {
      ...process.env,
      FEDRA_CGROUP: group,
      FEDRA_CGROUP_QUOTA_US: String(quotaUs(init.quotaCores)),
      FEDRA_CGROUP_PERIOD_US: String(PERIOD_US),
      FEDRA_CHROMIUM_REAL: CHROMIUM
    }
  })
  // the wrapper joined the group before exec: the browser's pid must be in it
  if (pidsOf(dir).length === 0) {
    await browser.close().catch(() => {})
    throw new Error(`Chromium started but ${dir}/cgroup.procs is empty: the wrapper did not join the group`)
  }
  let closed = false
  return {
    browser,
    name: init.name,
    cgroup: dir,
    quotaCores: init.quotaCores,
    cpuSeconds: () => {
      try {
        if (support.version === 'v2') return statField(dir, 'usage_usec') / 1e6
        if (acct != null) return Number(readFileSync(join(acct, 'cpuacct.usage'), 'utf8')) / 1e9
      } catch {}
      return NaN
    },
    throttledSeconds: () => support.version === 'v2' ? statField(dir, 'throttled_usec') / 1e6 : statField(dir, 'throttled_time') / 1e9,
    setQuota: (cores) => { writeQuota(support, dir, cores) },
    close: async () => {
      if (closed) return
      closed = true
      await browser.close().catch(() => {})
      await removeGroup(dir)
      if (acct != null) await removeGroup(acct)
    }
  }
}

/**
 * Opens one tab of the app in its own context of a (throttled) browser, as
 * the harness does: media permission for loopback ICE candidates, the same
 * init script. One tab per throttled browser makes one device per cgroup.
 */
export async function openThrottledTab (tb: ThrottledBrowser | Browser, url: string, requests: string[] = []): Promise<{ context: BrowserContext, page: Page }> {
  return openPage('browser' in tb ? tb.browser : tb, url, requests)
}

/**
 * Iterations per second of a busy loop in a dedicated Web Worker of `page`,
 * over `ms`: the check that a quota slows the workers where functions run.
 */
export async function workerLoopRate (page: Page, ms = 2000): Promise<number> {
  return page.evaluate(async (ms) => {
    const src = `onmessage = (e) => {
      const end = performance.now() + e.data
      let n = 0, x = 0
      while (performance.now() < end) { for (let i = 0; i < 10000; i++) x = (x * 1103515245 + 12345) | 0; n++ }
      postMessage({ n, x })
    }`
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })))
    const n = await new Promise<number>(resolve => { w.onmessage = (e) => { resolve(e.data.n) }; w.postMessage(ms) })
    w.terminate()
    return n / (ms / 1000)
  }, ms)
}
