import { PROGRESS_EVERY_MS } from '../protocol/task.js'
import type { PeerKind } from '../requirements/capabilities.js'

/**
 * Every tuning constant of the job policy, in one place: the policy
 * (src/core/job), which the runner (src/peer/job-runner.ts) and the
 * simulator (src/core/sim) both drive, and the building blocks it uses
 * (the estimator, the ECT placer, backups, splits, late binding) read them
 * from here. Each says why it has its value; docs/scheduling.md says what
 * each mechanism does with it, docs/decisions.md how the value was chosen.
 * Report periods are the worker's `PROGRESS_EVERY_MS`
 * (src/core/protocol/task.ts).
 */
const policy = {
  // — the loop —
  /** The policy ticks at least this often (and at once on an event that ends a copy or loses a peer). 125 ms was no better. */
  tickMs: 250,
  /** A worker whose stream failed sits out this long after one failure, so a dead link does not bounce tasks back and forth. */
  backOffFirstMs: 100,
  /** … doubling with each failure in a row up to this, and cleared by a result: long enough to stop the bouncing, short enough that a worker back is used soon. */
  backOffMaxMs: 5000,

  // — reports, quiet workers, cuts (in report periods) —
  /** A worker silent this many periods (2 s) makes its copies overdue; a throttled tab reports late, so one missed report is no sign. */
  quietAfterReports: 4,
  /** A batch copy whose worker is silent this many periods (750 ms) is cut after its item: cheap, since a worker merely slow keeps the item it is on. */
  quietCutReports: 1.5,
  /** A copy whose worker keeps saying its input is arriving is not late for this many times its expected fetch (the worker's measured one, else the room's)… */
  arrivalSlack: 3,
  /** … plus this many periods (4 s: an unmeasured link's large input gets 5.5 s); past both it is late like any other: a microcontroller fetching for 40 s held a 1,000-peer job's tail (makespan 2.4× the bound). */
  arrivalGraceReports: 8,
  /** A tail split must end its task this many periods sooner (250 ms): a worker's pace is known from its reports, so a smaller gain is within their uncertainty. */
  splitMinGainReports: 0.5,

  // — estimates (src/core/scheduler/estimates.ts) —
  /** Weight of a new run in the moving means of links, typical tasks and dispersion: about six runs, so a change shows within a few. */
  estimatorAlpha: 0.3,
  /** Least weight of a new run in a worker's slowness: at 0.3 the luckiest of a thousand desktops looked fastest (run noise stayed in the estimate). */
  ratioAlpha: 0.1,
  /** Work of a function never seen, reference-core ms: a guess, until the first result replaces it (later functions start at the mean of the known ones). */
  defaultWorkMs: 1000,
  /** Samples a function's work averages over once warm: long, since a function's cost does not change and every ratio is measured against it. */
  workWindow: 256,
  /** A run this many times off a worker's mean is a change of speed, weighed at `estimatorAlpha`: at 1.5 ordinary noise tripped it (10k simulated: ~1 % later). */
  changedFactor: 2,
  /** Standard deviations of its worker's dispersion a run may stray before it is late: throttled browsers stray σ 0.2–0.5 and a flat 1.5× launched 15–24 copies a job. */
  lateSigmas: 2,
  /** The least a run must overrun its estimate to be late: below it, ordinary noise. */
  lateFloor: 1.5,
  /** Prior speed of a phone's core against a laptop's (thermal and power limits), until measured. */
  mobileSpeed: 0.5,
  /** Prior speed of a core on a device with fewer than 4 cores: small devices run slower cores. */
  fewCoresSpeed: 0.7,
  /** Prior single-core speed by kind (browser = 1): guesses until measured (Node a little faster than a tab, a board's interpreter far slower). */
  kindSpeed: Object.freeze({ browser: 1, node: 1.2, mcu: 0.01 }) as Readonly<Record<PeerKind, number>>,

  // — placement (src/core/scheduler/ect.ts, ect-scheduler.ts) —
  /** Tasks in flight per slot: 2 hides the round trip (the next input is on hand when a task ends). */
  depthPerSlot: 2,
  /** Most tasks per slot for a worker whose link costs more than its tasks (1 + ⌈link ÷ task⌉): hides a slow link, and bounds what one worker holds. */
  maxDepthPerSlot: 8,
  /** Tasks per slot before a worker's first result: its speed is a guess, so no deep queue (slow start). */
  probationDepth: 1,
  /** An idle worker never measured gets no probe whose compute, by its prior, exceeds this many times the class's drain (or a reference core's time, if longer; the link not counted: a new tab's is a guess): a microcontroller's probes held a 1,000-peer job's tail; phones (2× a reference core) pass. */
  probeSlack: 4,
  /** The delay rule: a slower free worker may exceed the best busy one by this share of the drain; 1 since backlogs are priced by size (0.5 kept phones idle: 1.18 → 1.22). */
  drainFactor: 1,
  /** Delay-rule factor for a splittable task: the tail cuts a slow worker's late one, so it may go slower (10k, 20 % churn: 1.335 → 1.308; 3–5 let microcontrollers hold unrescued pieces). */
  splitDrainFactor: 2,
  /** … only where the worker's one item takes at most this share of the task on the best worker: a cut leaves it that item (without: 1.7–1.9 on some seeds). */
  splitItemShare: 0.25,
  /** … and such a worker takes it anyway while the queue holds this many of its items (10k, seeds 1–32: 1.147 → 1.141). */
  splitItemDrain: 10,
  /** A worker holding the task's inputs is compared at ECT × this: a mild preference for no download (a guess, not tuned). */
  cacheBias: 0.85,
  /** Compile and instantiate cost of a function a worker lacks, ms: a guess, not measured. */
  coldStartMs: 50,
  /** Round trip assumed before one is measured, ms: a guess, replaced by the first measurement. */
  defaultRttMs: 50,
  /** Bandwidth assumed before one is measured, bytes/s: a guess (the simulator's phones fetch at 0.5–3 MB/s). */
  defaultBandwidthBps: 2_000_000,
  /** Battery level under which a device not charging is held in reserve (used only when nobody else fits): a job should not drain a phone. */
  batteryThreshold: 0.2,
  /** A worker slower than this share of the room's average slot takes the smallest task (size matching); 0.6 and 1 were no better. */
  slowShare: 0.8,

  // — copies (src/core/scheduler/backups.ts) —
  /** Copies per task, original included, a phase the room holds that many times over starts with (twins): 3 rather than 2, as both copies of a largest reduce were lost together under 20 % churn. */
  phaseCopies: 3,
  /** Healthy copies of one task at once, original included (MapReduce's one backup; copies on overdue or quiet workers do not count): not tuned. */
  maxCopies: 2,
  /** Insurance copies once idle slots outnumber running tasks this many times: the slot is idle anyway (4 → 2: a 10k job ended ~1 % sooner). */
  insureIdleShare: 2,
  /** … a copy without a gain still goes out if it ends within this many times the original's remaining time. */
  insureWithin: 2,
  /** Tasks a backup or split call may find no helper for, or no gain, before it gives up: bounds its cost. */
  copyMissesPerCall: 64,
  /** Backup copies per round: bounds a round's cost (the tail runs every tick, so a big room's tail is covered in a few). */
  backupsPerRound: 64,
  /** A tail backup must gain more than this, ms: a real copy costs a dispatch and a fetch. */
  backupMinGainMs: 20,
  /** A remote backup copy's cost on top of its compute, ms (round trip and input fetch). */
  remoteCopyMs: 5,

  // — splits and spreads (src/core/scheduler/split.ts) —
  /** A spread must end its task at least this much sooner than its worker alone, ms: each piece costs a dispatch and a fetch. */
  spreadMinGainMs: 50,
  /** Most helpers one waiting task is spread over: a typical batch task of the simulator's workload holds 32 items. */
  spreadMaxHelpers: 31,
  /** A helper's start before its link is measured, ms: one report period, until its first result measures the link. */
  unknownLinkMs: PROGRESS_EVERY_MS,

  // — late binding (src/core/scheduler/steal.ts) —
  /** Waiting copies looked at per class, latest first: bounds a decision's cost; the latest-ending are where a move gains most. */
  lateBindingLook: 4,
  /** A move must gain this share of the thief's own expected time: estimates are noisy. */
  lateBindingMinGainShare: 0.1,
  /** A move must gain more than this, ms (a cancel and a dispatch over a real link); moves are made only when `lateBinding` is on, and only of copies queued behind a slotful. */
  lateBindingMinGainMs: 50
}

export type PolicyConfig = { readonly [K in keyof typeof policy]: (typeof policy)[K] }

/** The job policy's tuning, frozen: read it, never write it (a test that needs another value passes it through the mechanism's own options). */
export const POLICY: PolicyConfig = Object.freeze(policy)
