import { logger } from '@libp2p/logger'
import { InvalidModuleError } from '../core/errors.js'
import { InvalidMessageError } from '../core/errors.js'
import { decodeBatch, encodeOutputs } from '../core/protocol/batch.js'
import { MAX_INLINE_BYTES, PROGRESS_EVERY_MS } from '../core/protocol/task.js'
import { rawCid } from '../storage/blocks.js'
import { FunctionCache } from './function-cache.js'
import type { DataRef, ItemRange, TaskRequest } from '../core/protocol/task.js'
import type { FedraBlocks } from '../storage/blocks.js'
import { VIDEO_UNIT_ENTRY, decodeVideoChain } from '../core/media/chain.js'
import { FunctionFailedError } from '../core/errors.js'
import type { FunctionRunner, VideoUnitRunner } from './types.js'

const log = logger('fedra:peer:worker')

/** What a worker tells the submitter while a task runs (protocol `progress`). */
export interface ProgressReport {
  done: number
  total: number
  /** Batch tasks sent with `partial`: outputs of items `from` to `done`, not reported before. */
  from?: number
  outputs?: Uint8Array
  /** `'input'`: the task has not started; its function or input is still arriving. */
  phase?: 'input'
}

/** Set by the submitter while a batch task runs: stop before item `cutAt` (protocol `cut`). */
export interface BatchControl {
  cutAt?: number
}

/** What a task's run gives back; a batch task's output holds the outputs of items `from` to `to`. */
export interface TaskOutput {
  output: DataRef
  ms: number
  from?: number
  to?: number
}

/** Partial outputs ride a progress report only while they stay this small; larger ones wait for the result. */
const PARTIAL_MAX_BYTES = MAX_INLINE_BYTES / 2

export interface WorkerServiceInit {
  blocks: FedraBlocks
  runner: FunctionRunner
  cache?: FunctionCache
  /** Runs video units (browsers with WebCodecs); absent: such tasks fail with a clear error. */
  video?: VideoUnitRunner
  /** This peer runs WASM SIMD: a video chain's filters use their SIMD builds where they have one. */
  simd?: boolean
  /** This peer's id: a stored output names it (`from`) so the submitter fetches from here directly. */
  selfId?: string
}

/**
 * The volunteer side of a peer: resolves a task's function and input (pushed
 * inline, cached, or pulled by CID over bitswap), runs it in the pool, and
 * returns or stores the output. Keeps the load figures the heartbeat carries.
 */
export class WorkerService {
  readonly functions: FunctionCache
  queued = 0
  running = 0
  completed = 0
  /** Items of batch tasks finished (a batch task counts in `completed` once, when it ends). */
  itemsCompleted = 0
  /**
   * Fault injection, for testing what the room does with a dishonest or
   * broken volunteer: `corruptOutputs` flips a bit in every result.
   */
  readonly faults = { corruptOutputs: false }

  constructor (private readonly init: WorkerServiceInit) {
    this.functions = init.cache ?? new FunctionCache()
  }

  private async moduleBytes (req: TaskRequest, signal: AbortSignal): Promise<Uint8Array> {
    return this.moduleByCid(req.fn.cid, req.fn.bytes, signal)
  }

  /** A module by CID: cached, pushed with the task (checked against its CID), or pulled from the room. */
  private async moduleByCid (cid: string, pushed: Uint8Array | undefined, signal: AbortSignal): Promise<Uint8Array> {
    const cached = this.functions.get(cid)
    if (cached != null) return cached
    let bytes = pushed
    if (bytes != null) {
      // pushed bytes must be what the CID names, or anyone could swap the code
      if (await rawCid(bytes) !== cid) throw new InvalidModuleError(`module bytes do not match ${cid}`)
      await this.init.blocks.put(bytes, { signal })
    } else {
      bytes = await this.init.blocks.get(cid, { signal })
    }
    this.functions.set(cid, bytes)
    return bytes
  }

  /** A video unit: the task's function is a filter chain (src/core/media/chain.ts); its modules are resolved like any function's. */
  private async runVideo (req: TaskRequest, chainBytes: Uint8Array, input: Uint8Array, signal: AbortSignal, onStart?: () => void): Promise<{ output: Uint8Array, ms: number }> {
    const video = this.init.video
    if (video == null) throw new FunctionFailedError('this peer cannot run video units (no WebCodecs here)')
    const chain = decodeVideoChain(chainBytes)
    const fetchSignal = AbortSignal.any([signal, AbortSignal.timeout(req.limits.timeoutMs)])
    const modules = await Promise.all(chain.filters.map(async f => {
      const key = this.init.simd === true && f.simdCid != null ? f.simdCid : f.cid
      return { key, bytes: await this.moduleByCid(key, undefined, fetchSignal) }
    }))
    return video.run({ chain, modules, input, limits: req.limits }, { signal, onStart })
  }

  private async inputBytes (input: DataRef, signal: AbortSignal): Promise<Uint8Array> {
    return 'bytes' in input ? input.bytes : await this.init.blocks.get(input.cid, { signal, providers: input.from != null ? [input.from] : undefined })
  }

