import { describe, expect, it } from 'vitest'
import { deriveRoomKeys, newNonce, openRoomMessage, proveMembership, sealRoomMessage, toHex, verifyMembership } from './keys.js'
import type { RoomSecret } from './link.js'

async function rejection (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

const invalid = { name: 'InvalidMessageError', code: 'ERR_INVALID_MESSAGE' }
const key = (seed: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (i * 13 + seed) & 0xff)
const secretA: RoomSecret = { roomId: 'AAAAAAAAAAA', key: key(1) }
const secretB: RoomSecret = { roomId: 'AAAAAAAAAAA', key: key(2) }
const secretA2: RoomSecret = { roomId: 'BBBBBBBBBBB', key: key(1) }

describe('room keys', () => {
  it('toHex', () => {
    expect(toHex(new Uint8Array([0, 15, 16, 255]))).toBe('000f10ff')
  })

  it('the same secret gives the same topic; another key or room id another topic', async () => {
    const a = await deriveRoomKeys(secretA)
    const again = await deriveRoomKeys({ roomId: secretA.roomId, key: new Uint8Array(secretA.key) })
    const b = await deriveRoomKeys(secretB)
    const a2 = await deriveRoomKeys(secretA2)
    expect(a.topic).toMatch(/^fedra\/room\/[0-9a-f]{32}$/)
    expect(again.topic).toBe(a.topic)
    expect(b.topic).not.toBe(a.topic)
    expect(a2.topic).not.toBe(a.topic)
    expect(a.roomId).toBe(secretA.roomId)
    // the topic does not reveal the key or the room id
    expect(a.topic).not.toContain(toHex(secretA.key).slice(0, 8))
  })

  it('accepts a key that is a view into a larger buffer', async () => {
    const big = new Uint8Array(64)
    big.set(secretA.key, 16)
    const view = await deriveRoomKeys({ roomId: secretA.roomId, key: big.subarray(16, 48) })
    expect(view.topic).toBe((await deriveRoomKeys(secretA)).topic)
  })

  it('seal/open round trip, with a fresh IV per message', async () => {
    const keys = await deriveRoomKeys(secretA)
    const plain = new TextEncoder().encode('heartbeat')
    const s1 = await sealRoomMessage(keys, plain)
    const s2 = await sealRoomMessage(keys, plain)
    expect(s1.byteLength).toBe(12 + plain.byteLength + 16)
    expect(s1).not.toEqual(s2)
    expect(await openRoomMessage(keys, s1)).toEqual(plain)
    expect(await openRoomMessage(keys, s2)).toEqual(plain)
    expect(await openRoomMessage(keys, await sealRoomMessage(keys, new Uint8Array(0)))).toEqual(new Uint8Array(0))
    // a sealed message inside a larger buffer
    const big = new Uint8Array(s1.byteLength + 10)
    big.set(s1, 5)
    expect(await openRoomMessage(keys, big.subarray(5, 5 + s1.byteLength))).toEqual(plain)
  })

  it('tampered, truncated or foreign messages fail with InvalidMessageError', async () => {
    const keys = await deriveRoomKeys(secretA)
    const plain = new TextEncoder().encode('heartbeat')
    const sealed = await sealRoomMessage(keys, plain)
    for (const i of [0, 11, 12, sealed.byteLength - 1]) {
      const t = new Uint8Array(sealed)
      t[i] ^= 0x01
      expect(await rejection(openRoomMessage(keys, t)), `byte ${i}`).toMatchObject(invalid)
    }
    expect(await rejection(openRoomMessage(keys, sealed.subarray(0, sealed.byteLength - 1)))).toMatchObject(invalid)
    expect(await rejection(openRoomMessage(keys, sealed.subarray(0, 27)))).toMatchObject(invalid)
    expect(await rejection(openRoomMessage(keys, new Uint8Array(0)))).toMatchObject(invalid)
    expect(await rejection(openRoomMessage(keys, new Uint8Array(28)))).toMatchObject(invalid)
    expect(await rejection(openRoomMessage(await deriveRoomKeys(secretB), sealed))).toMatchObject(invalid)
    expect(await rejection(openRoomMessage(await deriveRoomKeys(secretA2), sealed))).toMatchObject(invalid)
  })

  it('a membership proof verifies only for the same nonce, prover, verifier and key', async () => {
    const keys = await deriveRoomKeys(secretA)
    const nonce = newNonce()
    expect(nonce).toHaveLength(32)
    const proof = await proveMembership(keys, nonce, 'alice', 'bob')
    expect(proof).toHaveLength(32)
    expect(await verifyMembership(keys, proof, nonce, 'alice', 'bob')).toBe(true)
    expect(await verifyMembership(await deriveRoomKeys({ ...secretA }), proof, nonce, 'alice', 'bob')).toBe(true)

    expect(await verifyMembership(keys, proof, nonce, 'bob', 'alice')).toBe(false)
    expect(await verifyMembership(keys, proof, nonce, 'alice', 'carol')).toBe(false)
    expect(await verifyMembership(keys, proof, nonce, 'carol', 'bob')).toBe(false)
    const other = new Uint8Array(nonce)
    other[0] ^= 1
    expect(await verifyMembership(keys, proof, other, 'alice', 'bob')).toBe(false)
    expect(await verifyMembership(await deriveRoomKeys(secretB), proof, nonce, 'alice', 'bob')).toBe(false)
    expect(await verifyMembership(await deriveRoomKeys(secretA2), proof, nonce, 'alice', 'bob')).toBe(false)
    const bad = new Uint8Array(proof)
    bad[31] ^= 0x80
    expect(await verifyMembership(keys, bad, nonce, 'alice', 'bob')).toBe(false)
    expect(await verifyMembership(keys, proof.subarray(0, 16), nonce, 'alice', 'bob')).toBe(false)
    expect(await verifyMembership(keys, new Uint8Array(0), nonce, 'alice', 'bob')).toBe(false)
  })

  it('fields are length-prefixed: moving bytes between prover and verifier changes the proof', async () => {
    const keys = await deriveRoomKeys(secretA)
    const nonce = new Uint8Array(32)
    const proof = await proveMembership(keys, nonce, 'ab', 'c')
    expect(await verifyMembership(keys, proof, nonce, 'a', 'bc')).toBe(false)
  })

  it('matches the documented construction (HKDF-SHA256, HMAC-SHA256 over length-prefixed fields)', async () => {
    const enc = new TextEncoder()
    const ikm = await crypto.subtle.importKey('raw', secretA.key as BufferSource, 'HKDF', false, ['deriveBits'])
    const bits = async (info: string, n: number): Promise<Uint8Array> => new Uint8Array(await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: enc.encode(`fedra-room-v1:${secretA.roomId}`), info: enc.encode(info) }, ikm, n))
    const keys = await deriveRoomKeys(secretA)
    expect(keys.topic).toBe(`fedra/room/${toHex(await bits('topic', 128))}`)

    const authRaw = await bits('auth', 256)
    const hmac = await crypto.subtle.importKey('raw', authRaw as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    const nonce = Uint8Array.from({ length: 16 }, (_, i) => i)
    const parts = [enc.encode('fedra-auth-v1'), nonce, enc.encode('P'), enc.encode('V')]
    const input: number[] = []
    for (const p of parts) input.push(0, 0, 0, p.byteLength, ...p)
    const expected = new Uint8Array(await crypto.subtle.sign('HMAC', hmac, new Uint8Array(input)))
    expect(await proveMembership(keys, nonce, 'P', 'V')).toEqual(expected)

    const sealRaw = await bits('seal', 256)
    const aes = await crypto.subtle.importKey('raw', sealRaw as BufferSource, 'AES-GCM', false, ['decrypt'])
    const sealed = await sealRoomMessage(keys, enc.encode('hi'))
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.slice(0, 12) as BufferSource, additionalData: enc.encode('fedra-room-msg-v1') }, aes, sealed.slice(12) as BufferSource)
    expect(new TextDecoder().decode(plain)).toBe('hi')
  })
})
