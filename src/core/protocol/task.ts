import { InvalidMessageError } from '../errors.js'
import { decodeMessage, encodeMessage } from './codec.js'
import { MAX_BATCH_ITEMS } from './batch.js'
import { asObject, readBool, readBytes, readEnum, readInt, readNumber, readOptionalString, readString, readVersion } from './validate.js'
import type { DecodeLimits } from './codec.js'
import type { Obj } from './validate.js'

/**
 * `/fedra/task/1.0.0`: one long-lived stream per pair of peers. It opens
 * with a room-key handshake (see ../room/keys.ts), then carries task
 * requests one way and progress/results/errors the other, matched by id,
 * so a warm round trip costs one message each way on a reused stream.
 */
export const TASK_PROTOCOL = '/fedra/task/1.0.0'
export const TASK_PROTOCOL_VERSION = 1

/**
 * Inline module bytes (pushed with a task), inputs and outputs stay under
 * this; larger data travels by CID (bitswap moves it in small blocks). Kept
 * small because one multi-MiB message on a WebRTC data channel under load
 * was seen to make Chromium close the channel.
 */
export const MAX_INLINE_BYTES = 1024 * 1024
/**
 * A worker reports `progress` when a task starts and then this often while
 * it runs: a submitter that hears nothing for `QUIET_AFTER_MS` treats the
 * worker as suspect (gone silently, or stalled) and copies its tasks,
 * sooner than the room's three missed beats (6 s) would tell.
 */
export const PROGRESS_EVERY_MS = 500
/**
 * A remote worker holds a task's start report this long: a task that ends
 * by then sends it with its result, in one stream write (each write costs
 * the tab two blocking calls into Chromium's network thread, the largest
 * share of a short task's round trip). Small beside the report period and
 * the link costs the submitter plans with, so waiting vs running reads the
 * same. A page with an RTCDataChannel is exempt from timer wake-up
 * alignment (Blink's RTCDataChannel registers `DisableAlignWakeUps`), so the
 * hold does not stretch to a second in a hidden tab.
 */
export const START_REPORT_HOLD_MS = 20
export const QUIET_AFTER_MS = 4 * PROGRESS_EVERY_MS
/**
 * A batch task's worker this late with its report has its task cut after
 * the last item it reported (the rest goes back to pending): cheap enough
 * to do early, since a worker merely slow keeps the item it is on.
 */
export const QUIET_CUT_MS = 1.5 * PROGRESS_EVERY_MS
export const MAX_ID_LENGTH = 128

/**
 * Data by CID or inline. `from` names a peer that holds the CID's blocks
 * (the job owner for inputs it stored, the worker for an output it stored):
 * the fetcher asks it directly before asking the room (docs/protocol.md §7).
 * A hint only: peers that do not know it ignore it.
 */
export type DataRef = { cid: string, from?: string } | { bytes: Uint8Array }

export interface TaskLimits {
  memoryPages: number
  timeoutMs: number
}

export interface TaskRequest {
  v: 1
  t: 'task'
  id: string
  job: string
  /** Lease epoch of the job owner; workers refuse stale ones. */
  epoch: number
  fn: { cid: string, bytes?: Uint8Array }
  entry: string
  input: DataRef
  params: Uint8Array
  limits: TaskLimits
  /** Return the output inline, or store it in the block store and return its CID. */
  output: 'inline' | 'store'
  /**
   * A batch task (src/core/protocol/batch.ts): the input is a batch, run
   * its items `from` (inclusive) to `to` (exclusive). Absent: one call on
   * the whole input.
   */
  range?: ItemRange
  /** Batch tasks: send the outputs of finished items with each progress report (kept if the run is lost). */
  partial?: boolean
}

export interface ItemRange { from: number, to: number }

export interface TaskCancel { v: 1, t: 'cancel', id: string }
/**
 * A batch task is cut: stop before item `at` and return what was done (the
 * items from `at` on went to another worker). A worker already past `at`
 * stops after the item it is on; its result says what it covers.
 */
