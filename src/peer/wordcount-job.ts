import { mergeReduceOutputs, partitionRecords, splitText } from '../core/mapreduce/records.js'
import type { KeyValue } from '../core/mapreduce/records.js'
import type { Requirement } from '../core/requirements/requirement.js'
import type { ApplicationScheduler } from '../core/scheduler/types.js'
import type { JobProgress } from './job-runner.js'
import type { FedraPeer } from './peer.js'

export interface WordCountInit {
  text: Uint8Array
  fnCid: string
  mapEntry: string
  reduceEntry: string
  chunkBytes?: number
  partitions?: number
  memoryPages?: number
  scheduler?: ApplicationScheduler
  signal?: AbortSignal
  onProgress?: (e: JobProgress & { phase: 'map' | 'reduce' }) => void
}

export interface WordCountResult {
  counts: Array<{ word: string, count: number }>
  /** Which peer ran each map and reduce task. */
  owners: Record<string, string>
  ms: number
}

/**
 * MapReduce word count: map over text chunks on volunteers, shuffle by key
 * (FNV-1a partitions, sorted), reduce partitions on volunteers, merge.
 */
export async function runWordCount (peer: FedraPeer, init: WordCountInit): Promise<WordCountResult> {
  const t0 = performance.now()
  const memoryPages = init.memoryPages ?? 16
  const limits = { memoryPages, timeoutMs: 30_000 }
  // a map's records can outgrow its chunk (one record per distinct word):
  // twice the chunk bounds it for natural text
  const requirement = (bytes: number): Requirement => ({ runtime: 'wasm', memoryPages, ioBytes: 2 * bytes })
  const chunks = splitText(init.text, init.chunkBytes ?? 4096)
  const owners: Record<string, string> = {}
  const mapSpecs = await Promise.all(chunks.map(async (chunk, i) => ({
    id: `map-${i}`, fnCid: init.fnCid, entry: init.mapEntry,
    input: { cid: await peer.blocks.put(chunk, { signal: init.signal }) },
    params: new Uint8Array(0), requirement: requirement(chunk.byteLength), limits
  })))
  const mapped = await peer.runTasks(mapSpecs, {
    signal: init.signal, scheduler: init.scheduler, onProgress: e => init.onProgress?.({ ...e, phase: 'map' })
  })
  for (const [id, o] of mapped) owners[id] = o.workerId
  const partitions = partitionRecords(mapSpecs.map(s => (mapped.get(s.id) as { output: Uint8Array }).output), init.partitions ?? 4)
  const reduceSpecs = await Promise.all(partitions.map(async (part, i) => ({
    id: `reduce-${i}`, fnCid: init.fnCid, entry: init.reduceEntry,
    input: { cid: await peer.blocks.put(part, { signal: init.signal }) },
    params: new Uint8Array(0), requirement: requirement(part.byteLength), limits
  })))
  const reduced = await peer.runTasks(reduceSpecs, {
    signal: init.signal, scheduler: init.scheduler, onProgress: e => init.onProgress?.({ ...e, phase: 'reduce' })
  })
  for (const [id, o] of reduced) owners[id] = o.workerId
  const merged: KeyValue[] = mergeReduceOutputs(reduceSpecs.map(s => (reduced.get(s.id) as { output: Uint8Array }).output))
  const dec = new TextDecoder()
  const counts = merged.map(r => ({ word: dec.decode(r.key), count: new DataView(r.value.buffer, r.value.byteOffset, r.value.byteLength).getUint32(0, true) }))
  return { counts, owners, ms: performance.now() - t0 }
}
