import { cutTile, pasteTile, planTiles } from '../core/image/tiles.js'
import { decodeOutputs, encodeBatch } from '../core/protocol/batch.js'
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
  /**
   * Tiles per task (default 1). Above 1 a task is a batch of tiles, run one
   * by one on its worker: near the end of the job the room may split it
   * between workers, and a lost worker's finished tiles are kept.
   */
  tilesPerTask?: number
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
  const per = Math.max(1, Math.floor(init.tilesPerTask ?? 1))
  const limits = (pages: number): { memoryPages: number, timeoutMs: number } => ({ memoryPages: pages, timeoutMs: init.timeoutMs ?? 30_000 })
  const groups: Tile[][] = []
  for (let i = 0; i < tiles.length; i += per) groups.push(tiles.slice(i, i + per))
  const specs = await Promise.all(groups.map(async group => {
    const cut = group.map(tile => cutTile(init.rgba, init.width, tile))
    // a filter's output is as large as its input; each tile is one call
    const largest = Math.max(...cut.map(b => b.byteLength))
    const requirement: Requirement = { runtime: 'wasm', memoryPages: init.memoryPages(largest), ioBytes: largest }
    const base = { fnCid: init.fnCid, entry: init.entry, requirement, limits: limits(requirement.memoryPages) }
    if (per === 1) {
      const tile = group[0]
      return { ...base, id: `tile-${tile.index}`, input: { cid: await peer.blocks.put(cut[0], { signal: init.signal }) }, params: init.params(tile) }
    }
    const batch = encodeBatch(group.map((tile, i) => ({ params: init.params(tile), data: cut[i] })))
    return { ...base, id: `tiles-${group[0].index}`, input: { cid: await peer.blocks.put(batch, { signal: init.signal }) }, params: new Uint8Array(0), items: group.length }
  }))
  const outcomes = await peer.runTasks(specs, {
    signal: init.signal, onProgress: init.onProgress, scheduler: init.scheduler,
    backups: init.backups, quorum: init.quorum, waitForWorkers: init.waitForWorkers
  })
  const rgba = new Uint8Array(init.width * init.height * 4)
  const owners: string[] = []
  groups.forEach((group, g) => {
    const o = outcomes.get(specs[g].id)
    if (o == null) throw new Error(`tiles from ${group[0].index} have no output`)
    const outs = per === 1 ? [o.output] : decodeOutputs(o.output, group.length)
    group.forEach((tile, i) => {
      pasteTile(rgba, init.width, tile, outs[i])
      owners[tile.index] = o.itemWorkers?.[i] ?? o.workerId
    })
  })
  return { rgba, tiles, owners, ms: performance.now() - t0 }
}
