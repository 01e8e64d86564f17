import type { Capabilities } from '../requirements/capabilities.js'
import type { Requirement } from '../requirements/requirement.js'
import type { DataRef, ItemRange, TaskLimits } from '../protocol/task.js'

/** A task as the caller gives it to a job. */
export interface TaskSpec {
  id: string
  fnCid: string
  entry: string
  input: DataRef
  params: Uint8Array
  requirement: Requirement
  limits: TaskLimits
  /**
   * The size of an input given by CID, bytes, where the caller knows it
   * (the submitter stored the input): the task's size for placement (its
   * work taken to grow with it, largest first), as an inline input's bytes
   * are. Absent: the task is unsized (scale 1), unless it is a batch task.
   */
  inputBytes?: number
  /**
   * A batch task: `input` is a batch of this many items
   * (src/core/protocol/batch.ts), each run by the function on its own. The
   * policy may cut it while it runs and send its last items to an idle
   * worker (a split), and keeps the outputs of items done by a worker that
   * is lost. The outcome's output holds every item's output, in order
   * (`decodeOutputs`).
   */
  items?: number
}

export interface TaskOutcome {
  output: Uint8Array
  workerId: string
  ms: number
  /** Batch tasks: which worker's output each item holds (a split task's items come from several). */
  itemWorkers?: string[]
}

/** What a job tells its caller as it runs (the app's job view, the benches, the tests). */
export type JobProgress =
  /** A copy of a task was sent to a worker (its first, a re-queue, a backup, a quorum replica). */
  | { type: 'dispatched', taskId: string, workerId: string }
  | { type: 'task-done', taskId: string, workerId: string, done: number, total: number }
  | { type: 'requeued', taskIds: string[], workerId: string, /** why the worker was given up on */ reason: string }
  | { type: 'backup', taskId: string, workerId: string, /** where the copies already ran */ runningOn: string[] }
  /** A task still waiting in one worker's queue went to a worker that came free (late binding). */
  | { type: 'moved', taskId: string, from: string, to: string }
  /**
   * A batch task running on `from` was cut: its last `items` items went to
   * `to` as task `pieceId` ('' : back to pending, for the fastest worker to
   * take). `placed`: cut as it was placed, before it was sent (a spread
   * over idle workers), not while it ran.
   */
  | { type: 'split', taskId: string, pieceId: string, from: string, to: string, items: number, placed?: true }
  | { type: 'liar', workerId: string, taskId: string }
  | { type: 'task-failed', taskId: string, workerId: string, code: string, message: string }
  | { type: 'paused', reason: string }
  | { type: 'resumed' }

/** A task as the policy holds it: a piece of a batch task runs a range of its items. */
export interface RunSpec extends TaskSpec {
  /** The task the caller gave (a piece's parent, or itself). */
  root: string
  /** Batch tasks: the items this task is for (a cut shortens it). */
  range?: ItemRange
}

/**
 * What the policy asks its driver to do. The driver (src/peer/job-runner.ts
 * in a browser or Node peer) turns each into messages; the simulator
 * (src/core/sim) into events of its world.
 */
export type JobAction =
  /**
   * Send a copy of task `spec` to `workerId`. `range`: a batch copy's items
   * (from its first item not yet in); `partial`: the worker sends items'
   * outputs with its progress reports; `warm`: the worker is known to hold
   * the function (no need to push its bytes).
   */
  | { type: 'send', spec: RunSpec, workerId: string, range?: ItemRange, partial?: boolean, warm: boolean }
  /** Stop a copy the policy no longer wants; its end is then no failure. */
  | { type: 'stop', taskId: string, workerId: string, why: string }
  /** Tell the worker of a running batch copy to stop before item `at`. */
  | { type: 'cut', taskId: string, workerId: string, at: number }
  /** A task the caller gave is done (once; a batch task when all its pieces are). */
  | { type: 'done', taskId: string, outcome: TaskOutcome }
  | { type: 'progress', event: JobProgress }

/** A room member as the policy sees it at a tick. */
export interface RoomMember {
  id: string
  caps: Capabilities
  /** Proved the room key. */
  verified: boolean
  /** Volunteers its device. */
  consent: boolean
  /** Tasks queued and running there, as its last heartbeat said. */
  load: number
  /** Function CIDs it says it holds. */
  cache: readonly string[]
}

/** The room at a tick: this device, and the others the registry knows. */
export interface RoomView {
  self: { caps: Capabilities, consent: boolean }
  members: readonly RoomMember[]
}

export interface JobPolicyOptions {
  /**
   * Near the end of the job, run copies of the slowest tasks on idle workers;
   * the first result wins and the other copy is cancelled (default on).
   */
  backups?: boolean
  /**
   * Untrusted volunteers: run each task on this many different workers and
   * accept a result only when that many agree (BOINC's quorum). A worker
   * caught disagreeing with an agreed result is not trusted again in the job.
   * Default 1. Backups are off when above 1.
   */
  quorum?: number
  /** Keep waiting when no volunteer fits (paused) instead of refusing at once. */
  waitForWorkers?: boolean
  /**
   * Late binding: with nothing pending, a worker with a free slot takes over
   * tasks still waiting in another worker's queue (the waiting copy is
   * cancelled). Off by default: in the 6-browser cgroup bench it cost
   * efficiency (0.73–0.83 with it, 1.05 without; docs/decisions.md), though
   * the simulator gains from it at 10,000 peers.
   */
  lateBinding?: boolean
  /**
   * Batch tasks (`TaskSpec.items`): near the end of the job, cut the tasks
   * expected to end last and send their last items to idle workers
   * (default on).
   */
  split?: boolean
  /** A streaming job: more tasks join while it runs, until the source is closed. */
  streaming?: boolean
  /**
   * Keep each task's output until the job ends (default). False: an output
   * goes out once, with its `done` action, and is dropped (`outcomes()`
   * then holds empty outputs): a long streaming job's memory, and its saved
   * state, stay bounded.
   */
  keepOutputs?: boolean
}

/** The key of a task's copy on a worker, `${taskId}@${workerId}` (peer ids hold no '@'). */
export function copyKey (taskId: string, workerId: string): string {
  return `${taskId}@${workerId}`
}

/** The inverse of `copyKey`. */
export function splitKey (key: string): { taskId: string, workerId: string } {
  const at = key.lastIndexOf('@')
  return { taskId: key.slice(0, at), workerId: key.slice(at + 1) }
}
