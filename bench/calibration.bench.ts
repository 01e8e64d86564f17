import { simulate } from '../src/core/sim/simulator.js'
import { leastLoaded } from '../src/core/scheduler/least-loaded.js'
import { ectScheduler } from '../src/core/scheduler/ect-scheduler.js'
import { TaskTimeEstimator } from '../src/core/scheduler/estimates.js'
import { POLICY } from '../src/core/scheduler/policy-config.js'
import { fmt, median, quantile, table } from './stats.js'
import { SPIN_ITERS, SPIN_WASM_BYTES, openRoom, reopenWorker, runJob, settle, warmUp } from './rooms.js'
import type { Device, JobRun, Room, W } from './rooms.js'
import type { SimConfig, SimResult } from '../src/core/sim/simulator.js'
import type { SimPeer } from '../src/core/sim/peers.js'
import type { Capabilities } from '../src/core/requirements/capabilities.js'

/**
 * Simulator calibration against the real swarm (issue 11): measure a room of
 * cgroup-throttled browsers (per-task time of the spin function on each
 * worker, round trip and bandwidth to each), run one scenario for real
 * (120 spin tasks; one worker's quota cut mid-job: a straggler; another
 * worker's browser closed mid-job: a peer leaving) and the same scenario in
 * src/core/sim with peers built from those figures and the scheduler the
 * real runner uses by default; print simulated vs measured makespan.
 *
 *   unshare --net bash -c 'ip link set lo up && exec node --import ./scripts/node-preload.mjs bench/calibration.bench.ts'
 *
 * Knobs (environment): FEDRA_DIST (dist), BENCH_CAL_QUOTAS (worker quotas,
 * 0.4,0.3,0.25,0.2,0.15,0.1), BENCH_CAL_TASKS (120), BENCH_CAL_STRAGGLER
 * (index of the straggler, 1), BENCH_CAL_SLOW_QUOTA (its quota after the
 * cut, 0.1), BENCH_CAL_SLOW_AT (share of tasks done when it is cut, 0.25),
 * BENCH_CAL_LEAVER (index of the worker that leaves, 3), BENCH_CAL_LEAVE_AT
 * (share done when its browser closes, 0.5), BENCH_REPS (real runs of each
 * scenario, 2), BENCH_CAL_SEEDS (simulator seeds, 20), BENCH_SPIN_ITERS
 * (30 M), plus the room knobs of bench/rooms.ts.
 */
const DIST = process.env.FEDRA_DIST ?? 'dist'
const QUOTAS = (process.env.BENCH_CAL_QUOTAS ?? '0.4,0.3,0.25,0.2,0.15,0.1').split(',').map(Number)
const TASKS = Number(process.env.BENCH_CAL_TASKS ?? 120)
const STRAGGLER = Number(process.env.BENCH_CAL_STRAGGLER ?? 1)
const SLOW_QUOTA = Number(process.env.BENCH_CAL_SLOW_QUOTA ?? 0.1)
const SLOW_AT = Number(process.env.BENCH_CAL_SLOW_AT ?? 0.25)
const LEAVER = Number(process.env.BENCH_CAL_LEAVER ?? 3)
const LEAVE_AT = Number(process.env.BENCH_CAL_LEAVE_AT ?? 0.5)
const REPS = Number(process.env.BENCH_REPS ?? 2)
const SEEDS = Number(process.env.BENCH_CAL_SEEDS ?? 20)
/** Reference work of one spin task in the simulator, ms on a "speed 1" slot (any value: speeds are relative to it). */
const REF_MS = 100

interface WorkerFigures {
  d: Device
  caps: Capabilities
  poolSize: number
  /** Standalone: job time / tasks on its own device, ms (median of REPS). */
  perTaskMs: number
  /** Worker-reported run time of each standalone task (for the jitter). */
  aloneTaskMs: number[]
  rttMs: number
  bandwidthBps: number
}

/**
 * Per-task time on the device alone: a spin job of about `seconds` that the
 * submitter sends to this worker only, no copies. A job run from the
 * worker's own tab (as before 2026-12-04) also put the job's orchestration
 * on the device's quota: at 0.1 core that made it look 2.8× slower than it
 * runs as a worker (4.7 s vs 1.7 s per task).
 */
async function standalone (sub: Device, w: Device, quota: number, seconds: number): Promise<{ perTaskMs: number, taskMs: number[] }> {
  const tasks = Math.max(4, Math.round(quota * seconds * 1000 / (SPIN_ITERS / 1e6 * 1.2)))
  const runs: JobRun[] = []
  for (let i = 0; i < REPS; i++) runs.push(await runJob(sub.page, [w], { local: false, only: w.id, backups: false, work: { kind: 'spin', tasks } }))
  return { perTaskMs: median(runs.map(r => r.ms / r.tasks)), taskMs: runs.flatMap(r => r.taskMs) }
}

