import { startRelay, waitForMesh } from '../e2e/harness.js'
import { launchThrottledBrowser, openThrottledTab, workerLoopRate } from '../e2e/cgroup.js'
import type { ThrottledBrowser } from '../e2e/cgroup.js'
import { fmt, median, table } from './stats.js'
import type { Page } from 'playwright-core'

/**
 * Scheduling benchmarks on real, really slowed peers (issue 11): every
 * worker is its own Chromium process in a CPU cgroup with its own quota
 * (e2e/cgroup.ts), so its Web Workers — where functions run — are slowed
 * too. Quotas are uneven and sum below this machine's 2 cores.
 *
 *  0. throttling check: Web Worker busy loop at quota 0.25 vs 1.0
 *  1. swarm efficiency, N = 2, 4, 6 workers: swarm rate / Σ standalone rates
 *  2. churn overhead: makespan with ⅓ of the workers' browsers closed at 50%
 *     vs undisturbed (same swarm, same job)
 *  3. backup tasks: one straggler (tiny quota); makespan and tail (90% →
 *     100%) with backups on vs off
 *
 * Run inside the loopback-only namespace (scripts/bench.sh does it):
 *   unshare --net bash -c 'ip link set lo up; exec node --import ./scripts/node-preload.mjs bench/scheduling.bench.ts'
 * Knobs (environment): FEDRA_DIST (built app, default dist), BENCH_FILTER
 * (blur), BENCH_TILE (px, 256), BENCH_SIZE (swarm job, WxH, 2048x1536),
 * BENCH_STANDALONE_ROWS (tile rows of the standalone job, 3), BENCH_REPS (2),
 * BENCH_ONLY (comma list of: throttle,efficiency,churn,backups), BENCH_N
 * (room sizes of the efficiency table, 2,4,6).
 */
type W = any

const DIST = process.env.FEDRA_DIST ?? 'dist'
const FILTER = process.env.BENCH_FILTER ?? 'blur'
const TILE = Number(process.env.BENCH_TILE ?? 256)
const [JOB_W, JOB_H] = (process.env.BENCH_SIZE ?? '2048x1536').split('x').map(Number)
const STANDALONE_ROWS = Number(process.env.BENCH_STANDALONE_ROWS ?? 3)
const REPS = Number(process.env.BENCH_REPS ?? 2)
const ONLY = new Set((process.env.BENCH_ONLY ?? 'throttle,efficiency,churn,backups').split(','))

/** Quotas (cores) of the worker peers: uneven, each set sums below 2 cores. */
const ROOMS: Record<number, number[]> = {
  2: [0.5, 0.25],
  4: [0.45, 0.35, 0.25, 0.15],
  6: [0.4, 0.3, 0.25, 0.2, 0.15, 0.1]
}
/** Which workers leave at 50% in the churn run (⅓ of 6; ~⅓ of the capacity). */
const CHURN_LEAVE = [1, 4]
const STRAGGLER_ROOM = [0.4, 0.35, 0.3, Number(process.env.BENCH_STRAGGLER ?? 0.1)]
const STARTUP_QUOTA = 0.5
const SPIN_TASKS = Number(process.env.BENCH_SPIN_TASKS ?? 120)

interface Device {
  tb: ThrottledBrowser
  page: Page
  id: string
  quota: number | null
}

interface JobRun {
  ms: number
  tasks: number
  hash: string
  owners: string[]
  /** Time from the job's start until ≥50% / ≥90% of the tasks were done, ms. */
  t50: number
  t90: number
  /** Backup copies launched (spin jobs only; the page does not count them for image jobs). */
  backups: number
  /** CPU seconds each device's cgroup used during the run, by peer id. */
  cpu: Map<string, number>
}

