import type { Requirement } from '../requirements/requirement.js'
import type { PendingTask } from '../scheduler/types.js'
import type { Rng } from './prng.js'

/** A task as the simulator knows it: what the scheduler sees, plus its true cost. */
export interface SimTask extends PendingTask {
  phase: 'map' | 'reduce'
  /** Work on a reference core, ms (hidden from the scheduler). */
  workMs: number
  /** Number in submission order. */
  n: number
  /**
   * Items the task runs over (frames of a clip, records of a chunk), all
   * alike in cost: a batch task, which the policy can split at an item
   * boundary. Undefined: the task is one indivisible call.
   */
  items?: number
}

export interface WorkloadInit {
  tasks: number
  /** Reduce tasks (partitions); 0 for a bag of independent tasks. */
  reducers: number
  /** Share of map tasks that are ML (onnx) filters. */
  onnxShare: number
  mapWorkMs: number
  onnxWorkMs: number
  reduceWorkMs: number
  chunkBytes: number
  shuffleBytes: number
  /** Size of the map function's module, bytes (fetched once per worker). */
  mapFunctionBytes: number
  /** Shape σ of the log-normal task sizes (0: every task of a kind the same size, as in a calibration run). */
  sizeSigma: number
  /**
   * Share of the size variance that shows in the input bytes (work ∝ bytes,
   * as for tiles and text chunks); the rest is content the scheduler cannot
   * see (0: every input the same size, work sizes hidden).
   */
  sizeInBytes: number
  /**
   * Items of a map task of the typical chunk size (a map task is a batch
   * task: it can be split between them); a larger chunk holds as many more
   * (its item count is the size the policy sees of a batch task whose
   * input is by CID). 0: indivisible, of a size the policy cannot see.
   */
  mapItems: number
}

export const DEFAULT_WORKLOAD: Omit<WorkloadInit, 'tasks' | 'reducers'> = {
  onnxShare: 0.1,
  mapWorkMs: 3000,
  onnxWorkMs: 6000,
  reduceWorkMs: 5000,
  chunkBytes: 512 * 1024,
  shuffleBytes: 1024 * 1024,
  mapFunctionBytes: 300_000,
  sizeSigma: 0.25,
  sizeInBytes: 0.85,
  mapItems: 32
}

/** Function ids and requirements of the MapReduce job the simulator runs. */
export const MAP_FN = 'fn:map-filter'
export const ONNX_FN = 'fn:map-onnx'
export const REDUCE_FN = 'fn:reduce'
/** A small WASM filter: fits a microcontroller (128 KiB of linear memory). */
export const MAP_REQ: Requirement = { runtime: 'wasm', memoryPages: 2 }
export const ONNX_REQ: Requirement = { runtime: 'onnx', memoryPages: 4096 }
export const REDUCE_REQ: Requirement = { runtime: 'wasm', memoryPages: 1024 }

/** A task's input bytes and work: work ∝ bytes × hidden content factor, total σ `sizeSigma`. */
function sized (rng: Rng, init: WorkloadInit, bytes: number, workMs: number): { bytes: number, workMs: number } {
  const share = Math.min(1, Math.max(0, init.sizeInBytes))
  const b = rng.lognormal(1, init.sizeSigma * Math.sqrt(share))
  const c = rng.lognormal(1, init.sizeSigma * Math.sqrt(1 - share))
  return { bytes: Math.max(1, Math.round(bytes * b)), workMs: workMs * b * c }
}

export function makeJob (rng: Rng, init: WorkloadInit): { map: SimTask[], reduce: SimTask[] } {
  const nReduce = Math.min(init.reducers, Math.max(0, init.tasks - 1))
  const nMap = init.tasks - nReduce
  const map: SimTask[] = []
  for (let i = 0; i < nMap; i++) {
    const onnx = rng.chance(init.onnxShare)
    const z = sized(rng, init, init.chunkBytes, onnx ? init.onnxWorkMs : init.mapWorkMs)
    map.push({
      id: `m${i}`,
      n: i,
      phase: 'map',
      functionCid: onnx ? ONNX_FN : MAP_FN,
      functionBytes: onnx ? 4_000_000 : init.mapFunctionBytes,
      requirement: onnx ? ONNX_REQ : MAP_REQ,
      inputCids: [`chunk:${i}`],
      inputBytes: [z.bytes],
      workMs: z.workMs,
      ...(init.mapItems > 1 ? { items: Math.max(1, Math.round(init.mapItems * z.bytes / init.chunkBytes)) } : {})
    })
  }
  const reduce: SimTask[] = []
  for (let i = 0; i < nReduce; i++) {
    const z = sized(rng, init, init.shuffleBytes, init.reduceWorkMs)
    reduce.push({
      id: `r${i}`,
      n: nMap + i,
      phase: 'reduce',
      functionCid: REDUCE_FN,
      functionBytes: 200_000,
      requirement: REDUCE_REQ,
      inputCids: [`partition:${i}`],
      inputBytes: [z.bytes],
      workMs: z.workMs
    })
  }
  return { map, reduce }
}