/**
 * Round trip to one worker (a 1-step spin task sent straight to it, minus
 * the run time it reports) and bandwidth (the same with a 48 KiB input).
 */
async function link (sub: Device, worker: Device): Promise<{ rttMs: number, bandwidthBps: number }> {
  return sub.page.evaluate(async ({ to }) => {
    const fedra = (window as W).fedra
    const cid = (window as W).__spinCid as string
    const once = async (bytes: number, n: number): Promise<number> => {
      const input = new Uint8Array(bytes)
      new DataView(input.buffer).setUint32(0, 1, true)
      new DataView(input.buffer).setUint32(4, n + 1, true)
      const t0 = performance.now()
      const r = await fedra.peer.submitTo(to, { id: `probe-${bytes}-${n}`, job: 'probe', epoch: 0, fn: { cid }, entry: 'spin', input: { bytes: input }, params: new Uint8Array(0), limits: { memoryPages: 1, timeoutMs: 30_000 }, output: 'inline' })
      return performance.now() - t0 - (r.ms as number)
    }
    const med = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
    await once(8, 0)
    const small: number[] = []
    const big: number[] = []
    for (let i = 1; i <= 7; i++) small.push(await once(8, i))
    for (let i = 1; i <= 5; i++) big.push(await once(48 * 1024, i))
    const rtt = med(small)
    return { rttMs: rtt, bandwidthBps: (48 * 1024 - 8) * 1000 / Math.max(0.1, med(big) - rtt) }
  }, { to: worker.id })
}

interface Scenario {
  run: JobRun
  /** ms after the job's start. */
  slowAt?: number
  leaveAt?: number
  /** Time from the close until the submitter re-queued the leaver's tasks, ms. */
  detectMs?: number
}

/** The real scenario: straggler at SLOW_AT, leaver at LEAVE_AT (or neither). */
async function realRun (room: Room, disturbed: boolean): Promise<Scenario> {
  const straggler = room.workers[STRAGGLER]
  const leaver = room.workers[LEAVER]
  const out: Scenario = { run: undefined as unknown as JobRun }
  const devices = [room.submitter, ...room.workers]
  let closedAtEpoch = NaN
  out.run = await runJob(room.submitter.page, disturbed ? devices.filter(d => d !== leaver) : devices, { local: false, backups: true, work: { kind: 'spin', tasks: TASKS } }, disturbed
    ? async (page) => {
      const started = await page.evaluate(() => (window as W).__benchStartedAt as number)
      await page.waitForFunction((n) => (window as W).__benchDone >= n, Math.ceil(SLOW_AT * TASKS), { polling: 10, timeout: 120_000 })
      straggler.tb.setQuota(SLOW_QUOTA)
      out.slowAt = Date.now() - started
      await page.waitForFunction((n) => (window as W).__benchDone >= n, Math.ceil(LEAVE_AT * TASKS), { polling: 10, timeout: 120_000 })
      closedAtEpoch = Date.now()
      out.leaveAt = closedAtEpoch - started
      await leaver.tb.close()
    }
    : undefined)
  if (disturbed) {
    const requeued = out.run.events.find(e => e.type === 'requeued' && e.workerId === leaver.id)
    if (requeued != null && out.leaveAt != null) out.detectMs = Math.max(0, requeued.t - out.leaveAt)
  }
  return out
}

function simPeers (figs: WorkerFigures[], speeds: number[], sc?: Scenario, slowFactor?: number): SimPeer[] {
  return figs.map((f, i) => ({
    id: f.d.id,
    idx: i,
    profile: 'laptop',
    caps: f.caps,
    speed: speeds[i],
    rttMs: f.rttMs,
    bandwidthBps: f.bandwidthBps,
    joinAt: 0,
    leaveAt: sc?.leaveAt != null && i === LEAVER ? sc.leaveAt : Infinity,
    // noticed after the measured delay (detectMs), or after a round trip when it held no task
    cleanLeave: sc?.detectMs == null,
    straggler: false,
    liar: false,
    self: false,
    ...(sc?.slowAt != null && i === STRAGGLER ? { slowAt: sc.slowAt, slowFactor } : {})
  }))
}

function simRuns (peers: () => SimPeer[], schedulerName: string, jitter: number, detectMs: number | undefined): SimResult[] {
  const out: SimResult[] = []
  for (let seed = 1; seed <= SEEDS; seed++) {
    // the runner's scheduler object and its estimator: the simulator drives
    // the runner's job policy (src/core/job) with them
    const estimator = new TaskTimeEstimator()
    const scheduler = schedulerName === 'ect' ? ectScheduler({ estimator }) : leastLoaded()
    const config: SimConfig = {
      seed,
      peers: 0,
      tasks: TASKS,
      reducers: 0,
      peerList: peers(),
      scheduler,
      estimator,
      backups: true,
      // the runner ticks at least every tick, and after every event that wakes it
      tickMs: POLICY.tickMs,
      jitter,
      detectMs: detectMs ?? 3000,
      workload: { onnxShare: 0, mapWorkMs: REF_MS, sizeSigma: 0, chunkBytes: 8, mapFunctionBytes: SPIN_WASM_BYTES, mapItems: 0 }
    }
    out.push(simulate(config))
  }
  return out
}

