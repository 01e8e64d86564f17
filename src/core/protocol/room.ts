import { readCapabilities } from '../requirements/capabilities.js'
import { InvalidMessageError } from '../errors.js'
import { decodeMessage, encodeMessage } from './codec.js'
import { asObject, readBool, readEnum, readInt, readString, readStringArray, readVersion } from './validate.js'
import { MAX_SHARED_FILTERS } from '../registry/shared-filters.js'
import type { Capabilities } from '../requirements/capabilities.js'
import type { SharedFilter } from '../registry/shared-filters.js'

export const ROOM_PROTOCOL_VERSION = 1
/** Room messages are small: a heartbeat with addresses and a cache summary. */
export const MAX_ROOM_MESSAGE_BYTES = 64 * 1024
export const MAX_CACHE_ENTRIES = 256

export interface PeerLoad {
  queued: number
  running: number
}

/** A peer's heartbeat: who it is, how to reach it, what it offers. */
export interface Beat {
  v: 1
  t: 'beat'
  id: string
  seq: number
  addrs: string[]
  caps: Capabilities
  consent: boolean
  load: PeerLoad
  /** Content ids of functions and models this peer holds compiled or cached. */
  cache: string[]
  name: string
  /** Filters this peer shares with the room (added by its person, by CID). */
  filters?: SharedFilter[]
}

export interface Bye { v: 1, t: 'bye', id: string }

export type RoomMessage = Beat | Bye

export function readRoomMessage (value: unknown): RoomMessage {
  const o = asObject(value, 'room message')
  readVersion(o, ROOM_PROTOCOL_VERSION, 'room message')
  const t = readEnum(o, 't', 'room message', ['beat', 'bye'] as const)
  if (t === 'bye') return { v: 1, t, id: readString(o, 'id', 'bye', 128) }
  const load = asObject(o.load, 'beat.load')
  return {
    v: 1,
    t,
    id: readString(o, 'id', 'beat', 128),
    seq: readInt(o, 'seq', 'beat', 0, Number.MAX_SAFE_INTEGER),
    addrs: readStringArray(o, 'addrs', 'beat', 32, 512),
    caps: readCapabilities(o.caps, 'beat.caps'),
    consent: readBool(o, 'consent', 'beat'),
    load: {
      queued: readInt(load, 'queued', 'beat.load', 0, 1_000_000),
      running: readInt(load, 'running', 'beat.load', 0, 1_000_000)
    },
    cache: readStringArray(o, 'cache', 'beat', MAX_CACHE_ENTRIES, 128),
    name: readString(o, 'name', 'beat', 64),
    ...(o.filters != null ? { filters: readSharedFilters(o.filters) } : {})
  }
}

function readSharedFilters (value: unknown): SharedFilter[] {
  if (!Array.isArray(value) || value.length > MAX_SHARED_FILTERS) throw new InvalidMessageError(`beat.filters must be a list of at most ${MAX_SHARED_FILTERS} filters`)
  return value.map((v, i) => {
    const f = asObject(v, `beat.filters[${i}]`)
    return { cid: readString(f, 'cid', `beat.filters[${i}]`, 128), title: readString(f, 'title', `beat.filters[${i}]`, 40), entry: readString(f, 'entry', `beat.filters[${i}]`, 64) }
  })
}

export function encodeRoomMessage (msg: RoomMessage): Uint8Array {
  return encodeMessage(msg)
}

export function decodeRoomMessage (bytes: Uint8Array): RoomMessage {
  return readRoomMessage(decodeMessage(bytes, { maxBytes: MAX_ROOM_MESSAGE_BYTES }))
}
