import { FedraError, InvalidMessageError } from '../errors.js'
import { POLICY } from '../scheduler/policy-config.js'
import { decodeOutputs } from '../protocol/batch.js'
import { splitKey } from './types.js'
import type { ItemRange } from '../protocol/task.js'
import type { QuorumBook } from '../scheduler/quorum.js'
import type { CopyFailure, CopyResult, JobPolicy } from './policy.js'
import type { RunSpec } from './types.js'

/*
 * What the policy does with a copy's end: a result (whole, a batch copy's
 * items, a quorum vote) or a failure (lost, stopped by the policy, or the
 * task's own error).
 */

/**
 * A batch copy's result: its items are kept, and every task of the same
 * root whose items are now all in is done (a worker past a cut covers its
 * piece too). A result that leaves its own range short fails the copy.
 */
export function batchResult (job: JobPolicy, spec: RunSpec, workerId: string, key: string, r: CopyResult): void {
  const sent = job.items.rangeOf(key) as ItemRange
  const from = r.from ?? sent.from
  const to = r.to ?? sent.to
  let outputs: Uint8Array[]
  try {
    if (from < sent.from || to > sent.to || from > to) throw new InvalidMessageError(`result for ${spec.id} from worker ${workerId.slice(-6)} covers items ${from}–${to}, outside the ${sent.from}–${sent.to} it was sent`)
    outputs = decodeOutputs(r.output, to - from)
  } catch (err) {
    // not the task's fault: the worker broke the protocol, and gets no more of this job
    job.broken.add(workerId)
    throw err
  }
  job.items.store(spec.root, from, outputs, workerId)
  // what its time is measured against: the items this run did
  job.heardResult(workerId, spec.fnCid, r.ms, to > sent.from ? job.deps.estimator.sizeScale(spec.fnCid, to - sent.from) : undefined)
  settle(job, spec.root, key, workerId, r.ms)
  if (job.tracker.get(spec.id).status !== 'done') {
    const missing = job.firstMissing(job.spec(spec.id))
    throw new InvalidMessageError(`result for ${spec.id} ends at item ${to}, but item ${missing} is still missing`)
  }
}

export function wholeResult (job: JobPolicy, spec: RunSpec, workerId: string, key: string, r: CopyResult): void {
  job.heardResult(workerId, spec.fnCid, r.ms, job.scale(spec))
  if (job.book != null && !vote(job, spec, workerId, r.digest)) return
  if (!job.tracker.complete(spec.id, workerId, { output: r.output, workerId, ms: r.ms })) return
  job.emit({ type: 'task-done', taskId: spec.id, workerId, done: job.tracker.done, total: job.tracker.total })
  job.reportDone(spec.root)
  // first result wins: stop the other copies
  for (const k of job.copiesOf(spec.id)) {
    if (k !== key) job.stopCopy(k, 'another copy finished first')
  }
}

/**
 * Quorum mode: records a replica's vote. True when the vote decided the
 * task and this output is the agreed result; otherwise the replica's slot
 * is released so the next tick launches what the book still wants.
 */
function vote (job: JobPolicy, spec: RunSpec, workerId: string, digest: string | undefined): boolean {
  const book = job.book as QuorumBook
  if (digest == null) throw new InvalidMessageError(`result for ${spec.id} came without its digest in a quorum job`)
  const vote = book.record(spec.id, workerId, digest)
  if (vote.type === 'agreed') {
    for (const liar of vote.liars) job.emit({ type: 'liar', workerId: liar, taskId: spec.id })
    return true
  }
  if (vote.type === 'failed') {
    job.quorumFailure = new FedraError(`task ${spec.id}: no ${job.quorum} workers agreed on its result`, 'ERR_NO_QUORUM')
  }
  job.tracker.release(spec.id, workerId)
  return false
}

export function failCopy (job: JobPolicy, spec: RunSpec, workerId: string, key: string, failure: CopyFailure): void {
  job.book?.lost(spec.id, workerId)
  if (job.cancelled.delete(key)) {
    job.tracker.release(spec.id, workerId)
    return
  }
  if (failure.lost) {
    // not the task's fault: back to pending without spending an attempt
    if (job.tracker.release(spec.id, workerId)) job.emit({ type: 'requeued', taskIds: [spec.id], workerId, reason: failure.message })
    const n = (job.failuresInARow.get(workerId) ?? 0) + 1
    job.failuresInARow.set(workerId, n)
    job.backedOffUntil.set(workerId, job.now + Math.min(POLICY.backOffMaxMs, POLICY.backOffFirstMs * 2 ** (n - 1)))
    return
  }
  const { code, message } = failure
  job.emit({ type: 'task-failed', taskId: spec.id, workerId, code, message })
  job.tracker.fail(spec.id, workerId, { code, message })
}


/** Marks done every task of the root whose items are all in, cancels their other copies, and reports the root when it is whole. */
export function settle (job: JobPolicy, root: string, key: string, workerId = splitKey(key).workerId, ms = 0): void {
  for (const id of job.piecesOf.get(root) ?? []) {
    const s = job.spec(id)
    if (s.range == null || job.tracker.get(s.id).status === 'done') continue
    if (job.firstMissing(s) < s.range.to) continue
    job.tracker.assign(s.id, workerId)
    job.tracker.complete(s.id, workerId, { output: new Uint8Array(0), workerId, ms })
    job.emit({ type: 'task-done', taskId: s.id, workerId, done: job.tracker.done, total: job.tracker.total })
    for (const k of job.copiesOf(s.id)) {
      if (k !== key) job.stopCopy(k, 'its items are all in')
    }
  }
  job.reportDone(root)
}
