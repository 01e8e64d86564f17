import { isPeerId } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { NotRoomMemberError } from '../core/errors.js'
import type { Connection, Libp2p, PeerId, Stream, StreamHandler, Topology } from '@libp2p/interface'

const log = logger('fedra:storage:gate')

/** The part of a libp2p node bitswap uses (@helia/bitswap 4.0.19, `Network`). */
export type GatedLibp2p = Pick<Libp2p, 'handle' | 'unhandle' | 'register' | 'unregister' | 'getConnections' | 'dialProtocol'>

export interface MemberGate<T> {
  /** The node as bitswap must see it: only room members exist. */
  node: T
  /** `peerId` proved the room key: its held streams go through, and bitswap may now learn of it (and send it our want-list). */
  admit: (peerId: string) => void
  /** Refuses every held stream (on stop). */
  close: () => void
  /** Inbound streams refused so far (strangers that spoke the protocol). */
  readonly refused: number
}

export interface MemberGateInit {
  /**
   * How long an inbound stream from a peer that has not proved the room key
   * is held before it is refused. The room-key handshake completes on its
   * two ends a moment apart; a member that sent its want-list in that moment
   * would otherwise be refused and never resend it (bitswap does not
   * rebroadcast), and its fetch would hang.
   */
  admitWaitMs?: number
  /** Streams held per unproved peer; more are refused at once. */
  maxHeldPerPeer?: number
}

const DEFAULT_ADMIT_WAIT_MS = 5000
const DEFAULT_MAX_HELD_PER_PEER = 4

/**
 * A view of a libp2p node in which peers that have not proved the room key
 * do not exist, for a protocol we do not own (bitswap): their inbound
 * streams are held a moment and then aborted before the protocol reads a
 * byte, no stream is opened to them, and the protocol hears of their
 * connection only once they are admitted.
 *
 * @helia/bitswap 4.0.19 reads every peer's messages on one inbound handler
 * (`Network._onStream`) and answers any peer's want-list with the blocks it
 * holds (`PeerWantLists` → `Ledger`); it sends its own want-list to every
 * peer its topology reports or `getConnections` lists at start
 * (`WantList.peerConnected`), and to those peers again on each change, by
 * `dialProtocol`. Gating these four calls keeps a room's blocks and the CIDs
 * it wants inside the room (docs/decisions.md, "Data plane"). Its `dial`
 * (providers found by routing or given to a session) is left alone: we run
 * no routing and give none. No I/O of its own; one timer per held stream.
 */
export function memberGate<T extends GatedLibp2p> (node: T, isMember: (peerId: string) => boolean, init: MemberGateInit = {}): MemberGate<T> {
  const admitWaitMs = init.admitWaitMs ?? DEFAULT_ADMIT_WAIT_MS
  const maxHeld = init.maxHeldPerPeer ?? DEFAULT_MAX_HELD_PER_PEER
  /** Inbound streams of peers not admitted yet, each released on admission or refused after `admitWaitMs`. */
  const held = new Map<string, Set<{ release: () => void, refuse: () => void }>>()
  /** Per peer not yet admitted: the topologies to tell once it is (each once). */
  const pending = new Map<string, Map<Topology, () => void>>()
  /** The original topologies, as bitswap registered them. */
  const topologies: Topology[] = []
  let refused = 0
  const hold = (topology: Topology, peer: PeerId, connection: Connection): void => {
    const id = peer.toString()
    const held = pending.get(id) ?? new Map<Topology, () => void>()
    held.set(topology, () => { void topology.onConnect?.(peer, connection) })
    pending.set(id, held)
  }
  const refuse = (stream: Stream, remote: string): void => {
    refused++
    log('refusing %s stream from %s: not a proven room member', stream.protocol, remote)
    stream.abort(new NotRoomMemberError('prove the room key first (task stream handshake)'))
  }
  const gateHandler = (handler: StreamHandler): StreamHandler => (stream: Stream, connection: Connection) => {
    const remote = connection.remotePeer.toString()
    if (isMember(remote)) return handler(stream, connection)
    const streams = held.get(remote) ?? new Set()
    if (streams.size >= maxHeld) { refuse(stream, remote); return }
    // nothing is read until the handler runs: bytes wait in the stream's buffer
    const entry = {
      release: () => { clearTimeout(timer); void Promise.resolve(handler(stream, connection)).catch(err => { stream.abort(err as Error) }) },
      refuse: () => { clearTimeout(timer); refuse(stream, remote) }
    }
    const timer = setTimeout(() => {
      streams.delete(entry)
      if (streams.size === 0) held.delete(remote)
      entry.refuse()
    }, admitWaitMs)
    streams.add(entry)
    held.set(remote, streams)
  }
  const gateTopology = (topology: Topology): Topology => ({
    ...topology,
    onConnect: (peer, connection) => {
      if (isMember(peer.toString())) { void topology.onConnect?.(peer, connection); return }
      hold(topology, peer, connection)
    },
    onDisconnect: (peer) => {
      pending.delete(peer.toString())
      void topology.onDisconnect?.(peer)
    }
  })
  const view = new Proxy(node, {
    get (target, prop) {
      switch (prop) {
        case 'handle': return async (protocols: string | string[], handler: StreamHandler, options?: unknown) =>
          target.handle(protocols, gateHandler(handler), options as never)
        case 'register': return async (protocol: string, topology: Topology) => {
          topologies.push(topology)
          return target.register(protocol, gateTopology(topology))
        }
        case 'getConnections': return (peer?: PeerId) => target.getConnections(peer).filter(conn => {
          if (isMember(conn.remotePeer.toString())) return true
          // connected before this view started: announced once admitted
          if (peer == null) for (const t of topologies) hold(t, conn.remotePeer, conn)
          return false
        })
        case 'dialProtocol': return async (peer: unknown, protocols: string | string[], options?: unknown) => {
          if (!isPeerId(peer) || !isMember(peer.toString())) {
            throw new NotRoomMemberError(`${String(peer)} has not proved the room key: nothing is sent to it`)
          }
          return target.dialProtocol(peer, protocols, options as never)
        }
      }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  return {
    node: view,
    admit: (peerId: string) => {
      const streams = held.get(peerId)
      held.delete(peerId)
      for (const s of streams ?? []) s.release()
      const notices = pending.get(peerId)
      pending.delete(peerId)
      for (const notify of notices?.values() ?? []) notify()
    },
    close: () => {
      for (const streams of held.values()) for (const s of streams) s.refuse()
      held.clear()
      pending.clear()
    },
    get refused () { return refused }
  }
}