const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Submitter (volunteering off, unthrottled but accounted) + one throttled browser per worker quota, meshed. */
async function openRoom (relayUrl: string, tag: string, quotas: number[]): Promise<{ submitter: Device, workers: Device[], meshMs: number, close: () => Promise<void> }> {
  const all: Device[] = []
  const close = async (): Promise<void> => { await Promise.all(all.map(async d => d.tb.close())) }
  try {
    const open = async (name: string, quota: number | null, url: string): Promise<Device> => {
      // start-up and mesh formation at ≥ 0.5 core (a 0.04-core browser needs minutes to join);
      // the device gets its real quota after the warm-up (throttle())
      const tb = await launchThrottledBrowser({ name, quotaCores: quota == null ? null : Math.max(quota, STARTUP_QUOTA) })
      const d: Device = { tb, page: undefined as unknown as Page, id: '', quota }
      all.push(d)
      d.page = (await openThrottledTab(tb, url)).page
      d.id = await d.page.evaluate(() => (window as W).fedra.peer.id as string)
      return d
    }
    const submitter = await open(`${tag}-sub`, null, relayUrl)
    await submitter.page.evaluate(() => { (window as W).fedra.peer.consent = false })
    const roomUrl = submitter.page.url()
    const workers: Device[] = []
    // a few at a time: a throttled browser starting up is slow, eight at once starve each other
    for (let i = 0; i < quotas.length; i += 3) {
      workers.push(...await Promise.all(quotas.slice(i, i + 3).map(async (q, j) => open(`${tag}-w${i + j}`, q, roomUrl))))
    }
    const meshMs = await waitForMesh([submitter.page, ...workers.map(w => w.page)], 120_000)
    return { submitter, workers, meshMs, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** Waits until the device's cgroup is near idle (start-up work, cancelled copies done). */
async function settle (devices: Device[], maxMs = 15_000): Promise<void> {
  const until = Date.now() + maxMs
  for (const d of devices) {
    for (;;) {
      const c0 = d.tb.cpuSeconds()
      await sleep(400)
      const used = (d.tb.cpuSeconds() - c0) / 0.4
      if (!(used > 0.15 * (d.quota ?? 1)) || Date.now() > until) break
    }
  }
}

/**
 * A compute-bound function (hand-written WAT, 265 bytes, ABI v1): `spin`
 * reads u32le iterations and a u32le seed, runs an LCG that long and returns
 * its u32le state. Tiny input and output, so the network costs next to
 * nothing: the figures measure scheduling, not data movement.
 *   (func "spin" … (loop x = x*1103515245 + 12345; x ^= x >>> 13) … )
 * Source: docs/benchmarks-scheduling.md.
 */
const SPIN_WASM_B64 = 'AGFzbQEAAAABEgNgAX8Bf2AAAX9gBH9/f38BfwMEAwABAgUDAQABBgwCfwFBgAgLfwFBAAsHMgQGbWVtb3J5AgALZmVkcmFfYWxsb2MAABBmZWRyYV9vdXRwdXRfcHRyAAEEc3BpbgACCp0BAz0BAX8jAQRAQYAIJABBACQBCyAAQQBIBEBBfw8LIwAhASABIABqQQdqQXhxJAAjAEGAgARLBEBBfw8LIAELBABBEAtYAQJ/QQEkASABQQhIBEBBfw8LIAAoAgAhBCAAKAIEIQUCQANAIARFDQEgBUHtnJmOBGxBueAAaiEFIAUgBUENdnMhBSAEQQFrIQQMAAsLQRAgBTYCAEEECw=='
/** LCG steps per spin task: about 60 ms on a full core here (≈ 0.13 s at 0.5 core). */
const SPIN_ITERS = Number(process.env.BENCH_SPIN_ITERS ?? 30_000_000)

type Workload = { kind: 'image', width: number, height: number } | { kind: 'spin', tasks: number }

/**
 * Runs one job from `page` and times it from the page. Image jobs go through
 * `fedra.imageJob` and the 50% / 90% marks come from a page-side poller of
 * `fedra.state.progress`; spin jobs go through `fedra.peer.runTasks` with
 * the benchmark's own progress callback (which also counts backup copies).
 * `local` runs on the page's own device only.
 */
async function runJob (page: Page, devices: Device[], opts: { local: boolean, backups?: boolean, work: Workload }, during?: (page: Page) => Promise<void>): Promise<JobRun> {
  const cpu0 = new Map(devices.map(d => [d.id, d.tb.cpuSeconds()]))
  const job = page.evaluate(async (o) => {
    const fedra = (window as W).fedra
    const t0 = performance.now()
    const marks: Record<string, number> = {}
    ;(window as W).__benchHalf = false
    const mark = (done: number, total: number): void => {
      for (const th of [0.5, 0.9]) if (marks[th] == null && done >= th * total) marks[th] = performance.now() - t0
      if (marks[0.5] != null) (window as W).__benchHalf = true
    }
    if (o.work.kind === 'image') {
      const ref = fedra.state.progress
      const poll = setInterval(() => {
        const p = fedra.state.progress
        if (p !== ref && p.total > 0) mark(p.done, p.total)
      }, 5)
      try {
        const r = await fedra.imageJob({ filter: o.filter, tileSize: o.tile, local: o.local, backups: o.backups, size: { width: o.work.width, height: o.work.height } })
        return { ms: r.ms as number, tasks: r.tiles.length as number, hash: r.hash as string, owners: r.owners as string[], t50: marks[0.5] ?? NaN, t90: marks[0.9] ?? NaN, backups: NaN }
      } finally {
        clearInterval(poll)
      }
    }
    const w = window as W
    if (w.__spinCid == null) {
      w.__spinCid = await fedra.peer.publishFunction(Uint8Array.from(atob(o.wasm), c => c.charCodeAt(0)))
    }
    const specs = Array.from({ length: o.work.tasks }, (_, i) => {
      const input = new Uint8Array(8)
      new DataView(input.buffer).setUint32(0, o.iters, true)
      new DataView(input.buffer).setUint32(4, i + 1, true)
      return { id: `spin-${i}`, fnCid: w.__spinCid, entry: 'spin', input: { bytes: input }, params: new Uint8Array(0), requirement: { runtime: 'wasm', memoryPages: 1 }, limits: { memoryPages: 1, timeoutMs: 120_000 } }
    })
    // "all on my own device", as localOnly() (not on window): two in flight per slot
    const scheduler = o.local
      ? {
          name: 'bench-local',
          place: (pending: W[], offers: W[]) => {
            const self = offers.find(x => x.self)
            if (self == null) return []
            return pending.slice(0, Math.max(0, self.caps.slots * 2 - self.inFlight)).map(t => ({ taskId: t.id, workerId: self.workerId }))
          }
        }
      : undefined
    let backups = 0
    const out = await fedra.peer.runTasks(specs, {
      scheduler,
      backups: o.backups,
      onProgress: (e: W) => {
        if (e.type === 'task-done') mark(e.done, e.total)
        if (e.type === 'backup') backups++
      }
    })
    const ms = performance.now() - t0
    const all = new Uint8Array(specs.length * 4)
    specs.forEach((s, i) => { all.set(out.get(s.id).output.subarray(0, 4), i * 4) })
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', all))
    const hash = [...d].map(b => b.toString(16).padStart(2, '0')).join('')
    return { ms, tasks: specs.length, hash, owners: specs.map(s => out.get(s.id).workerId as string), t50: marks[0.5] ?? NaN, t90: marks[0.9] ?? NaN, backups }
  }, { ...opts, filter: FILTER, tile: TILE, wasm: SPIN_WASM_B64, iters: SPIN_ITERS })
  if (during != null) await during(page)
  const r = await job
  return { ...r, cpu: new Map(devices.map(d => [d.id, d.tb.cpuSeconds() - (cpu0.get(d.id) ?? 0)])) }
}

const IMAGE_SWARM: Workload = { kind: 'image', width: JOB_W, height: JOB_H }
const IMAGE_ALONE: Workload = { kind: 'image', width: JOB_W, height: STANDALONE_ROWS * TILE }
const SPIN_SWARM: Workload = { kind: 'spin', tasks: SPIN_TASKS }
/** A standalone spin job of about 2 s on a device of `quota` cores (≥ 4 tasks). */
const spinAlone = (quota: number): Workload => ({ kind: 'spin', tasks: Math.max(4, Math.round(quota * 2000 / (SPIN_ITERS / 1e6))) })
const tasksOf = (w: Workload): number => w.kind === 'spin' ? w.tasks : Math.ceil(w.width / TILE) * Math.ceil(w.height / TILE)
const describe = (w: Workload): string => w.kind === 'spin' ? `spin ×${w.tasks} (${fmt(SPIN_ITERS / 1e6, 0)} M LCG steps each)` : `${FILTER} ${w.width}×${w.height}, tiles ${TILE} px (${tasksOf(w)} tasks)`

/** Warm-up: compiles both functions on every worker and lets the submitter learn every worker's speed. */
async function warmUp (room: { submitter: Device, workers: Device[] }, kinds: Array<Workload['kind']>): Promise<void> {
  await Promise.all(room.workers.map(async w => {
    if (kinds.includes('image')) await runJob(w.page, [w], { local: true, work: { kind: 'image', width: TILE * 2, height: TILE } })
    if (kinds.includes('spin')) await runJob(w.page, [w], { local: true, work: { kind: 'spin', tasks: 2 } })
  }))
  for (const w of room.workers) w.tb.setQuota(w.quota)
  if (kinds.includes('image')) await runJob(room.submitter.page, [], { local: false, work: IMAGE_SWARM })
  if (kinds.includes('spin')) await runJob(room.submitter.page, [], { local: false, work: { kind: 'spin', tasks: room.workers.length * 4 } })
  await settle(room.workers)
}

async function throttleCheck (): Promise<Array<Record<string, string>>> {
  const rows: Array<Record<string, string>> = []
  let full = NaN
  for (const q of [1.0, 0.5, 0.25, 0.1]) {
    const tb = await launchThrottledBrowser({ name: `loop${Math.round(q * 100)}`, quotaCores: q })
    try {
      const page = await tb.browser.newPage()
      await page.setContent('<p>loop</p>')
      // the first seconds of a throttled browser go to its own start-up
      await workerLoopRate(page, 1500)
      await workerLoopRate(page, 1500)
      const c0 = tb.cpuSeconds()
      const t0 = Date.now()
      const rate = median([await workerLoopRate(page, 2000), await workerLoopRate(page, 2000)])
      const cores = (tb.cpuSeconds() - c0) / ((Date.now() - t0) / 1000)
      if (q === 1) full = rate
      rows.push({ quota: `${q} core`, 'worker loops/s': fmt(rate, 0), 'vs quota 1.0': `${fmt(rate / full)}×`, 'cgroup CPU used': `${fmt(cores)} cores` })
    } finally {
      await tb.close()
    }
  }
  return rows
}

async function main (): Promise<void> {
  const relay = await startRelay(DIST)
  const t0 = Date.now()
  try {
    if (ONLY.has('throttle')) {
      console.log('\n== CPU cgroup throttling: a busy loop in a Web Worker, one browser at a time, after warm-up\n')
      console.log(table(await throttleCheck()))
    }

    const effRows: Array<Record<string, string>> = []
    const detail: Array<Record<string, string>> = []
    const churnRows: Array<Record<string, string>> = []
    const sizes = (ONLY.has('efficiency') ? (process.env.BENCH_N ?? '2,4,6').split(',').map(Number) : ONLY.has('churn') ? [6] : []).filter(n => ROOMS[n] != null)
    const kinds = (process.env.BENCH_WORK ?? 'spin,image').split(',') as Array<Workload['kind']>
    for (const n of sizes) {
      const quotas = ROOMS[n]
      const room = await openRoom(relay.url, `n${n}`, quotas)
      const devices = [room.submitter, ...room.workers]
      try {
        await warmUp(room, kinds)
        for (const kind of kinds) {
          const aloneBusy = new Map<string, number>()
          // standalone: every worker runs the job alone on its own device, all at once (each capped by its quota)
          const alone = await Promise.all(room.workers.map(async w => {
            const work = kind === 'spin' ? spinAlone(w.quota ?? 1) : IMAGE_ALONE
            const runs: JobRun[] = []
            for (let i = 0; i < REPS; i++) runs.push(await runJob(w.page, [w], { local: true, work }))
            const r = runs.reduce((a, b) => a.ms < b.ms ? a : b)
            aloneBusy.set(w.id, (r.cpu.get(w.id) ?? NaN) / ((w.quota ?? 1) * r.ms / 1000))
            return median(runs.map(r => r.tasks / (r.ms / 1000)))
          }))
          await settle(room.workers)
          const work = kind === 'spin' ? SPIN_SWARM : IMAGE_SWARM
          const swarmRuns: JobRun[] = []
          for (let i = 0; i < REPS; i++) {
            swarmRuns.push(await runJob(room.submitter.page, devices, { local: false, work }))
            await settle(room.workers)
          }
          const sumAlone = alone.reduce((a, b) => a + b, 0)
          const swarmMs = median(swarmRuns.map(r => r.ms))
          // the run nearest the median stands for the per-worker figures
          const best = swarmRuns.reduce((a, b) => Math.abs(b.ms - swarmMs) < Math.abs(a.ms - swarmMs) ? b : a)
          const swarmRate = best.tasks / (swarmMs / 1000)
          effRows.push({
            N: String(n),
            job: describe(work),
            'quotas (cores)': quotas.join(' + ') + ` = ${fmt(quotas.reduce((a, b) => a + b, 0))}`,
            'Σ standalone': `${fmt(sumAlone, 1)} tasks/s`,
            swarm: `${fmt(swarmRate, 1)} tasks/s`,
            makespan: `${fmt(swarmMs, 0)} ms`,
            ideal: `${fmt(best.tasks / sumAlone * 1000, 0)} ms`,
            efficiency: fmt(swarmRate / sumAlone),
            runs: swarmRuns.map(r => fmt(r.ms, 0)).join(', '),
            'submitter CPU': `${fmt(best.cpu.get(room.submitter.id) ?? NaN, 1)} s`
          })
          room.workers.forEach((w, i) => {
            const got = best.owners.filter(o => o === w.id).length
            const cpu = best.cpu.get(w.id) ?? NaN
            detail.push({
              N: String(n),
              job: kind,
              worker: `w${i}`,
              quota: `${w.quota} core`,
              standalone: `${fmt(alone[i], 2)} tasks/s`,
              'fair share': `${fmt(alone[i] / sumAlone * best.tasks, 1)} tasks`,
              got: `${got} tasks`,
              'busy alone': `${fmt((aloneBusy.get(w.id) ?? NaN) * 100, 0)}%`,
              'busy in swarm': `${fmt(cpu / ((w.quota ?? 1) * best.ms / 1000) * 100, 0)}%`
            })
          })

          if (n === 6 && kind === 'spin' && ONLY.has('churn')) {
            const leaving = CHURN_LEAVE.map(i => room.workers[i])
            const quotaAll = quotas.reduce((a, b) => a + b, 0)
            const quotaGone = CHURN_LEAVE.reduce((a, i) => a + quotas[i], 0)
            let closedAt = NaN
            const churn = await runJob(room.submitter.page, devices.filter(d => !leaving.includes(d)), { local: false, work }, async (page) => {
              // fedra.state.progress only follows image jobs: poll the page's own marks instead
              const started = Date.now()
              await page.waitForFunction(() => (window as W).__benchHalf === true, undefined, { polling: 10, timeout: 120_000 }).catch(() => {})
              closedAt = Date.now() - started
              await Promise.all(leaving.map(async d => d.tb.close()))
            })
            churnRows.push({ run: 'undisturbed (6 workers)', makespan: `${fmt(swarmMs, 0)} ms`, ratio: '1.00', 'ideal ratio': '1.00', output: best.hash.slice(0, 12) })
            churnRows.push({
              run: `w${CHURN_LEAVE.join(', w')} (${fmt(quotaGone)} of ${fmt(quotaAll)} cores) closed at 50% (${fmt(closedAt, 0)} ms)`,
              makespan: `${fmt(churn.ms, 0)} ms`,
              ratio: `${fmt(churn.ms / swarmMs)}×`,
              // first half at full capacity, second half at what is left
              'ideal ratio': `${fmt(0.5 + 0.5 * quotaAll / (quotaAll - quotaGone))}×`,
              output: `${churn.hash.slice(0, 12)} ${churn.hash === best.hash ? '(identical)' : '(DIFFERENT)'}`
            })
          }
        }
      } finally {
        await room.close()
      }
      console.log(`\n-- N = ${n} measured (${fmt((Date.now() - t0) / 1000, 0)} s so far)\n` + table(effRows.filter(r => r.N === String(n))))
    }
    if (effRows.length > 0) {
      console.log(`\n== Swarm efficiency: swarm rate / Σ standalone rates (each worker its own Chromium in a CPU cgroup)\n   standalone: each worker runs the job alone (local), all workers at once, each capped by its quota (spin: ~2 s of tasks per worker; image: ${describe(IMAGE_ALONE)});\n   swarm: a submitter tab with volunteering off (own browser, unthrottled, its CPU not counted) submits, the workers share it; default scheduler, backups on; median of ${REPS}\n`)
      console.log(table(effRows))
      console.log('\n   per worker (median-makespan run): "fair share" = tasks in proportion to its standalone rate; "busy" = cgroup CPU used / (quota × job time)\n')
      console.log(table(detail))
    }
    if (churnRows.length > 0) {
      console.log(`\n== Churn overhead: ⅓ of the workers' browsers closed at 50% progress vs undisturbed\n   ${describe(SPIN_SWARM)}; room ${ROOMS[6].join(', ')} cores; ideal ratio = 0.5 + 0.5 × capacity before / capacity after\n`)
      console.log(table(churnRows))
    }

    if (ONLY.has('backups')) {
      const room = await openRoom(relay.url, 'strag', STRAGGLER_ROOM)
      const straggler = room.workers[room.workers.length - 1]
      const devices = [room.submitter, ...room.workers]
      const rows: Array<Record<string, string>> = []
      try {
        await warmUp(room, ['spin'])
        const runs: Record<'on' | 'off', JobRun[]> = { on: [], off: [] }
        for (let i = 0; i < REPS; i++) {
          for (const mode of ['off', 'on'] as const) {
            runs[mode].push(await runJob(room.submitter.page, devices, { local: false, backups: mode === 'on', work: SPIN_SWARM }))
            await settle([straggler], 30_000)
          }
        }
        const tail = (r: JobRun): number => r.ms - r.t90
        for (const mode of ['off', 'on'] as const) {
          const rs = runs[mode]
          rows.push({
            backups: mode,
            makespan: `${fmt(median(rs.map(r => r.ms)), 0)} ms`,
            'tail 90→100%': `${fmt(median(rs.map(tail)), 0)} ms`,
            'runs (makespan/tail ms)': rs.map(r => `${fmt(r.ms, 0)}/${fmt(tail(r), 0)}`).join(', '),
            'backup copies': rs.map(r => String(r.backups)).join(', '),
            'won by straggler': rs.map(r => r.owners.filter(o => o === straggler.id).length).join(', '),
            'straggler CPU': rs.map(r => fmt(r.cpu.get(straggler.id) ?? NaN, 2)).join(', ') + ' s'
          })
        }
        const offTail = median(runs.off.map(tail))
        const onTail = median(runs.on.map(tail))
        const offMs = median(runs.off.map(r => r.ms))
        const onMs = median(runs.on.map(r => r.ms))
        rows.push({ backups: 'gain', makespan: `${fmt((1 - onMs / offMs) * 100, 0)}% shorter`, 'tail 90→100%': `${fmt((1 - onTail / offTail) * 100, 0)}% shorter` })
      } finally {
        await room.close()
      }
      console.log(`\n== Backup tasks: one straggler, backups on vs off (runs alternate, off first)\n   ${describe(SPIN_SWARM)}; room ${STRAGGLER_ROOM.join(', ')} cores (the last is the straggler); median of ${REPS}\n`)
      console.log(table(rows))
    }
    console.log(`\n(scheduling benchmarks took ${fmt((Date.now() - t0) / 1000, 0)} s)`)
  } finally {
    await relay.stop()
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