export interface TaskCut { v: 1, t: 'cut', id: string, at: number }

export interface TaskProgress {
  v: 1
  t: 'progress'
  id: string
  done: number
  total: number
  /** Batch tasks with `partial`: outputs (batch outputs layout) of items `from` to `done`, not sent before. */
  from?: number
  outputs?: Uint8Array
  /** `'input'`: not started, its function or input still arriving (the submitter's clock for it waits). */
  phase?: 'input'
}
export interface TaskResult {
  v: 1
  t: 'result'
  id: string
  output: DataRef
  /** Compute time, ms. */
  ms: number
  /**
   * Time the worker held the task, ms: from receipt to the result leaving
   * (fetching inputs, waiting for a slot, compute). The submitter's round
   * trip minus this is the link's cost, which sets how deep to queue.
   */
  heldMs?: number
  /** Batch tasks: `output` holds the outputs (batch outputs layout) of items `from` to `to`. */
  from?: number
  to?: number
}
export interface TaskFailure { v: 1, t: 'error', id: string, code: string, message: string }

/** Handshake messages at the start of the stream. */
export interface HandshakeHello { v: 1, t: 'hello', nonce: Uint8Array, proof?: Uint8Array }
export interface HandshakeProof { v: 1, t: 'proof', proof: Uint8Array }
export interface HandshakeDone { v: 1, t: 'welcome' }

export type ToWorker = TaskRequest | TaskCancel | TaskCut | HandshakeHello | HandshakeProof
export type FromWorker = TaskProgress | TaskResult | TaskFailure | HandshakeHello | HandshakeDone

function readDataRef (value: unknown, what: string): DataRef {
  const o = asObject(value, what)
  if (o.cid != null && o.bytes == null) {
    const ref: DataRef = { cid: readString(o, 'cid', what, 256) }
    if (o.from != null) ref.from = readString(o, 'from', what, MAX_ID_LENGTH)
    return ref
  }
  if (o.bytes != null && o.cid == null) return { bytes: readBytes(o, 'bytes', what, MAX_INLINE_BYTES) }
  throw new InvalidMessageError(`${what} must hold exactly one of cid or bytes`)
}

/** Task ids are never empty: '' is reserved for errors about the stream itself. */
function readId (o: Obj, what: string): string {
  const id = readString(o, 'id', what, MAX_ID_LENGTH)
  if (id === '') throw new InvalidMessageError(`${what}.id must not be empty`)
  return id
}

function readRange (value: unknown, what: string): ItemRange {
  const o = asObject(value, what)
  const from = readInt(o, 'from', what, 0, MAX_BATCH_ITEMS - 1)
  const to = readInt(o, 'to', what, 1, MAX_BATCH_ITEMS)
  if (to <= from) throw new InvalidMessageError(`${what} must hold at least one item (from ${from}, to ${to})`)
  return { from, to }
}

function readNonce (o: Obj, key: string, what: string): Uint8Array {
  const b = readBytes(o, key, what, 64)
  if (b.byteLength < 16) throw new InvalidMessageError(`${what}.${key} is too short`)
  return b
}

function readHello (o: Obj): HandshakeHello {
  const hello: HandshakeHello = { v: 1, t: 'hello', nonce: readNonce(o, 'nonce', 'hello') }
  if (o.proof != null) hello.proof = readBytes(o, 'proof', 'hello', 64)
  return hello
}

