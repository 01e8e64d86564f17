import { logger } from '@libp2p/logger'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { parseRoomLink } from '../core/room/link.js'
import { BoardClient } from './board-client.js'
import { BoardRunner } from './board-runner.js'
import { FedraPeer } from '../peer/peer.js'
import type { Capabilities } from '../core/requirements/capabilities.js'
import type { BoardCaps } from '../core/mcu/messages.js'
import type { ByteLink } from './board-client.js'

const log = logger('fedra:mcu:bridge')

export interface BridgeInit {
  room: string
  relays: string[]
  /** Opens the link to the board; called again to reconnect after a reset or unplug. */
  open: () => Promise<ByteLink>
  /**
   * Node: a WebSockets listener tabs dial directly (e.g. `/ip4/127.0.0.1/tcp/0/ws`)
   * and no WebRTC. A tab adopting a board over Web Serial leaves both unset
   * and joins like any tab.
   */
  listen?: string[]
  webrtc?: boolean
  name?: string
  reconnectMs?: number
  onEvent?: (e: { event: 'board', caps: BoardCaps } | { event: 'board-lost', reason: string } | { event: 'task', entry: string }) => void
}

/** Bytes of a board frame not available to a task's input or output. */
export const BOARD_FRAME_OVERHEAD = 256

/** What a board can do, as the room's registry sees it. */
export function boardCapabilities (caps: BoardCaps): Capabilities {
  return {
    kind: 'mcu',
    cores: 1,
    memoryMB: Math.floor(caps.ram / (1024 * 1024)),
    maxMemoryPages: caps.maxPages,
    slots: caps.taskSlots,
    wasmSimd: false,
    wasmThreads: false,
    webgpu: false,
    videoDecode: [],
    videoEncode: [],
    runtimes: ['wasm'],
    // RUN carries the input and RESULT the output in one frame each; the
    // firmware keeps 256 bytes of a frame for headers (FX_MAX_OUTPUT)
    maxIoBytes: caps.maxFrame - BOARD_FRAME_OVERHEAD,
    device: { chip: caps.chip, clockHz: caps.clockHz, flashBytes: caps.flash, ramBytes: caps.ram, fpu: caps.fpu, dsp: caps.dsp }
  }
}

/**
 * A board on a serial line as a room peer, in Node (mcu-bridge/) or in a tab
 * (Web Serial): the same code. The bridge joins the room and forwards the tasks that fit the board (one WASM page,
 * no SIMD) to it. When the board goes away the bridge stops volunteering —
 * its tasks fail as "worker lost" and are re-queued by their submitters —
 * and it reconnects when the board answers again.
 */
export class Bridge {
  peer!: FedraPeer
  client?: BoardClient
  readonly runner: BoardRunner
  private stopped = false
  private reconnecting?: Promise<void>

  constructor (private readonly init: BridgeInit) {
    this.runner = new BoardRunner(() => this.client, entry => { this.init.onEvent?.({ event: 'task', entry }) })
  }

  async start (): Promise<void> {
    const caps = await this.connectBoard()
    this.peer = new FedraPeer({
      room: parseRoomLink(this.init.room),
      relays: this.init.relays,
      runner: this.runner,
      capabilities: boardCapabilities(caps),
      blockstore: new MemoryBlockstore(),
      datastore: new MemoryDatastore(),
      name: this.init.name ?? caps.chip,
      listen: this.init.listen,
      webrtc: this.init.webrtc
    })
    await this.peer.start()
  }

  private async connectBoard (): Promise<BoardCaps> {
    const link = await this.init.open()
    const client = new BoardClient(link)
    try {
      const caps = await client.hello()
      this.client = client
      client.onClose(err => { this.onBoardLost(err.message) })
      this.init.onEvent?.({ event: 'board', caps })
      return caps
    } catch (err) {
      await client.close().catch(() => {})
      throw err
    }
  }

  private onBoardLost (reason: string): void {
    if (this.stopped) return
    log('board lost: %s', reason)
    this.init.onEvent?.({ event: 'board-lost', reason })
    if (this.peer != null) this.peer.consent = false
    this.reconnecting ??= this.reconnect().finally(() => { this.reconnecting = undefined })
  }

  private async reconnect (): Promise<void> {
    while (!this.stopped) {
      await new Promise(resolve => setTimeout(resolve, this.init.reconnectMs ?? 1000))
      try {
        const caps = await this.connectBoard()
        this.peer.capabilities = boardCapabilities(caps)
        this.peer.consent = true
        return
      } catch (err) {
        log('board not back yet: %s', (err as Error).message)
      }
    }
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.client?.close().catch(() => {})
    await this.peer?.stop()
  }
}
