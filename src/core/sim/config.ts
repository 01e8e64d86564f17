import type { ApplicationScheduler } from '../scheduler/types.js'
import type { EctInit } from '../scheduler/ect.js'
import type { TaskTimeEstimator } from '../scheduler/estimates.js'
import type { SimPeer } from './peers.js'
import type { SimCopy } from './world.js'
import type { WorkloadInit } from './workload.js'

/** What `simulate` is given (config) and what it reports (result). */
export type SchedulerChoice = 'ect' | 'least-loaded' | 'local-only' | ApplicationScheduler

/**
 * A simulated room and job. The world (peers, links, churn, work) is drawn
 * from the seed; the decisions are the job policy's (src/core/job), the
 * same code a browser runs, with the options a caller of `runTasks` has.
 */
export interface SimConfig {
  seed: number
  peers: number
  tasks: number
  /** Share of the peers that leave during the job; as many new ones join. */
  churn?: number

  // — the policy's options (src/core/job/types.ts, JobPolicyOptions) —
  /** The application scheduler (default 'ect': `ectScheduler`, as a browser peer's default). */
  scheduler?: SchedulerChoice
  /** Tuning of the ECT scheduler (its estimator is the simulation's). */
  ect?: EctInit
  /** The device's estimator, kept across the job's phases (default: the scheduler's, else a new one). */
  estimator?: TaskTimeEstimator
  backups?: boolean
  /** Agreeing results per task (1: trust the first). */
  quorum?: number
  /** Tail splits and cuts of batch tasks (default true). */
  split?: boolean
  /** Late binding: a worker that comes free takes over a copy still waiting elsewhere (default false, as `runTasks`). */
  lateBinding?: boolean

  // — the loop (src/peer/job-runner.ts) —
  /** The policy ticks at least this often, ms of simulated time (default `POLICY.tickMs`). */
  tickMs?: number
  /**
   * After an event that wakes the runner's loop (a copy ended, a peer was
   * lost) the policy ticks at once (0, the default: as the runner), or at
   * most once per this many ms, all such events since the last tick
   * together: a room of thousands of peers makes a tick cost tens of ms,
   * and a runner cannot tick more often than its ticks take.
   */
  eventTickMs?: number

  // — the world —
  /** Share of peers that return wrong results. */
  liars?: number
  /** Share of peers much slower than their description says. */
  stragglers?: number
  /** Shares of the device profiles drawn, by name (default `PROFILES`' shares: phone 0.45, laptop 0.35, desktop 0.1, mcu 0.1). */
  mix?: Partial<Record<'phone' | 'laptop' | 'desktop' | 'mcu', number>>
  stragglerSlowdown?: number
  /** Reduce tasks (partitions); default tasks / 100; 0: a bag of tasks. */
  reducers?: number
  workload?: Partial<Omit<WorkloadInit, 'tasks' | 'reducers'>>
  /** A peer that vanishes without a bye is dropped by the registry after this long, ms (default 6000: three missed 2 s beats). */
  detectMs?: number
  /** Workers report progress on a running copy this often, ms (default `PROGRESS_EVERY_MS`; 0: never). */
  progressMs?: number
  /** Workers send the outputs of a batch copy's items with their reports, so a lost run keeps them (default true). */
  resumable?: boolean
  /** Shape σ of the log-normal execution noise of one run of a task (default 0.1). */
  jitter?: number
  /** Peers to use instead of drawing them (tests, calibration against a measured room). */
  peerList?: SimPeer[]

  // — what is measured —
  /** Clock for the policy's own time (performance.now in the CLI); default: none. */
  clock?: () => number
  /** Called on every copy sent (tests check placements). */
  onDispatch?: (c: SimCopy) => void
  /** Called when a run of a copy on a slot ends, however it ends (diagnostics: where capacity goes). */
  onRun?: (c: SimCopy, endMs: number, outcome: 'finished' | 'cancelled' | 'lost') => void
  /** Also schedule the job clairvoyantly (`oracleMakespan`: true sizes, speeds, joins and leaves) for reference. */
  oracle?: boolean
  /** Give up at this much simulated time, ms (default 100 × the lower bound): a policy that stalls returns what it finished. */
  horizonMs?: number
}

export interface SimResult {
  scheduler: string
  makespanMs: number
  lowerBoundMs: number
  workBoundMs: number
  criticalPathMs: number
  /** Makespan of the clairvoyant reference schedule, when `oracle` was asked for. */
  oracleMs?: number
  ratio: number
  /** The caller's tasks (maps and reduces). */
  tasks: number
  /** Of those, done. */
  completed: number
  /** Results that came for copies the policy had already stopped (wasted runs). */
  duplicates: number
  /** Tasks the policy put back to pending because their copy was lost (`requeued`). */
  reExecuted: number
  backupsLaunched: number
  /** Tasks whose result came from a backup copy. */
  backupsWon: number
  /** Waiting copies moved to workers that came free (`lateBinding`). */
  steals: number
  /** Running batch tasks split in the tail, a piece sent to an idle worker. */
  splits: number
  /** Batch copies cut because their worker fell quiet or never started them: the rest went back to pending. */
  quietCuts: number
  /** Pieces cut from batch tasks spread over idle workers as they were placed. */
  spreads: number
  /** Reference work of lost runs whose items' outputs had come with their reports, ms. */
  keptWorkMs: number
  liars: number
  liarsCaught: number
  /** Tasks done with an output (or an item's) from a liar. */
  wrongAccepted: number
  /** Copies sent to a peer that fails the task's requirement (must be 0). */
  violations: number
  /** Copies sent (each a placement decision: first copies, re-queues, pieces, backups, replicas). */
  decisions: number
  /** Wall time spent in the job policy's calls (ticks, reports, results, failures), ms. */
  decisionMs: number
  /** `decisionMs` per copy sent, µs. */
  meanDecisionUs: number
  /** Of `decisionMs`, in the policy's ticks (placement, cuts, the tail), ms; the rest is reports, results and losses. */
  tickDecisionMs: number
  /** Ticks of the policy. */
  ticks: number
  events: number
  peersJoined: number
  peersLeft: number
  /** The caller's tasks: who gave the result kept, its digest (`ok:<id>` unless a liar's), when. */
  results: Map<string, { workerId: string, digest: string, at: number }>
  /** The room as simulated (joins, leaves, true speeds). */
  peers: readonly SimPeer[]
}
