import { cutTile, pasteTile, planTiles } from '../core/image/tiles.js'
import type { Requirement } from '../core/requirements/requirement.js'
import type { Tile } from '../core/image/tiles.js'
import type { ApplicationScheduler } from '../core/scheduler/types.js'
import type { JobProgress } from './job-runner.js'
import type { FedraPeer } from './peer.js'

export interface ImageJobInit {
  rgba: Uint8Array
  width: number
  height: number
  tileSize: number
  fnCid: string
  entry: string
  /** ABI v1 params for one tile (u32le width, height, then the filter's own). */
  params: (tile: Tile) => Uint8Array
  memoryPages: (tileBytes: number) => number
  timeoutMs?: number
  scheduler?: ApplicationScheduler
  /** Backup copies of the last, slowest tasks (default on). */
  backups?: boolean
  /** Run each tile on this many workers and keep only agreed results. */
  quorum?: number
  /** Wait (paused) for a fitting volunteer instead of refusing at once. */
  waitForWorkers?: boolean
  signal?: AbortSignal
  onProgress?: (e: JobProgress) => void
}

export interface ImageJobResult {
  rgba: Uint8Array
  tiles: Tile[]
  /** Which peer computed each tile, by tile index. */
  owners: string[]
  ms: number
}

/**
 * The demo job: cut the image into tiles, store each tile in the block store
 * (workers fetch it by CID over bitswap), filter tiles as map tasks, paste
 * the outputs back.
 */
export async function runImageJob (peer: FedraPeer, init: ImageJobInit): Promise<ImageJobResult> {
  const t0 = performance.now()
  const tiles = planTiles(init.width, init.height, init.tileSize)
  const specs = await Promise.all(tiles.map(async tile => {
    const bytes = cutTile(init.rgba, init.width, tile)
    // a filter's output is as large as its input
    const requirement: Requirement = { runtime: 'wasm', memoryPages: init.memoryPages(bytes.byteLength), ioBytes: bytes.byteLength }
    return {
      id: `tile-${tile.index}`,
      fnCid: init.fnCid,
      entry: init.entry,
      input: { cid: await peer.blocks.put(bytes, { signal: init.signal }) },
      params: init.params(tile),
      requirement,
      limits: { memoryPages: requirement.memoryPages, timeoutMs: init.timeoutMs ?? 30_000 }
    }
  }))
  const outcomes = await peer.runTasks(specs, {
    signal: init.signal, onProgress: init.onProgress, scheduler: init.scheduler,
    backups: init.backups, quorum: init.quorum, waitForWorkers: init.waitForWorkers
  })
  const rgba = new Uint8Array(init.width * init.height * 4)
  const owners: string[] = []
  for (const tile of tiles) {
    const o = outcomes.get(`tile-${tile.index}`)
    if (o == null) throw new Error(`tile ${tile.index} has no output`)
    pasteTile(rgba, init.width, tile, o.output)
    owners[tile.index] = o.workerId
  }
  return { rgba, tiles, owners, ms: performance.now() - t0 }
}
