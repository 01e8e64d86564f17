import { decodeVideoUnit, decodeVideoUnitResult, encodeVideoUnit, encodeVideoUnitResult } from '../core/media/units.js'
import { openVideo } from './demux.js'
import { UnitMuxer, outputFormatFor } from './mux.js'
import { runVideoUnit } from './step.js'
import type { MuxedVideo, OutputFormatChoice } from './mux.js'
import type { FrameFilter } from './step.js'

export interface LocalVideoRun extends MuxedVideo {
  format: OutputFormatChoice
  /** Each unit's hash of filtered frames, by unit index. */
  hashes: string[]
  /** Frames output per unit, by unit index. */
  unitFrames: number[]
  /** Whole run, and time spent in runVideoUnit, ms. */
  ms: number
  stepMs: number
}

/**
 * The whole pipeline in this tab, through the same per-unit code and wire
 * codecs as a room job (open, plan, encode the unit, decode it, step,
 * encode the result, decode it, mux): the reference a room's output must
 * equal, and the tests' way to exercise every part in one call.
 */
export async function runVideoLocally (source: Blob, filter: FrameFilter, opts: { targetUs?: number, bitrate?: number, signal?: AbortSignal } = {}): Promise<LocalVideoRun> {
  const t0 = performance.now()
  const opened = await openVideo(source, { signal: opts.signal })
  try {
    const format = outputFormatFor(opened)
    const muxer = new UnitMuxer({ source, container: format.container, codec: format.codec, width: opened.width, height: opened.height, orientation: opened.orientation })
    const hashes: string[] = []
    const unitFrames: number[] = []
    let stepMs = 0
    for await (const unit of opened.units({ targetUs: opts.targetUs, signal: opts.signal })) {
      const t1 = performance.now()
      const result = await runVideoUnit(decodeVideoUnit(encodeVideoUnit(unit)), filter, { codec: format.codec, bitrate: opts.bitrate, signal: opts.signal })
      stepMs += performance.now() - t1
      hashes[result.index] = result.hash
      unitFrames[result.index] = result.frames
      await muxer.add(decodeVideoUnitResult(encodeVideoUnitResult(result)))
    }
    const muxed = await muxer.finish()
    return { ...muxed, format, hashes, unitFrames, ms: performance.now() - t0, stepMs }
  } finally {
    opened.close()
  }
}