async function main (): Promise<void> {
  const t0 = Date.now()
  let room: Room | undefined
  try {
    room = await openRoom(DIST, 'cal', QUOTAS)
    await warmUp(room, ['spin'])
    const schedulerName = await room.submitter.page.evaluate(() => (window as W).fedra.peer.scheduler.name as string)

    // (b) per worker: capabilities, standalone per-task time (all at once, each capped by its quota), link
    const r = room
    const alone = await Promise.all(r.workers.map(async w => standalone(r.submitter, w, w.quota ?? 1, 2.5)))
    console.error(`[cal] standalone per-task ms: ${alone.map(a => fmt(a.perTaskMs, 0)).join(', ')} (${fmt((Date.now() - t0) / 1000, 0)} s)`)
    await settle(r.workers)
    const figs: WorkerFigures[] = []
    for (const [i, w] of r.workers.entries()) {
      const info = await w.page.evaluate(() => {
        const f = (window as W).fedra
        return { caps: f.peer.capabilities as unknown, pool: (f.pool?.stats?.()?.size ?? null) as number | null, hc: navigator.hardwareConcurrency }
      })
      // the room may still reach this worker through the relay only (a
      // limited link carries no task streams): wait for the direct one
      await r.submitter.page.waitForFunction((id) => (window as W).fedra.peer.isDirect(id) === true, w.id, { polling: 100, timeout: 60_000 })
      let l: { rttMs: number, bandwidthBps: number } | undefined
      for (let attempt = 1; l == null; attempt++) {
        try { l = await link(r.submitter, w) } catch (err) {
          if (attempt >= 5) throw err
          await new Promise(resolve => setTimeout(resolve, 1000))
        }
      }
      figs.push({ d: w, caps: info.caps as Capabilities, poolSize: info.pool ?? (info.caps as Capabilities).slots, perTaskMs: alone[i].perTaskMs, aloneTaskMs: alone[i].taskMs, ...l })
    }
    console.error(`[cal] links measured (${fmt((Date.now() - t0) / 1000, 0)} s)`)
    // the straggler at its cut quota, alone
    const strag = r.workers[STRAGGLER]
    strag.tb.setQuota(SLOW_QUOTA)
    await settle([strag])
    const slowAlone = await standalone(r.submitter, strag, SLOW_QUOTA, 3)
    strag.tb.setQuota(strag.quota)
    await settle(r.workers)
    const slowFactor = slowAlone.perTaskMs / figs[STRAGGLER].perTaskMs
    console.error(`[cal] straggler alone at ${SLOW_QUOTA} core: ${fmt(slowAlone.perTaskMs, 0)} ms per task (${fmt((Date.now() - t0) / 1000, 0)} s)`)
    // jitter: σ of log(run time) of one worker's standalone tasks, median over workers
    const sigma = (xs: number[]): number => {
      const ls = xs.filter(x => x > 0).map(Math.log)
      const m = ls.reduce((a, b) => a + b, 0) / ls.length
      return Math.sqrt(ls.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, ls.length - 1))
    }
    const jitter = median(figs.map(f => sigma(f.aloneTaskMs)))

    // (c) the real runs: undisturbed and the scenario, alternating
    const undisturbed: Scenario[] = []
    const scenario: Scenario[] = []
    for (let i = 0; i < REPS; i++) {
      undisturbed.push(await realRun(r, false))
      await settle(r.workers)
      scenario.push(await realRun(r, true))
      console.error(`[cal] rep ${i + 1}: undisturbed ${fmt(undisturbed[i].run.ms, 0)} ms, scenario ${fmt(scenario[i].run.ms, 0)} ms (slow at ${fmt(scenario[i].slowAt ?? NaN, 0)}, close at ${fmt(scenario[i].leaveAt ?? NaN, 0)}, detected ${fmt(scenario[i].detectMs ?? NaN, 0)} ms later)`)
      strag.tb.setQuota(strag.quota)
      if (i < REPS - 1) await reopenWorker(r, LEAVER, [r.submitter, ...r.workers.filter((_, j) => j !== LEAVER)])
      await settle(r.workers)
    }

    // swarm-observed per-task time (worker-reported run time of its tasks in the undisturbed runs)
    const swarmTaskMs = figs.map(f => {
      const xs = undisturbed.flatMap(u => u.run.taskMs.filter((_, k) => u.run.owners[k] === f.d.id))
      return xs.length > 0 ? median(xs) : NaN
    })
    console.log(`\n== Calibration figures (room ${QUOTAS.join(', ')} cores; spin ${fmt(SPIN_ITERS / 1e6, 0)} M steps; runner's default scheduler: ${schedulerName})\n`)
    console.log(table(figs.map((f, i) => ({
      worker: `w${i}`,
      quota: `${f.d.quota} core`,
      'slots (pool)': `${f.caps.slots} (${f.poolSize})`,
      'per task alone': `${fmt(f.perTaskMs, 0)} ms`,
      'run time in swarm': `${fmt(swarmTaskMs[i], 0)} ms`,
      speed: fmt(REF_MS / f.perTaskMs, 3),
      rtt: `${fmt(f.rttMs, 1)} ms`,
      bandwidth: `${fmt(f.bandwidthBps / 1e6, 1)} MB/s`,
      'jitter σ': fmt(sigma(f.aloneTaskMs), 3),
      role: i === STRAGGLER ? `straggler: ${f.d.quota} → ${SLOW_QUOTA} core, ${fmt(slowAlone.perTaskMs, 0)} ms/task (×${fmt(slowFactor)})` : i === LEAVER ? 'leaves' : ''
    }))))

    // (d) the same in the simulator
    const speedsAlone = figs.map(f => REF_MS / f.perTaskMs)
    const speedsSwarm = swarmTaskMs.map((ms, i) => Number.isFinite(ms) ? REF_MS / ms : speedsAlone[i])
    const slowAt = median(scenario.map(s => s.slowAt ?? NaN).filter(Number.isFinite))
    const leaveAt = median(scenario.map(s => s.leaveAt ?? NaN).filter(Number.isFinite))
    const detects = scenario.map(s => s.detectMs).filter((x): x is number => x != null)
    const detectMs = detects.length > 0 ? median(detects) : undefined
    const simSc: Scenario = { run: scenario[0].run, slowAt, leaveAt, detectMs }
    const rows: Array<Record<string, string>> = []
    const row = (name: string, calib: string, real: Scenario[], sims: SimResult[]): void => {
      const meas = median(real.map(s => s.run.ms))
      const sim = median(sims.map(s => s.makespanMs))
      rows.push({
        scenario: name,
        'sim calibrated from': calib,
        measured: `${fmt(meas, 0)} ms`,
        'measured runs': real.map(s => fmt(s.run.ms, 0)).join(', '),
        simulated: `${fmt(sim, 0)} ms`,
        'sim p10–p90': `${fmt(quantile(sims.map(s => s.makespanMs), 0.1), 0)}–${fmt(quantile(sims.map(s => s.makespanMs), 0.9), 0)}`,
        'sim / measured': fmt(sim / meas, 3),
        'within 15%': Math.abs(sim / meas - 1) <= 0.15 ? 'yes' : 'NO',
        'backups sim / real': `${fmt(median(sims.map(s => s.backupsLaunched)), 0)} / ${real.map(s => s.run.backups).join(', ')}`
      })
    }
    row('undisturbed', 'standalone', undisturbed, simRuns(() => simPeers(figs, speedsAlone), schedulerName, jitter, undefined))
    row(`straggler + leaver`, 'standalone', scenario, simRuns(() => simPeers(figs, speedsAlone, simSc, slowFactor), schedulerName, jitter, detectMs))
    row('undisturbed', 'swarm run times', undisturbed, simRuns(() => simPeers(figs, speedsSwarm), schedulerName, jitter, undefined))
    row(`straggler + leaver`, 'swarm run times', scenario, simRuns(() => simPeers(figs, speedsSwarm, simSc, slowFactor), schedulerName, jitter, detectMs))
    console.log(`\n== Simulated vs measured makespan: ${TASKS} spin tasks, backups on, scheduler ${schedulerName}; scenario: w${STRAGGLER} cut ${figs[STRAGGLER].d.quota} → ${SLOW_QUOTA} core at ${fmt(slowAt, 0)} ms (${fmt(SLOW_AT * 100, 0)}% done), w${LEAVER}'s browser closed at ${fmt(leaveAt, 0)} ms (${fmt(LEAVE_AT * 100, 0)}% done), noticed ${detectMs == null ? 'n/a' : `${fmt(detectMs, 0)} ms`} later\n   measured: median of ${REPS}; simulated: median of ${SEEDS} seeds, jitter σ ${fmt(jitter, 3)}; "standalone" = per-task time alone on the device, "swarm run times" = run time its tasks reported in the undisturbed swarm runs\n`)
    console.log(table(rows))
    console.log(`\n(calibration took ${fmt((Date.now() - t0) / 1000, 0)} s)`)
  } finally {
    await room?.close()
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
