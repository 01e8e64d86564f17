import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { WorkerLostError } from '../core/errors.js'
import { Registry } from '../core/registry/registry.js'
import { SharedFilterBook, roomFilters } from '../core/registry/shared-filters.js'
import { deriveRoomKeys } from '../core/room/keys.js'
import { ectScheduler } from '../core/scheduler/ect-scheduler.js'
import { TaskTimeEstimator } from '../core/scheduler/estimates.js'
import { createFedraNode } from '../net/libp2p.js'
import { Room } from '../net/room.js'
import { TaskChannels } from '../net/task-channel.js'
import { FedraBlocks } from '../storage/blocks.js'
import { runTasks } from './job-runner.js'
import { WorkerService } from './worker-service.js'
import type { Capabilities } from '../core/requirements/capabilities.js'
import type { TaskRequest, TaskResult } from '../core/protocol/task.js'
import type { RoomSecret } from '../core/room/link.js'
import type { SharedFilter } from '../core/registry/shared-filters.js'
import type { ApplicationScheduler } from '../core/scheduler/types.js'
import type { FedraLibp2p } from '../net/libp2p.js'
import type { JobEnv, RunTasksOptions, TaskOutcome, TaskSpec } from './job-runner.js'
import type { FunctionRunner, VideoUnitRunner } from './types.js'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'

export interface FedraPeerInit {
  room: RoomSecret
  relays: string[]
  runner: FunctionRunner
  capabilities: Capabilities
  blockstore: Blockstore
  datastore: Datastore
  name?: string
  /** Volunteer: accept tasks from room members. */
  consent?: boolean
  scheduler?: ApplicationScheduler
  beatIntervalMs?: number
  /** Direct listen addresses (Node peers: WebSockets). */
  listen?: string[]
  /** False for Node peers: browsers reach them over their WebSockets listener. */
  webrtc?: boolean
  /** Runs video units (browsers with WebCodecs). */
  video?: VideoUnitRunner
  /** STUN/TURN servers the operator configured (the relay's /fedra.json); none by default. */
  iceServers?: RTCIceServer[]
}

/**
 * A Fedra peer: the one public API the web app, the relay's fog worker and
 * the board bridge use. It is both an application (submits jobs) and a
 * worker (runs room members' tasks when it consents).
 */
export class FedraPeer {
  readonly registry: Registry
  node!: FedraLibp2p
  blocks!: FedraBlocks
  worker!: WorkerService
  private room!: Room
  private channels!: TaskChannels
  private readonly lostListeners = new Set<(peerId: string) => void>()
  /** Peers that proved the room key on a task stream: the only ones served blocks directly. */
  private readonly members = new Set<string>()
  consent: boolean
  scheduler: ApplicationScheduler
  private jobSeq = 0
  /** Task times learned per worker and function, across jobs. */
  readonly estimator = new TaskTimeEstimator()
  /** Filters this peer's person added and shares with the room. */
  readonly sharedFilters = new SharedFilterBook()

  constructor (private readonly init: FedraPeerInit) {
    this.registry = new Registry({ beatIntervalMs: init.beatIntervalMs })
    this.consent = init.consent ?? true
    // placement by estimated completion time, learning from this peer's
    // estimator; a job may ask for another (leastLoaded to use every
    // device, localOnly) — docs/decisions.md
    this.scheduler = init.scheduler ?? ectScheduler({ estimator: this.estimator })
  }

  get id (): string {
    return this.node.peerId.toString()
  }

  get capabilities (): Capabilities {
    return this.init.capabilities
  }

  /** The display name this peer announces on its beats. */
  get name (): string {
    return this.init.name ?? 'peer'
  }

  set name (name: string) {
    this.init.name = name
  }

  /** A bridge whose board came back (maybe another board) announces afresh. */
  set capabilities (caps: Capabilities) {
    this.init.capabilities = caps
  }

  async start (): Promise<void> {
    const keys = await deriveRoomKeys(this.init.room)
    this.node = await createFedraNode({ relays: this.init.relays, listen: this.init.listen, webrtc: this.init.webrtc, iceServers: this.init.iceServers ?? [] })
    this.blocks = new FedraBlocks({ node: this.node, blockstore: this.init.blockstore, datastore: this.init.datastore, isMember: id => this.members.has(id) })
    this.worker = new WorkerService({ blocks: this.blocks, runner: this.init.runner, video: this.init.video, simd: this.init.capabilities.wasmSimd, selfId: this.node.peerId.toString() })
    this.channels = new TaskChannels(this.node, {
      keys,
      handler: async (req, ctx) => {
        // not the task's fault: the submitter re-queues it elsewhere
        if (!this.consent) throw new WorkerLostError('this peer stopped volunteering')
        return this.worker.handle(req, ctx.signal, ctx.onProgress, ctx.control)
      },
      onVerified: id => { this.members.add(id); this.registry.markVerified(id); this.blocks.admit(id) }
    })
    this.room = new Room({
      node: this.node,
      keys,
      registry: this.registry,
      beat: () => ({
        caps: this.init.capabilities,
        consent: this.consent,
        load: { queued: this.worker.queued, running: this.worker.running },
        cache: this.worker.functions.keys().slice(0, 64),
        name: this.name,
        filters: this.sharedFilters.list()
      }),
      verify: async (id, signal) => { await this.channels.connect(peerIdFromString(id), { signal }) },
      onPeerLost: id => {
        this.channels.drop(id)
        for (const fn of this.lostListeners) fn(id)
      }
    })
    await this.init.runner.start?.()
    await this.blocks.start()
    await this.channels.start()
    await this.room.start()
  }

