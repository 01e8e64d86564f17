import { InvalidFilterError, InvalidMessageError, UnsupportedMediaError } from '../core/errors.js'
import { VIDEO_UNIT_ENTRY, encodeVideoChain } from '../core/media/chain.js'
import { decodeVideoUnitResult, encodeVideoUnit } from '../core/media/units.js'
import { findFilter } from '../filters/catalog.js'
import { openVideo } from '../media/demux.js'
import { LiveFile } from '../media/live.js'
import { UnitMuxer, outputFormatFor } from '../media/mux.js'
import type { ChainFilter, VideoChain } from '../core/media/chain.js'
import type { VideoSource } from '../media/demux.js'
import type { Requirement } from '../core/requirements/requirement.js'
import type { ApplicationScheduler } from '../core/scheduler/types.js'
import type { JobProgress, TaskSpec } from './job-runner.js'
import type { FedraPeer } from './peer.js'

/** One filter of a video job's chain: a catalog filter by name, or a room-shared one by CID. */
export interface VideoFilterChoice {
  /** Catalog name (src/filters/catalog.ts), e.g. 'grayscale', or `fedra://<cid>` for a module in the room's repository. */
  name: string
  /** A module by CID: its image entry point (ABI v1 image params: width, height). */
  entry?: string
  /** The filter's own parameters by name; catalog defaults fill the gaps. */
  values?: Record<string, number>
}

export interface VideoJobInit {
  /**
   * The clip: a file the person opened, a finished recording, or a
   * recording still being made (a `LiveFile`: units go out while the
   * camera records, the job ends once it is closed and its last unit is in).
   */
  source: VideoSource
  /** File name of the source, to name the output. */
  fileName?: string
  /** Applied in this order to every frame, in one task per unit. */
  filters: VideoFilterChoice[]
  /** Target length of one work unit, seconds (default 1). */
  unitSeconds?: number
  /** Encoder bit rate, bits/s (default: about 0.1 bit per pixel per frame, at least 300 kbit/s). */
  bitrate?: number
  /** Reads a built-in filter's module by file name (default: `/filters/<file>` from the app's origin). */
  fetchModule?: (file: string) => Promise<Uint8Array>
  /** The person paused the job: no unit is sent while this says so (those running finish). */
  isPaused?: () => boolean
  /** The application scheduler (default: the peer's, ECT placement); `localOnly()` gives a one-tab run. */
  scheduler?: ApplicationScheduler
  signal?: AbortSignal
  onProgress?: (event: VideoJobEvent) => void
}

export type VideoJobEvent =
  /** The clip was opened: how long (unknown while it is still recorded: `live`), its size and codec; units follow as they are read. */
  | { type: 'video:opened', durationS?: number, live: boolean, width: number, height: number, codec: string }
  /** A unit's encoded input is stored and goes out to the room. */
  | { type: 'video:unit-stored', index: number, frames: number, bytes: number }
  /** A unit was given to a device (`workerId`; may repeat on a re-queue or a backup copy). */
  | { type: 'video:unit-started', index: number, workerId: string }
  /** A unit's filtered frames came back. */
  | { type: 'video:unit-done', index: number, workerId: string, frames: number }
  /** The source is fully read: `units` in all. */
  | { type: 'video:source-closed', units: number }
  /** The room's own job events (re-queues, backups, pauses). */
  | { type: 'video:job', event: JobProgress }

export interface VideoJobResult {
  blob: Blob
  mimeType: string
  fileName: string
  frames: number
  /** Which device computed each unit, by unit index. */
  owners: string[]
  /** SHA-256 of each unit's filtered frames before encoding. */
  hashes: string[]
  ms: number
}

/**
 * Deadline for one unit on one worker: decode, filter and encode about a
 * second of video (a few seconds on a loaded phone); past it the unit goes
 * to another worker.
 */
const UNIT_TIMEOUT_MS = 60_000

async function fetchBuiltIn (file: string): Promise<Uint8Array> {
  const res = await fetch(`/filters/${file}`)
  if (!res.ok) throw new InvalidFilterError(`the filter module ${file} is not built (run npm run build)`)
  return new Uint8Array(await res.arrayBuffer())
}

/** The chain's filters, published into the room's function repository (scalar and SIMD builds). */
async function publishChain (peer: FedraPeer, init: VideoJobInit, frameBytes: number): Promise<ChainFilter[]> {
  const fetchModule = init.fetchModule ?? fetchBuiltIn
  return Promise.all(init.filters.map(async (choice): Promise<ChainFilter> => {
    if (choice.name.startsWith('fedra://')) {
      // a filter someone added: already validated and published by CID; it gets the frame, its output and scratch of one frame
      if (choice.entry == null) throw new InvalidFilterError(`the filter ${choice.name} names no entry point`)
      const cid = choice.name.slice('fedra://'.length)
      peer.sharedFilters.used(cid)
      return { cid, entry: choice.entry, values: [], memoryPages: Math.ceil((3 * frameBytes + 8192) / 65536) }
    }
    const entry = findFilter(choice.name)
    if (entry == null || entry.kind !== 'image') throw new InvalidFilterError(`"${choice.name}" is not an image filter of the catalog`)
    const { simdWasm } = entry
    const [cid, simdCid] = await Promise.all([
      fetchModule(entry.wasm).then(async b => peer.publishFunction(b)),
      simdWasm != null ? fetchModule(simdWasm).then(async b => peer.publishFunction(b)) : undefined
    ])
    return {
      cid,
      ...(simdCid != null ? { simdCid } : {}),
      entry: entry.entry,
      values: entry.params.map(p => Math.min(p.max, Math.max(p.min, Math.round(choice.values?.[p.name] ?? p.default)))),
      memoryPages: entry.memoryPagesFor(frameBytes)
    }
  }))
}

