import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { FedraError } from '../core/errors.js'
import { decodeRoomMessage, encodeRoomMessage } from '../core/protocol/room.js'
import { openRoomMessage, sealRoomMessage } from '../core/room/keys.js'
import { isDirect } from './libp2p.js'
import type { Beat } from '../core/protocol/room.js'
import type { Registry } from '../core/registry/registry.js'
import type { RoomKeys } from '../core/room/keys.js'
import type { FedraLibp2p } from './libp2p.js'
import type { Connection } from '@libp2p/interface'
import type { Message } from '@libp2p/gossipsub'

const log = logger('fedra:net:room')

function isWebRtcAddr (a: string): boolean {
  return a.includes('/webrtc') && a.includes('/p2p-circuit')
}

/** A direct WebSockets listener (not through a relay). */
function isListenAddr (a: string): boolean {
  return !a.includes('/p2p-circuit') && (a.includes('/ws') || a.includes('/wss') || a.includes('/tls/ws'))
}

/**
 * First attempt; a stalled @libp2p/webrtc dial is abandoned and retried on
 * the next beat. Each failure in a row to the same peer doubles it, up to
 * `MAX_DIAL_TIMEOUT_MS`: a peer on a slow, busy CPU cannot finish a WebRTC
 * handshake in 4 s, and a fixed timeout would never let it back in.
 */
const DIAL_TIMEOUT_MS = 4000
const MAX_DIAL_TIMEOUT_MS = 16_000

export interface RoomInit {
  node: FedraLibp2p
  keys: RoomKeys
  registry: Registry
  /** Our own heartbeat, fresh each time (load and cache change). */
  beat: () => Omit<Beat, 'v' | 't' | 'id' | 'seq' | 'addrs'>
  /** Proves room membership on a fresh direct connection (the task handshake). */
  verify: (peerId: string, signal: AbortSignal) => Promise<void>
  /** A worker is gone: closed connection, missed beats or goodbye. */
  onPeerLost: (peerId: string) => void
  now?: () => number
}

/**
 * Room membership over gossipsub: sealed heartbeats on a topic derived from
 * the room key feed the registry; peers introduced this way connect directly
 * over WebRTC (the lower peer id dials) and prove the key on a task stream.
 */
export class Room {
  private seq = 0
  private timer?: ReturnType<typeof setInterval>
  private readonly dialing = new Map<string, Promise<void>>()
  /** Dial timeout for a peer whose last attempts failed (absent: `DIAL_TIMEOUT_MS`). */
  private readonly dialTimeouts = new Map<string, number>()
  private readonly self: string
  private readonly now: () => number
  private stopped = true

  constructor (private readonly init: RoomInit) {
    this.self = init.node.peerId.toString()
    this.now = init.now ?? (() => Date.now())
  }

  private readonly onMessage = (evt: CustomEvent<Message>): void => {
    const msg = evt.detail
    if (msg.topic !== this.init.keys.topic) return
    void this.receive(msg).catch(err => {
      // someone on the topic without the key, or garbage: drop it, keep going
      log('dropped room message: %s', (err as Error).message)
    })
  }

  private readonly onConnectionClose = (evt: CustomEvent<Connection>): void => {
    const conn = evt.detail
    if (!isDirect(conn)) return
    const id = conn.remotePeer.toString()
    const stillDirect = this.init.node.getConnections(conn.remotePeer).some(c => c.status === 'open' && isDirect(c))
    if (!stillDirect && this.init.registry.has(id)) {
      this.init.registry.remove(id, 'disconnected')
      this.init.onPeerLost(id)
    }
  }

  async start (): Promise<void> {
    this.stopped = false
    const pubsub = this.init.node.services.pubsub
    pubsub.addEventListener('message', this.onMessage)
    this.init.node.addEventListener('connection:close', this.onConnectionClose)
    pubsub.subscribe(this.init.keys.topic)
    const every = this.init.registry.beatIntervalMs
    this.timer = setInterval(() => { void this.tick() }, every)
    void this.tick()
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    clearInterval(this.timer)
    const pubsub = this.init.node.services.pubsub
    await this.publish({ v: 1, t: 'bye', id: this.self }).catch(() => {})
    pubsub.removeEventListener('message', this.onMessage)
    this.init.node.removeEventListener('connection:close', this.onConnectionClose)
    pubsub.unsubscribe(this.init.keys.topic)
  }