  /**
   * `onProgress` is called with `phase: 'input'` while the task's function
   * or input is fetched (at once, then every `PROGRESS_EVERY_MS`), then when
   * the task leaves the queue for a slot of the runner (the submitter tells
   * waiting from running by it), then every `PROGRESS_EVERY_MS` while it runs (the submitter notices a silent
   * worker by their absence). A batch task (`req.range`) runs item by item;
   * `control.cutAt` may stop it early.
   */
  async handle (req: TaskRequest, signal: AbortSignal, onProgress?: (p?: ProgressReport) => void, control: BatchControl = {}): Promise<TaskOutput> {
    this.queued++
    let started = false
    let beat: ReturnType<typeof setInterval> | undefined
    let report: () => ProgressReport | undefined = () => undefined
    const onStart = onProgress == null
      ? undefined
      : () => {
          onProgress(report())
          beat = setInterval(() => { onProgress(report()) }, PROGRESS_EVERY_MS)
        }
    try {
      const cached = this.functions.get(req.fn.cid) != null
      const inline = 'bytes' in req.input
      // fetching by CID is bounded by the task's deadline: a CID nobody holds
      // fails the task instead of waiting forever (a cached function and an
      // inline input fetch nothing: no deadline timer for them)
      const fetchSignal = cached && inline ? signal : AbortSignal.any([signal, AbortSignal.timeout(req.limits.timeoutMs)])
      // while its function or input is fetched, the task says so at once and
      // every report period: the submitter's clock for it starts when it
      // starts, so a large input still arriving is neither late nor quiet
      const fetching = onProgress != null && (!inline || (req.fn.bytes == null && !cached))
      const arriving = (): void => { onProgress?.({ done: 0, total: 0, phase: 'input' }) }
      if (fetching) arriving()
      const inputBeat = fetching ? setInterval(arriving, PROGRESS_EVERY_MS) : undefined
      let module: Uint8Array
      let input: Uint8Array
      try {
        [module, input] = await Promise.all([this.moduleBytes(req, fetchSignal), this.inputBytes(req.input, fetchSignal)])
      } finally {
        clearInterval(inputBeat)
      }
      this.queued--
      this.running++
      started = true
      if (req.range != null) {
        const batch = this.batchRun(req, req.range, module, input, control)
        report = batch.report
        const r = await batch.run(signal, onStart, () => { onProgress?.(report()) })
        this.completed++
        return { ...await this.deliver(req, r.output, signal), ms: r.ms, from: r.from, to: r.to }
      }
      const { output, ms } = req.entry === VIDEO_UNIT_ENTRY
        ? await this.runVideo(req, module, input, signal, onStart)
        : await this.init.runner.run({
          key: req.fn.cid, module, entry: req.entry, input, params: req.params, limits: req.limits
        }, { signal, onStart })
      this.completed++
      return { ...await this.deliver(req, output, signal), ms }
    } catch (err) {
      log('task %s failed: %s', req.id, (err as Error).message)
      throw err
    } finally {
      if (beat != null) clearInterval(beat)
      if (started) this.running--
      else this.queued--
    }
  }

  private async deliver (req: TaskRequest, output: Uint8Array, signal: AbortSignal): Promise<{ output: DataRef }> {
    if (this.faults.corruptOutputs && output.byteLength > 0) output[output.byteLength - 1] ^= 0x01
    // too big to ride back inline: store it, the submitter fetches it by CID
    if (req.output === 'store' || output.byteLength > MAX_INLINE_BYTES) return { output: { cid: await this.init.blocks.put(output, { signal }), from: this.init.selfId } }
    return { output: { bytes: output } }
  }

  /**
   * One batch task's run: the function once per item of the range, in
   * order, until the range ends or the submitter's cut. `report` is what
   * the next progress report says (with the outputs done since the last,
   * when the submitter asked for them).
   */
  private batchRun (req: TaskRequest, range: ItemRange, module: Uint8Array, input: Uint8Array, control: BatchControl): {
    report: () => ProgressReport
    run: (signal: AbortSignal, onStart?: () => void, reportNow?: () => void) => Promise<{ output: Uint8Array, ms: number, from: number, to: number }>
  } {
    // a malformed batch or a range past its end fails the task with a clear error
    const items = decodeBatch(input)
    if (range.to > items.length) throw new InvalidMessageError(`task.range ends at item ${range.to}, but the batch holds ${items.length} items`)
    const outputs: Uint8Array[] = []
    let reported = range.from
    const done = (): number => range.from + outputs.length
    const report = (): ProgressReport => {
      const p: ProgressReport = { done: done(), total: range.to }
      if (req.partial === true && done() > reported) {
        const bytes = encodeOutputs(outputs.slice(reported - range.from))
        if (bytes.byteLength <= PARTIAL_MAX_BYTES) {
          p.from = reported
          p.outputs = bytes
          reported = done()
        }
      }
      return p
    }
    const run = async (signal: AbortSignal, onStart?: () => void, reportNow?: () => void): Promise<{ output: Uint8Array, ms: number, from: number, to: number }> => {
      let ms = 0
      for (let i = range.from; i < Math.min(range.to, control.cutAt ?? range.to); i++) {
        const item = items[i]
        const r = await this.init.runner.run({
          key: req.fn.cid, module, entry: req.entry, input: item.data, params: item.params, limits: req.limits
        }, { signal, onStart: i === range.from ? onStart : undefined })
        outputs.push(r.output)
        ms += r.ms
        this.itemsCompleted++
        // the first item's time tells the submitter this run's pace (a split needs it) long before the next beat
        if (outputs.length === 1 && range.to - range.from > 1) reportNow?.()
      }
      // what the progress reports did not carry comes with the result
      const from = reported
      reported = done()
      return { output: encodeOutputs(outputs.slice(from - range.from)), ms, from, to: done() }
    }
    return { report, run }
  }
}
