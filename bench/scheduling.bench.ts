import { launchThrottledBrowser, workerLoopRate } from '../e2e/cgroup.js'
import { fmt, median, table } from './stats.js'
import { SPIN_ITERS, openRoom, runJob, settle, warmUp } from './rooms.js'
import type { JobRun, W, Workload } from './rooms.js'

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
 * (room sizes of the efficiency table, 2,4,6), BENCH_WORK (spin,image),
 * BENCH_SPIN_TASKS (120), BENCH_SPIN_ITERS (30 M), BENCH_STRAGGLER (0.1).
 * Rooms (a relay of their own each, start-up without quotas, mesh retries)
 * come from bench/rooms.ts, whose knobs are BENCH_STARTUP_QUOTA (null),
 * BENCH_LAUNCH_BATCH (2), BENCH_MESH_TRY_MS (45000), BENCH_MESH_TRIES (3).
 */
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
/**
 * The straggler's quota until a quarter of the job is done; then it is cut
 * to its room quota. Slow from the start, it would be measured slow and
 * placement by ECT would keep it out; a device that slows down mid-job (a
 * phone getting hot) is what backups are for.
 */
const STRAGGLER_BEFORE = Number(process.env.BENCH_STRAGGLER_BEFORE ?? 0.3)
const SPIN_TASKS = Number(process.env.BENCH_SPIN_TASKS ?? 120)
/** Items per batch task in the backups table's split row (120 spin items → 15 tasks). */
const SPLIT_BATCH = Number(process.env.BENCH_SPLIT_BATCH ?? 8)

const IMAGE_SWARM: Workload = { kind: 'image', width: JOB_W, height: JOB_H }
const IMAGE_ALONE: Workload = { kind: 'image', width: JOB_W, height: STANDALONE_ROWS * TILE }
const SPIN_SWARM: Workload = { kind: 'spin', tasks: SPIN_TASKS }
/** A standalone spin job of about 2 s on a device of `quota` cores (≥ 4 tasks). */
const spinAlone = (quota: number): Workload => ({ kind: 'spin', tasks: Math.max(4, Math.round(quota * 2000 / (SPIN_ITERS / 1e6))) })
const tasksOf = (w: Workload): number => w.kind === 'spin' ? w.tasks : Math.ceil(w.width / TILE) * Math.ceil(w.height / TILE)
const describe = (w: Workload): string => w.kind === 'spin' ? `spin ×${w.tasks} (${fmt(SPIN_ITERS / 1e6, 0)} M LCG steps each)` : `${FILTER} ${w.width}×${w.height}, tiles ${TILE} px (${tasksOf(w)} tasks)`

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
  const t0 = Date.now()
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
    const room = await openRoom(DIST, `n${n}`, quotas)
    const devices = [room.submitter, ...room.workers]
    try {
      await warmUp(room, kinds, IMAGE_SWARM)
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
          const rateAll = alone.reduce((a, b) => a + b, 0)
          const rateGone = CHURN_LEAVE.reduce((a, i) => a + alone[i], 0)
          const requeued = churn.events.filter(e => e.type === 'requeued').reduce((a, e) => a + (e.taskIds?.length ?? 0), 0)
          churnRows.push({ run: 'undisturbed (6 workers)', makespan: `${fmt(swarmMs, 0)} ms`, ratio: '1.00', 'ideal ratio (quotas / rates)': '1.00', requeued: '', output: best.hash.slice(0, 12) })
          churnRows.push({
            run: `w${CHURN_LEAVE.join(', w')} (${fmt(quotaGone)} of ${fmt(quotaAll)} cores) closed at 50% (${fmt(closedAt, 0)} ms)`,
            makespan: `${fmt(churn.ms, 0)} ms`,
            ratio: `${fmt(churn.ms / swarmMs)}×`,
            // first half at full capacity, second half at what is left
            'ideal ratio (quotas / rates)': `${fmt(0.5 + 0.5 * quotaAll / (quotaAll - quotaGone))}× / ${fmt(0.5 + 0.5 * rateAll / (rateAll - rateGone))}×`,
            requeued: `${requeued} tasks`,
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
    console.log(`\n== Churn overhead: ⅓ of the workers' browsers closed at 50% progress vs undisturbed\n   ${describe(SPIN_SWARM)}; room ${ROOMS[6].join(', ')} cores; ideal ratio = 0.5 + 0.5 × capacity before / capacity after (capacity from the quotas / from the measured standalone rates)\n`)
    console.log(table(churnRows))
  }

  if (ONLY.has('backups')) {
    const room = await openRoom(DIST, 'strag', STRAGGLER_ROOM)
    const straggler = room.workers[room.workers.length - 1]
    const devices = [room.submitter, ...room.workers]
    const rows: Array<Record<string, string>> = []
    try {
      await warmUp(room, ['spin'])
      // split: the same spin items as batch tasks of SPLIT_BATCH, backups on: the tail is cut, not copied
      const runs: Record<'on' | 'off' | 'split', JobRun[]> = { on: [], off: [], split: [] }
      for (let i = 0; i < REPS; i++) {
        for (const mode of ['off', 'on', 'split'] as const) {
          straggler.tb.setQuota(STRAGGLER_BEFORE)
          runs[mode].push(await runJob(room.submitter.page, devices, { local: false, backups: mode !== 'off', work: SPIN_SWARM, batch: mode === 'split' ? SPLIT_BATCH : 1 }, async page => {
            await page.waitForFunction((n) => (window as W).__benchDone >= n, Math.ceil(SPIN_TASKS / 4), { polling: 10, timeout: 120_000 })
            straggler.tb.setQuota(straggler.quota)
          }))
          await settle([straggler], 30_000)
        }
      }
      const tail = (r: JobRun): number => r.ms - r.t90
      const hashes = new Set([...runs.off, ...runs.on, ...runs.split].map(r => r.hash))
      if (hashes.size !== 1) throw new Error(`the backups runs disagree on the output: ${[...hashes].join(', ')}`)
      for (const mode of ['off', 'on', 'split'] as const) {
        const rs = runs[mode]
        rows.push({
          backups: mode === 'split' ? `on, batch ×${SPLIT_BATCH} (splits: ${rs.map(r => String(r.splits ?? 0)).join(', ')})` : mode,
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
      const splitMs = median(runs.split.map(r => r.ms))
      rows.push({ backups: 'split vs off', makespan: `${fmt((1 - splitMs / offMs) * 100, 0)}% shorter (vs copies: ${fmt((1 - splitMs / onMs) * 100, 0)}%)`, 'tail 90→100%': '' })
    } finally {
      await room.close()
    }
    console.log(`\n== Backup tasks: one straggler, backups on vs off, and the same items as batch tasks (split in the tail; tail figure counts tasks, pieces included) (runs alternate, off first)\n   ${describe(SPIN_SWARM)}; room ${STRAGGLER_ROOM.slice(0, -1).join(', ')} cores and the straggler at ${STRAGGLER_BEFORE}, cut to ${STRAGGLER_ROOM[STRAGGLER_ROOM.length - 1]} once 25% is done; median of ${REPS}\n`)
    console.log(table(rows))
  }
  console.log(`\n(scheduling benchmarks took ${fmt((Date.now() - t0) / 1000, 0)} s)`)
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
