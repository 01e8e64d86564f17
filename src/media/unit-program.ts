/**
 * The 'video-unit' program of the browser's pool workers
 * (src/runtime/worker.browser.ts): a whole video unit in one worker —
 * WebCodecs decode, the filter chain on every frame, encode — so that no
 * frame crosses a thread. Each filter is one instance per unit under the
 * chain's memory cap, called once per frame (the ABI lets a host reuse an
 * instance: the first `fedra_alloc` after an entry call starts a new task);
 * the pool gives the unit its deadline and cancellation.
 */
import { InvalidMessageError } from '../core/errors.js'
import { decodeVideoChain } from '../core/media/chain.js'
import { decodeVideoUnit, encodeVideoUnitResult } from '../core/media/units.js'
import { encodeImageParams } from '../filters/catalog.js'
import { runVideoUnit } from './step.js'
import type { Program } from '../runtime/executor.js'
import type { FrameFilter } from './step.js'

/** The program's name; its task: modules = the chain's filters in order, params = the encoded VideoChain, input = the encoded VideoUnit. */
export const VIDEO_UNIT_PROGRAM = 'video-unit'

export const videoUnitProgram: Program = async (req, host) => {
  const chain = decodeVideoChain(req.params)
  if (chain.filters.length !== req.modules.length) {
    throw new InvalidMessageError(`a chain of ${chain.filters.length} filters needs ${chain.filters.length} modules, not ${req.modules.length}`)
  }
  const unit = decodeVideoUnit(req.input)
  const instances = await Promise.all(chain.filters.map(async (f, i) => host.instantiate(i, f.memoryPages)))
  let size = ''
  let params: Uint8Array[] = []
  const filter: FrameFilter = async (rgba, width, height) => {
    if (size !== `${width}x${height}`) {
      params = chain.filters.map(f => encodeImageParams(width, height, f.values))
      size = `${width}x${height}`
    }
    // each output is a view of its instance's memory: the next filter copies it in
    let frame = rgba
    for (let i = 0; i < instances.length; i++) frame = instances[i].call(chain.filters[i].entry, frame, params[i])
    return frame
  }
  return encodeVideoUnitResult(await runVideoUnit(unit, filter, { codec: chain.codec, bitrate: chain.bitrate }))
}