export function readToWorker (value: unknown): ToWorker {
  const o = asObject(value, 'message')
  readVersion(o, TASK_PROTOCOL_VERSION, 'task message')
  const t = readEnum(o, 't', 'message', ['task', 'cancel', 'cut', 'hello', 'proof'] as const)
  switch (t) {
    case 'hello': return readHello(o)
    case 'proof': return { v: 1, t, proof: readBytes(o, 'proof', 'proof', 64) }
    case 'cancel': return { v: 1, t, id: readId(o, 'cancel') }
    case 'cut': return { v: 1, t, id: readId(o, 'cut'), at: readInt(o, 'at', 'cut', 1, MAX_BATCH_ITEMS) }
    case 'task': {
      const fn = asObject(o.fn, 'task.fn')
      const limits = asObject(o.limits, 'task.limits')
      const req: TaskRequest = {
        v: 1,
        t,
        id: readId(o, 'task'),
        job: readString(o, 'job', 'task', MAX_ID_LENGTH),
        epoch: readInt(o, 'epoch', 'task', 0, Number.MAX_SAFE_INTEGER),
        fn: { cid: readString(fn, 'cid', 'task.fn', 256) },
        entry: readString(o, 'entry', 'task', 64),
        input: readDataRef(o.input, 'task.input'),
        params: readBytes(o, 'params', 'task', 64 * 1024),
        limits: {
          memoryPages: readInt(limits, 'memoryPages', 'task.limits', 1, 65536),
          timeoutMs: readInt(limits, 'timeoutMs', 'task.limits', 1, 3_600_000)
        },
        output: readEnum(o, 'output', 'task', ['inline', 'store'] as const)
      }
      if (fn.bytes != null) req.fn.bytes = readBytes(fn, 'bytes', 'task.fn', MAX_INLINE_BYTES)
      if (o.range != null) req.range = readRange(o.range, 'task.range')
      if (o.partial != null) req.partial = readBool(o, 'partial', 'task')
      return req
    }
  }
}

export function readFromWorker (value: unknown): FromWorker {
  const o = asObject(value, 'message')
  readVersion(o, TASK_PROTOCOL_VERSION, 'task message')
  const t = readEnum(o, 't', 'message', ['progress', 'result', 'error', 'hello', 'welcome'] as const)
  switch (t) {
    case 'hello': return readHello(o)
    case 'welcome': return { v: 1, t }
    case 'progress': {
      const p: TaskProgress = {
        v: 1,
        t,
        id: readId(o, 'progress'),
        done: readInt(o, 'done', 'progress', 0, Number.MAX_SAFE_INTEGER),
        total: readInt(o, 'total', 'progress', 0, Number.MAX_SAFE_INTEGER)
      }
      if (o.outputs != null) {
        p.from = readInt(o, 'from', 'progress', 0, MAX_BATCH_ITEMS - 1)
        p.outputs = readBytes(o, 'outputs', 'progress', MAX_INLINE_BYTES)
        if (p.from >= p.done) throw new InvalidMessageError(`progress.outputs must hold items before done (from ${p.from}, done ${p.done})`)
      }
      if (o.phase != null) p.phase = readEnum(o, 'phase', 'progress', ['input'] as const)
      return p
    }
    case 'result': {
      const r: TaskResult = {
        v: 1,
        t,
        id: readId(o, 'result'),
        output: readDataRef(o.output, 'result.output'),
        ms: readNumber(o, 'ms', 'result', 0, Number.MAX_SAFE_INTEGER)
      }
      if (o.heldMs != null) r.heldMs = readNumber(o, 'heldMs', 'result', 0, Number.MAX_SAFE_INTEGER)
      if (o.from != null || o.to != null) {
        // empty when every item went out with the progress reports
        r.from = readInt(o, 'from', 'result', 0, MAX_BATCH_ITEMS)
        r.to = readInt(o, 'to', 'result', r.from, MAX_BATCH_ITEMS)
      }
      return r
    }
    case 'error': return {
      v: 1,
      t,
      id: readString(o, 'id', 'error', MAX_ID_LENGTH),
      code: readString(o, 'code', 'error', 64),
      message: readOptionalString(o, 'message', 'error', 1024) ?? ''
    }
  }
}

export function encodeTaskMessage (msg: ToWorker | FromWorker): Uint8Array {
  return encodeMessage(msg)
}

export function decodeToWorker (bytes: Uint8Array, limits?: DecodeLimits): ToWorker {
  return readToWorker(decodeMessage(bytes, limits))
}

export function decodeFromWorker (bytes: Uint8Array, limits?: DecodeLimits): FromWorker {
  return readFromWorker(decodeMessage(bytes, limits))
}
