import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { parseRoomLink } from '../src/core/room/link.js'
import { FedraPeer } from '../src/peer/peer.js'
import { createWorkerPool, describeRuntime } from '../src/runtime/index.js'
import type { Capabilities } from '../src/core/requirements/capabilities.js'

export interface VolunteerInit {
  /** The room link (or its `#/r/…` fragment). */
  room: string
  relays: string[]
  /** Interface for the WebSockets listener browsers dial (default 127.0.0.1). */
  host?: string
  workers?: number
  name?: string
}

/**
 * A headless Node volunteer ("fog" worker): joins a room with its link and
 * runs tasks in worker_threads. Browsers reach it over its WebSockets
 * listener, directly (no relay in the path).
 */
export async function startVolunteer (init: VolunteerInit): Promise<FedraPeer> {
  const rt = describeRuntime()
  const workers = init.workers ?? Math.max(1, rt.cores - 1)
  const caps: Capabilities = {
    kind: 'node',
    cores: rt.cores,
    memoryMB: rt.memoryMB,
    maxMemoryPages: 16384,
    slots: workers,
    wasmSimd: rt.wasmSimd,
    wasmThreads: rt.wasmThreads,
    webgpu: false,
    videoDecode: [],
    videoEncode: [],
    runtimes: ['wasm']
  }
  const peer = new FedraPeer({
    room: parseRoomLink(init.room),
    relays: init.relays,
    runner: createWorkerPool({ size: workers }),
    capabilities: caps,
    blockstore: new MemoryBlockstore(),
    datastore: new MemoryDatastore(),
    name: init.name ?? 'node volunteer',
    listen: [`/ip4/${init.host ?? '127.0.0.1'}/tcp/0/ws`],
    webrtc: false
  })
  await peer.start()
  return peer
}