  async stop (): Promise<void> {
    await this.room?.stop().catch(() => {})
    await this.channels?.stop().catch(() => {})
    await this.blocks?.stop().catch(() => {})
    await Promise.resolve(this.node?.stop()).catch(() => {})
    await this.init.runner.stop?.()
  }

  /** Room members we reach directly and that proved the room key. */
  connectedPeers (): string[] {
    return this.registry.list().filter(e => e.verified && this.room.isDirectlyConnected(e.id)).map(e => e.id)
  }

  isDirect (peerId: string): boolean {
    return this.room.isDirectlyConnected(peerId)
  }

  /** Our relayed WebRTC addresses (what heartbeats announce). */
  addresses (): string[] {
    return this.room.addresses()
  }

  /** Dials a peer by its announced addresses (the room does this on its own). */
  async dial (addrs: string[], options: { signal?: AbortSignal, attempts?: number } = {}): Promise<void> {
    const attempts = options.attempts ?? 4
    for (let i = 1; ; i++) {
      // short tries: a WebRTC dial that stalls ("wait for init channel")
      // rarely recovers, a fresh one usually succeeds at once
      const signal = AbortSignal.any([AbortSignal.timeout(4000), ...(options.signal != null ? [options.signal] : [])])
      try {
        await this.node.dial(addrs.map(a => multiaddr(a)), { signal })
        return
      } catch (err) {
        if (i >= attempts || options.signal?.aborted === true) throw err
      }
    }
  }

  /** Runs the room-key handshake with a connected peer; throws NotRoomMemberError. */
  async verify (peerId: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.channels.connect(peerIdFromString(peerId), options)
  }

  /** Sends one task straight to a peer, bypassing the scheduler. */
  async submitTo (peerId: string, req: Omit<TaskRequest, 'v' | 't'>, options: { signal?: AbortSignal } = {}): Promise<TaskResult> {
    return this.channels.submit(peerIdFromString(peerId), req, options)
  }

  /** Publishes a filter module (already checked against the ABI) and shares it with the room; returns its CID. */
  async shareFilter (bytes: Uint8Array, title: string, entry: string): Promise<string> {
    const cid = await this.publishFunction(bytes)
    this.sharedFilters.add({ cid, title, entry })
    return cid
  }

  /** Every filter shared in the room (this peer's and those its members announce), each once. */
  roomFilters (): SharedFilter[] {
    return roomFilters([this.sharedFilters.list(), ...this.registry.list().map(e => e.beat.filters)])
  }

  /** Stores a function module in the repository; returns its CID. */
  async publishFunction (bytes: Uint8Array): Promise<string> {
    const cid = await this.blocks.put(bytes)
    this.worker.functions.set(cid, bytes)
    return cid
  }

  private env (): JobEnv {
    return {
      selfId: this.id,
      registry: this.registry,
      scheduler: this.scheduler,
      estimator: this.estimator,
      selfCaps: () => this.init.capabilities,
      selfConsent: () => this.consent,
      runLocal: async (req, signal, onProgress, control) => this.worker.handle(req, signal, onProgress, control),
      submitRemote: async (peerId, req, signal, onProgress) => this.channels.submit(peerIdFromString(peerId), req, { signal, onProgress }),
      cutRemote: (peerId, taskId, at) => { void this.channels.cut(peerIdFromString(peerId), taskId, at).catch(() => {}) },
      fetchOutput: async (ref, signal) => 'bytes' in ref ? ref.bytes : this.blocks.get(ref.cid, { signal, providers: ref.from != null ? [ref.from] : undefined }),
      moduleBytes: cid => this.worker.functions.get(cid),
      onPeerLost: fn => {
        this.lostListeners.add(fn)
        return () => { this.lostListeners.delete(fn) }
      }
    }
  }

  /** Runs independent tasks over the room's volunteers (this peer included when it consents). */
  async runTasks (specs: readonly TaskSpec[], options: RunTasksOptions & { scheduler?: ApplicationScheduler } = {}): Promise<Map<string, TaskOutcome>> {
    const env = this.env()
    if (options.scheduler != null) env.scheduler = options.scheduler
    return runTasks(env, `${this.id.slice(-8)}-${this.jobSeq++}`, specs, options)
  }
}
