import { UnitPlanner, planUnits } from '../core/media/plan.js'
import { decodeVideoUnit, decodeVideoUnitResult, encodeVideoUnit, encodeVideoUnitResult, outputTimestamps } from '../core/media/units.js'
import { openVideo } from './demux.js'
import { runVideoLocally } from './local.js'
import { UnitMuxer, outputFormatFor } from './mux.js'
import { defaultBitrate, emptyTimings, runVideoUnit } from './step.js'

/**
 * The media library as one object, for the page's `window.fedra.media`
 * (tests and devtools drive the parts one by one through it).
 */
export const mediaHooks = {
  openVideo,
  runVideoUnit,
  emptyTimings,
  runVideoLocally,
  UnitMuxer,
  outputFormatFor,
  defaultBitrate,
  UnitPlanner,
  planUnits,
  outputTimestamps,
  encodeVideoUnit,
  decodeVideoUnit,
  encodeVideoUnitResult,
  decodeVideoUnitResult
}

export type MediaHooks = typeof mediaHooks
