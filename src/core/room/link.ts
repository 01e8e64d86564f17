import { InvalidRoomLinkError } from '../errors.js'

/**
 * A room link is `<app url>#/r/<roomId>.<key>`. Both parts live in the URL
 * fragment, which browsers never send to a server: the relay that serves the
 * app cannot learn a room's key.
 */
export interface RoomSecret {
  roomId: string
  key: Uint8Array
}

const ROOM_ID_BYTES = 8
const KEY_BYTES = 32
const B64URL = /^[A-Za-z0-9_-]+$/

export function toBase64Url (bytes: Uint8Array): string {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function fromBase64Url (text: string): Uint8Array {
  if (!B64URL.test(text) || text.length % 4 === 1) throw new InvalidRoomLinkError('room link holds characters outside base64url, or was cut short')
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - text.length % 4) % 4))
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  // only the canonical spelling: two strings naming one room would give two topics
  if (toBase64Url(out) !== text) throw new InvalidRoomLinkError('room link is not canonical base64url')
  return out
}

export function newRoomSecret (random: (n: number) => Uint8Array = n => crypto.getRandomValues(new Uint8Array(n))): RoomSecret {
  return { roomId: toBase64Url(random(ROOM_ID_BYTES)), key: random(KEY_BYTES) }
}

export function formatRoomFragment (secret: RoomSecret): string {
  return `#/r/${secret.roomId}.${toBase64Url(secret.key)}`
}

export function formatRoomLink (appUrl: string, secret: RoomSecret): string {
  const base = appUrl.split('#')[0]
  return `${base}${formatRoomFragment(secret)}`
}

/** Accepts a whole link, a fragment (`#/r/…`) or the bare `<roomId>.<key>`. */
export function parseRoomLink (text: string): RoomSecret {
  const trimmed = text.trim()
  const hash = trimmed.includes('#') ? trimmed.slice(trimmed.indexOf('#') + 1) : trimmed
  const body = hash.startsWith('/r/') ? hash.slice(3) : hash
  const parts = body.split('.')
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new InvalidRoomLinkError('a room link ends in #/r/<room>.<key>; this one does not')
  }
  const idBytes = fromBase64Url(parts[0])
  if (idBytes.byteLength !== ROOM_ID_BYTES) throw new InvalidRoomLinkError('the room id in this link has the wrong length')
  const key = fromBase64Url(parts[1])
  if (key.byteLength !== KEY_BYTES) throw new InvalidRoomLinkError('the room key in this link has the wrong length: was the link cut short?')
  return { roomId: parts[0], key }
}
