import { DEFAULT_BEAT_INTERVAL_MS, MISSED_BEATS_TO_DIE } from '../registry/registry.js'
import { PROGRESS_EVERY_MS } from '../protocol/task.js'
import { ectScheduler } from '../scheduler/ect-scheduler.js'
import { TaskTimeEstimator } from '../scheduler/estimates.js'
import { POLICY } from '../scheduler/policy-config.js'
import { leastLoaded } from '../scheduler/least-loaded.js'
import { localOnly } from '../scheduler/local-only.js'
import { JobDriver, newStats } from './drive.js'
import { PROFILES, drawPeer } from './peers.js'
import { Rng } from './prng.js'
import { World } from './world.js'
import { DEFAULT_WORKLOAD, makeJob } from './workload.js'
import { lowerBound, policyPeers } from './bounds.js'
import { oracleMakespan } from './oracle.js'
import type { TaskSpec, TaskOutcome } from '../job/types.js'
import type { ApplicationScheduler } from '../scheduler/types.js'
import type { SimConfig, SimResult } from './config.js'
import type { SimPeer } from './peers.js'
import type { SimTask } from './workload.js'

export type { SchedulerChoice, SimConfig, SimResult } from './config.js'

/**
 * A deterministic discrete-event simulation of a MapReduce job on a room of
 * simulated peers. The decisions are the job policy's (src/core/job), the
 * same a browser's runner takes: the map phase is one job, the reduce
 * phase a second once every map is done, each driven as `runTasks` drives
 * it (drive.ts). Everything else is the world (world.ts): peers, links,
 * speeds, churn, work. Same config, same result.
 */