  /** How others reach us: relayed WebRTC addresses, and WebSockets we listen on. */
  addresses (): string[] {
    return this.init.node.getMultiaddrs().map(a => a.toString()).filter(a => isWebRtcAddr(a) || isListenAddr(a))
  }

  private async tick (): Promise<void> {
    if (this.stopped) return
    for (const id of this.init.registry.expire(this.now())) {
      this.dialTimeouts.delete(id)
      this.init.onPeerLost(id)
    }
    const addrs = this.addresses()
    const beat: Beat = { v: 1, t: 'beat', id: this.self, seq: this.seq++, addrs, ...this.init.beat() }
    await this.publish(beat).catch(err => { log('heartbeat not sent: %s', (err as Error).message) })
  }

  private async publish (msg: Parameters<typeof encodeRoomMessage>[0]): Promise<void> {
    const sealed = await sealRoomMessage(this.init.keys, encodeRoomMessage(msg))
    await this.init.node.services.pubsub.publish(this.init.keys.topic, sealed)
  }

  private async receive (msg: Message): Promise<void> {
    const plain = await openRoomMessage(this.init.keys, msg.data)
    const roomMsg = decodeRoomMessage(plain)
    const from = msg.type === 'signed' ? msg.from.toString() : undefined
    // the claimed id must be the gossipsub signer: nobody speaks for another peer
    if (roomMsg.id !== from || roomMsg.id === this.self) return
    if (roomMsg.t === 'bye') {
      this.dialTimeouts.delete(roomMsg.id)
      if (this.init.registry.has(roomMsg.id)) {
        this.init.registry.remove(roomMsg.id, 'bye')
        this.init.onPeerLost(roomMsg.id)
      }
      return
    }
    this.init.registry.applyBeat(roomMsg, this.now())
    this.maybeConnect(roomMsg)
  }

  /** True when we hold an open direct connection to the peer. */
  isDirectlyConnected (peerId: string): boolean {
    return this.init.node.getConnections(peerIdFromString(peerId)).some(c => c.status === 'open' && isDirect(c))
  }

  private maybeConnect (beat: Beat): void {
    const id = beat.id
    const entry = this.init.registry.get(id)
    if (entry?.verified === true && this.isDirectlyConnected(id)) return
    if (this.dialing.has(id)) return
    // a peer that listens (a Node peer on WebSockets) is dialled by one that
    // cannot; otherwise the lower id dials, so two peers do not race to
    // create two connections, and the higher one verifies once it exists
    const theyListen = beat.addrs.some(isListenAddr)
    const weListen = this.addresses().some(isListenAddr)
    const weDial = theyListen !== weListen ? theyListen : this.self < id
    if (!weDial && !this.isDirectlyConnected(id)) return
    const attempt = this.connect(beat).finally(() => this.dialing.delete(id))
    this.dialing.set(id, attempt)
  }

  private async connect (beat: Beat): Promise<void> {
    const id = beat.id
    const timeoutMs = this.dialTimeouts.get(id) ?? DIAL_TIMEOUT_MS
    const signal = AbortSignal.timeout(timeoutMs)
    try {
      if (!this.isDirectlyConnected(id)) {
        const listening = beat.addrs.filter(isListenAddr)
        const addrs = (listening.length > 0 ? listening : beat.addrs.filter(isWebRtcAddr)).map(a => multiaddr(a))
        if (addrs.length === 0) return
        await this.init.node.dial(addrs, { signal })
        log('dialled %s directly', id)
      }
      await this.init.verify(id, AbortSignal.timeout(timeoutMs))
      this.init.registry.markVerified(id)
      this.dialTimeouts.delete(id)
    } catch (err) {
      log('connect to %s failed: %s', id, (err as Error).message)
      this.dialTimeouts.set(id, Math.min(MAX_DIAL_TIMEOUT_MS, timeoutMs * 2))
      if (err instanceof FedraError && err.code === 'ERR_NOT_ROOM_MEMBER') {
        await this.init.node.hangUp(peerIdFromString(id)).catch(() => {})
      }
    }
  }
}
