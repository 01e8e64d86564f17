import { InvalidMessageError } from '../errors.js'
import type { RoomSecret } from './link.js'

/**
 * Everything a peer derives from the room secret. WebCrypto (`crypto.subtle`)
 * is a standard global in browsers and in Node, so this stays environment-free.
 */
export interface RoomKeys {
  roomId: string
  /** Gossipsub topic: a hash of the key, so the topic name reveals nothing. */
  topic: string
  seal: CryptoKey
  auth: CryptoKey
}

const enc = new TextEncoder()
const MESSAGE_AAD = enc.encode('fedra-room-msg-v1')
const IV_BYTES = 12

function buf (bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

export async function deriveRoomKeys (secret: RoomSecret): Promise<RoomKeys> {
  const ikm = await crypto.subtle.importKey('raw', buf(secret.key), 'HKDF', false, ['deriveBits', 'deriveKey'])
  const salt = enc.encode(`fedra-room-v1:${secret.roomId}`)
  const hkdf = (info: string): HkdfParams => ({ name: 'HKDF', hash: 'SHA-256', salt: buf(salt), info: buf(enc.encode(info)) })
  const topicBits = new Uint8Array(await crypto.subtle.deriveBits(hkdf('topic'), ikm, 128))
  const seal = await crypto.subtle.deriveKey(hkdf('seal'), ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  const auth = await crypto.subtle.deriveKey(hkdf('auth'), ikm, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign', 'verify'])
  return { roomId: secret.roomId, topic: `fedra/room/${toHex(topicBits)}`, seal, auth }
}

export function toHex (bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

/** iv ‖ AES-GCM(ciphertext ‖ tag). Authenticated: tampering fails to open. */
export async function sealRoomMessage (keys: RoomKeys, plain: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: buf(MESSAGE_AAD) }, keys.seal, buf(plain)))
  const out = new Uint8Array(IV_BYTES + ct.byteLength)
  out.set(iv)
  out.set(ct, IV_BYTES)
  return out
}

export async function openRoomMessage (keys: RoomKeys, sealed: Uint8Array): Promise<Uint8Array> {
  if (sealed.byteLength < IV_BYTES + 16) throw new InvalidMessageError('room message is too short to be sealed')
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: buf(sealed.subarray(0, IV_BYTES)), additionalData: buf(MESSAGE_AAD) },
      keys.seal,
      buf(sealed.subarray(IV_BYTES))
    )
    return new Uint8Array(plain)
  } catch {
    throw new InvalidMessageError('room message failed authentication: sent without the room key, or altered')
  }
}

/**
 * The proof that `prover` holds the room key, answering `verifier`'s nonce.
 * Binding both peer ids stops a peer from replaying someone else's proof.
 */
function proofInput (nonce: Uint8Array, prover: string, verifier: string): Uint8Array {
  const parts = [enc.encode('fedra-auth-v1'), nonce, enc.encode(prover), enc.encode(verifier)]
  const total = parts.reduce((n, p) => n + 4 + p.byteLength, 0)
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  let off = 0
  for (const p of parts) {
    view.setUint32(off, p.byteLength)
    out.set(p, off + 4)
    off += 4 + p.byteLength
  }
  return out
}

export async function proveMembership (keys: RoomKeys, nonce: Uint8Array, prover: string, verifier: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', keys.auth, buf(proofInput(nonce, prover, verifier))))
}

export async function verifyMembership (keys: RoomKeys, proof: Uint8Array, nonce: Uint8Array, prover: string, verifier: string): Promise<boolean> {
  return crypto.subtle.verify('HMAC', keys.auth, buf(proof), buf(proofInput(nonce, prover, verifier)))
}

export function newNonce (): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32))
}