export function simulate (config: SimConfig): SimResult {
  const rng = new Rng(config.seed)
  const quorum = Math.max(1, config.quorum ?? 1)
  const progressMs = config.progressMs ?? PROGRESS_EVERY_MS
  const split = config.split ?? true
  const draw = { stragglers: config.stragglers ?? 0.01, stragglerSlowdown: config.stragglerSlowdown ?? 10, liars: config.liars ?? 0, mix: config.mix }

  // peers: the submitting laptop (never leaves), the room, churn
  const peers: SimPeer[] = config.peerList ?? [drawPeer(rng, 0, { stragglers: 0, stragglerSlowdown: 1, liars: 0 }, PROFILES[1])]
  if (config.peerList == null) {
    peers[0].self = true
    for (let i = 1; i < config.peers; i++) peers.push(drawPeer(rng, i, draw))
  }
  const job = makeJob(rng, { ...DEFAULT_WORKLOAD, ...config.workload, tasks: config.tasks, reducers: config.reducers ?? Math.floor(config.tasks / 100) })
  const churn = config.churn ?? 0
  if (churn > 0 && config.peerList == null) {
    const horizon = lowerBound(peers, job).lowerBoundMs
    const n = Math.round(churn * config.peers)
    const stay = peers.slice(1)
    for (let i = 0; i < n && stay.length > 0; i++) {
      const p = stay.splice(rng.int(stay.length), 1)[0]
      p.leaveAt = rng.uniform(0, horizon)
    }
    for (let i = 0; i < n; i++) {
      const p = drawPeer(rng, peers.length, draw)
      p.joinAt = rng.uniform(0, horizon)
      peers.push(p)
    }
  }
  // low-battery devices held in reserve offer no speed while others fit (the battery policy)
  const offered = policyPeers(peers, job, config.ect?.batteryThreshold ?? POLICY.batteryThreshold)
  const bound = lowerBound(offered, job, { splittable: split && progressMs > 0 && quorum === 1 })
  const oracleMs = config.oracle === true ? oracleMakespan(offered, job) : undefined

  // the submitter: the room's self peer (it runs its own copies without a link), or a device that does not volunteer
  const selfPeer = peers.find(p => p.self)
  const self = selfPeer != null
    ? { id: selfPeer.id, caps: selfPeer.caps, consent: true }
    : { id: 'submitter', caps: { ...PROFILES[1].caps, runtimes: ['wasm' as const], videoDecode: [], videoEncode: [] }, consent: false }
  const world = new World(peers, self, {
    rng,
    progressMs,
    partialOutputs: config.resumable ?? true,
    detectMs: config.detectMs ?? DEFAULT_BEAT_INTERVAL_MS * MISSED_BEATS_TO_DIE,
    jitter: config.jitter ?? 0.1
  })
  // inputs live on two peers each (replicas), and with the submitter, which holds every function too
  const initial = peers.filter(p => p.joinAt === 0)
  for (const t of job.map) {
    for (let r = 0; r < 2; r++) world.hold(initial[rng.int(initial.length)], t.inputCids[0])
  }
  if (selfPeer != null) for (const t of [...job.map, ...job.reduce]) { world.hold(selfPeer, t.functionCid); world.hold(selfPeer, t.inputCids[0]) }

  const choice = config.scheduler ?? 'ect'
  const given = typeof choice === 'object' ? choice : undefined
  const estimator = config.estimator ?? (given as { estimator?: TaskTimeEstimator } | undefined)?.estimator ?? new TaskTimeEstimator()
  const scheduler: ApplicationScheduler = given ?? (choice === 'least-loaded' ? leastLoaded() : choice === 'local-only' ? localOnly() : ectScheduler({ ...config.ect, estimator }))

  const stats = newStats()
  const results = new Map<string, { workerId: string, digest: string, at: number }>()
  let wrongAccepted = 0
  let makespan = 0
  const peerById = new Map(peers.map(p => [p.id, p]))
  const taskById = new Map([...job.map, ...job.reduce].map(t => [t.id, t]))
  const onDone = (taskId: string, o: TaskOutcome, at: number): void => {
    const liar = (o.itemWorkers ?? [o.workerId]).some(w => peerById.get(w)?.liar === true)
    if (liar) wrongAccepted++
    results.set(taskId, { workerId: o.workerId, digest: liar ? `bad:${o.workerId}:${taskId}` : `ok:${taskId}`, at })
    makespan = at
  }

  const phases = [job.map, job.reduce].filter(ts => ts.length > 0)
  let current: JobDriver | undefined
  let done = phases.length === 0
  const startPhase = (i: number): void => {
    current = new JobDriver({
      world,
      selfId: self.id,
      scheduler,
      estimator,
      options: { backups: config.backups ?? false, quorum, split, lateBinding: config.lateBinding ?? false, waitForWorkers: true },
      tickMs: config.tickMs ?? POLICY.tickMs,
      eventTickMs: config.eventTickMs ?? 0,
      clock: config.clock ?? (() => 0),
      stats,
      peerById,
      taskById,
      onDispatch: config.onDispatch,
      onDone
    }, phases[i].map(taskSpec), () => {
      if (i + 1 < phases.length) startPhase(i + 1)
      else done = true
    })
    current.start()
  }
  world.start({
    dropped: p => { current?.dropped(p) },
    run: (c, end, outcome) => {
      // a lost run's items whose outputs went out with its reports are kept
      if (outcome === 'lost' && c.batch && c.partial) stats.keptWorkMs += (c.reported - c.from) * c.task.workMs / (c.task.items ?? 1)
      config.onRun?.(c, end, outcome)
    }
  })
  if (!done) startPhase(0)
  const horizonMs = config.horizonMs ?? 100 * bound.lowerBoundMs
  let events = 0
  while (!done && world.now <= horizonMs && world.step()) events++

  return {
    scheduler: scheduler.name,
    makespanMs: done ? makespan : Infinity,
    lowerBoundMs: bound.lowerBoundMs,
    workBoundMs: bound.workBoundMs,
    criticalPathMs: bound.criticalPathMs,
    oracleMs,
    ratio: (done ? makespan : Infinity) / bound.lowerBoundMs,
    tasks: job.map.length + job.reduce.length,
    completed: results.size,
    duplicates: stats.duplicates,
    reExecuted: stats.reExecuted,
    backupsLaunched: stats.backupsLaunched,
    backupsWon: stats.backupsWon,
    steals: stats.steals,
    splits: stats.splits,
    spreads: stats.spreads,
    quietCuts: stats.quietCuts,
    keptWorkMs: stats.keptWorkMs,
    liars: peers.filter(p => p.liar).length,
    liarsCaught: stats.liarsCaught.size,
    wrongAccepted,
    violations: stats.violations,
    decisions: stats.sends,
    decisionMs: stats.policyMs,
    meanDecisionUs: stats.sends > 0 ? stats.policyMs * 1000 / stats.sends : 0,
    tickDecisionMs: stats.tickMs,
    ticks: stats.ticks,
    events,
    peersJoined: peers.filter(p => p.joinAt > 0 && p.joinAt <= world.now).length,
    peersLeft: peers.filter(p => p.leaveAt <= world.now).length,
    results,
    peers
  }
}

const NO_PARAMS = new Uint8Array(0)

/** A simulated task as a caller gives it to a job: its input by CID, with its size; a task over items is a batch task. */
export function taskSpec (t: SimTask): TaskSpec {
  return {
    id: t.id,
    fnCid: t.functionCid,
    entry: 'run',
    input: { cid: t.inputCids[0] },
    params: NO_PARAMS,
    requirement: t.requirement,
    limits: { memoryPages: t.requirement.memoryPages ?? 1, timeoutMs: 3_600_000 },
    // the submitter stored the input, so it knows its size
    ...(t.inputBytes?.[0] != null ? { inputBytes: t.inputBytes[0] } : {}),
    ...(t.items != null ? { items: t.items } : {})
  }
}