/**
 * Filters a clip in the room and returns a playable file. The clip is read
 * as work units of whole GOPs (src/core/media/plan.ts); each unit is stored
 * by CID and goes out as soon as it is read (a streaming job), each worker
 * decodes, filters and re-encodes its unit with a new encoder, and this
 * peer muxes the results in order as they come back, audio copied through.
 */
export async function runVideoJob (peer: FedraPeer, init: VideoJobInit): Promise<VideoJobResult> {
  const t0 = performance.now()
  // a result that cannot be muxed ends the job with its own error
  const fail = new AbortController()
  const signal = init.signal != null ? AbortSignal.any([init.signal, fail.signal]) : fail.signal
  const emit = (e: VideoJobEvent): void => { init.onProgress?.(e) }
  const opened = await openVideo(init.source, { signal })
  try {
    // the muxer copies the input's audio from a file; a live recording's
    // file so far (read up to its tracks by now) tells it there is none
    const audioFrom = init.source instanceof LiveFile ? init.source.blob() : init.source
    if (opened.live && opened.hasAudio) {
      throw new UnsupportedMediaError('a recording with sound cannot be filtered while it is recorded (its sound would be cut): stop it, then filter the clip')
    }
    emit({ type: 'video:opened', durationS: opened.durationS, live: opened.live, width: opened.width, height: opened.height, codec: opened.config.codec })
    const out = outputFormatFor(opened)
    const frameBytes = opened.width * opened.height * 4
    const filters = await publishChain(peer, init, frameBytes)
    const chain: VideoChain = {
      v: 1,
      filters,
      codec: out.codec,
      bitrate: init.bitrate ?? Math.max(300_000, Math.round(opened.width * opened.height * 3))
    }
    const chainCid = await peer.publishFunction(encodeVideoChain(chain))
    const memoryPages = Math.max(1, ...filters.map(f => f.memoryPages))
    const requirement: Requirement = {
      runtime: 'wasm',
      memoryPages,
      capabilities: ['videoDecode', 'videoEncode'],
      kinds: ['browser'],
      video: { decode: opened.config.codec, encode: out.codec }
    }
    const muxer = new UnitMuxer({ source: audioFrom, container: out.container, codec: out.codec, width: opened.width, height: opened.height, orientation: opened.orientation })
    const owners: string[] = []
    const hashes: string[] = []
    let frames = 0
    let units = 0
    const unitOf = (taskId: string): number => Number(taskId.slice('unit-'.length))

    async function * source (): AsyncGenerator<TaskSpec> {
      for await (const unit of opened.units({ targetUs: Math.round((init.unitSeconds ?? 1) * 1e6), signal })) {
        const bytes = encodeVideoUnit(unit)
        const cid = await peer.blocks.put(bytes, { signal })
        units++
        emit({ type: 'video:unit-stored', index: unit.index, frames: unit.chunks.length - unit.skip, bytes: bytes.byteLength })
        yield {
          id: `unit-${unit.index}`,
          fnCid: chainCid,
          entry: VIDEO_UNIT_ENTRY,
          input: { cid },
          params: new Uint8Array(0),
          requirement,
          limits: { memoryPages, timeoutMs: UNIT_TIMEOUT_MS }
        }
      }
      emit({ type: 'video:source-closed', units })
    }

    // results are muxed as they come; the muxer holds early ones until their turn
    const muxed: Array<Promise<void>> = []
    await peer.runTasks([], {
      source: source(),
      signal,
      scheduler: init.scheduler,
      isPaused: init.isPaused,
      waitForWorkers: true,
      // each unit's result is muxed as it comes: the runner keeps none of them
      keepOutputs: false,
      onProgress: e => {
        if (e.type === 'dispatched') emit({ type: 'video:unit-started', index: unitOf(e.taskId), workerId: e.workerId })
        else if (e.type !== 'task-done') emit({ type: 'video:job', event: e })
      },
      onTaskDone: (taskId, outcome) => {
        const index = unitOf(taskId)
        try {
          const result = decodeVideoUnitResult(outcome.output)
          if (result.index !== index) throw new InvalidMessageError(`worker ${outcome.workerId} returned unit ${result.index} for unit ${index}`)
          owners[index] = outcome.workerId
          hashes[index] = result.hash
          frames += result.frames
          muxed.push(muxer.add(result).catch((err: unknown) => { fail.abort(err) }))
          emit({ type: 'video:unit-done', index, workerId: outcome.workerId, frames: result.frames })
        } catch (err) {
          fail.abort(err)
        }
      }
    })
    await Promise.all(muxed)
    signal.throwIfAborted()
    const { blob, mimeType } = await muxer.finish()
    const base = (init.fileName ?? 'video').replace(/\.[^.]*$/, '')
    return { blob, mimeType, fileName: `${base}-filtered.${out.container}`, frames, owners, hashes, ms: performance.now() - t0 }
  } finally {
    opened.close()
  }
}
