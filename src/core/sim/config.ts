import type { ApplicationScheduler } from '../scheduler/types.js'
import type { BackupPolicy } from '../scheduler/backups.js'
import type { EctInit } from '../scheduler/ect.js'
import type { SimPeer } from './peers.js'
import type { SimTask, WorkloadInit } from './workload.js'

/** What `simulate` is given (config) and what it reports (result). */
export type SchedulerChoice = 'ect' | 'least-loaded' | 'local-only' | ApplicationScheduler

export interface SimConfig {
  seed: number
  peers: number
  tasks: number
  /** Share of the peers that leave during the job; as many new ones join. */
  churn?: number
  scheduler?: SchedulerChoice
  backups?: boolean
  /** Agreeing results per task (1: trust the first). */
  quorum?: number
  /** Share of peers that return wrong results. */
  liars?: number
  /** Share of peers much slower than their description says. */
  stragglers?: number
  stragglerSlowdown?: number
  /** Reduce tasks (partitions); default tasks / 100; 0: a bag of tasks. */
  reducers?: number
  workload?: Partial<Omit<WorkloadInit, 'tasks' | 'reducers'>>
  /** A peer that vanishes without a bye is noticed after this long, ms (default 6000: three missed 2 s beats, as the room's registry). */
  detectMs?: number
  /** Offers per round for batch (ApplicationScheduler) mode, as a Mesos offer. */
  maxOffers?: number
  /** How often the backup policy looks at the tail, ms of simulated time (default `POLICY.tickMs`, as the runner's loop). */
  backupEveryMs?: number
  /**
   * While tasks are still pending, copy the tasks of suspect workers (one
   * of their tasks running over `overdueFactor` × its estimate) and tasks
   * expected to end long after the room drains the queue, at the front of
   * the queue (default true); the tail (nothing pending) always gets backups.
   */
  overdueBackups?: boolean
  /** Tuning of the ECT placer (depth, drain factor, cache bias, ...). */
  ect?: EctInit
  /** Tuning of the backup policy. */
  backupPolicy?: BackupPolicy
  /** Clock for decision time (performance.now in the CLI); default: none. */
  clock?: () => number
  /** Called on every dispatch (tests check placements). */
  onDispatch?: (task: SimTask, peer: SimPeer, backup: boolean, at: number) => void
  /** Called when a run of a task on a slot ends, however it ends (diagnostics: where capacity goes). */
  onRun?: (task: SimTask, peer: SimPeer, startMs: number, endMs: number, outcome: 'finished' | 'cancelled' | 'lost') => void
  /** Peers to use instead of drawing them (tests, calibration against a measured room). */
  peerList?: SimPeer[]
  /** Insurance copies (BackupPolicy.insure) once idle slots outnumber running tasks this many times (default `POLICY.insureIdleShare`; 0: never). */
  insureShare?: number
  /** Tasks a never-measured worker gets from the small end of the queue (default `POLICY.probeTasks`). */
  probeSlots?: number
  /** A task running this many times its estimate is overdue, at least (default `POLICY.lateFloor`). */
  overdueFactor?: number
  /** Workers slower than this share of the room's average slot take the smallest pending task (default `POLICY.slowShare`; 0: off). */
  slowShare?: number
  /** Also schedule the job clairvoyantly (`oracleMakespan`: true sizes, speeds, joins and leaves) for reference. */
  oracle?: boolean
  /**
   * Late binding: a worker with a free slot takes over a copy still waiting
   * (not started) on another worker when it would finish it sooner
   * (src/core/scheduler/steal.ts; default true). Kept on, though the runner
   * has it off: in the simulator a move is exact and free and pays at
   * 10,000 peers (docs/decisions.md); the one policy will settle one value.
   */
  steal?: boolean
  /**
   * Workers report progress on a running task this often, ms (0: never). A
   * silent leaver holding running tasks is then noticed after three missed
   * reports instead of `detectMs`.
   */
  progressMs?: number
  /**
   * A lost run of a task over items keeps the items done up to its last
   * progress report (the runtime's batch tasks send their outputs with it):
   * only the rest runs again (default true).
   */
  resumable?: boolean
  /**
   * In the tail (idle workers, nothing pending), split the running map
   * tasks expected to end last at an item boundary and send the rest to
   * idle workers (src/core/scheduler/split.ts; maps over `items`), and a
   * batch task whose worker stops reporting is cut after its last reported
   * item (default true).
   */
  split?: boolean
  /**
   * A waiting task over items placed while workers idle to spare is spread
   * over them at once, each a piece of its items (default true; needs `split`).
   */
  spread?: boolean
  /** A batch copy whose start report is overdue is cut as a quiet one is (default true; needs `split`). */
  quietStart?: boolean
  /** The item a quietly cut copy keeps goes out as a backup copy at once (default true). */
  quietCopy?: boolean
  /** A worker with a quiet running copy gets no new work until heard again (default true). */
  quietHold?: boolean
  /**
   * A worker that takes from the small end of the queue (a slow one, or a
   * probe) takes the smallest waiting task whose input it already holds,
   * when there is one, as the runner's `ectScheduler` does (default true).
   * Only while it would end the task before the room drains the queue (in
   * the tail the smallest of all). 10,000 peers, 20 % churn, seeds 1–16,
   * with the 250 ms tick: 1.150 (without the held preference 1.161 at 500 ms).
   */
  heldFirst?: boolean
  /** Shape σ of the log-normal execution noise of one run of a task (default 0.1). */
  jitter?: number
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
  tasks: number
  completed: number
  /** Results the tracker refused as duplicates (a task done twice counts once). */
  duplicates: number
  /** Tasks re-queued because their worker left. */
  reExecuted: number
  backupsLaunched: number
  backupsWon: number
  /** Waiting copies taken over by idle workers (`steal`). */
  steals: number
  /** Running tasks split, a piece sent to an idle worker (`split`). */
  splits: number
  /** Batch tasks cut because their worker stopped reporting (`split`): the rest went back to the queue. */
  quietCuts: number
  /** Pieces cut from waiting tasks spread over idle workers as they were placed (`spread`). */
  spreads: number
  /** Reference work of lost runs kept by their progress reports (`resumable`), ms. */
  keptWorkMs: number
  liars: number
  liarsCaught: number
  wrongAccepted: number
  tieBreaks: number
  /** Dispatches to a peer that fails the task's requirement (must be 0). */
  violations: number
  decisions: number
  decisionMs: number
  meanDecisionUs: number
  events: number
  peersJoined: number
  peersLeft: number
  results: Map<string, { workerId: string, digest: string, at: number }>
  /** The room as simulated (joins, leaves, true speeds). */
  peers: readonly SimPeer[]
}
