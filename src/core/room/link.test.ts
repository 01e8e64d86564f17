import { describe, expect, it } from 'vitest'
import { formatRoomFragment, formatRoomLink, fromBase64Url, newRoomSecret, parseRoomLink, toBase64Url } from './link.js'
import type { RoomSecret } from './link.js'
import { thrown } from '../test-support.js'

const badLink = { name: 'InvalidRoomLinkError', code: 'ERR_INVALID_ROOM_LINK' }

/** Deterministic "random" bytes: 0, 1, 2, … continuing across calls. */
function counter (): (n: number) => Uint8Array {
  let next = 0
  return n => Uint8Array.from({ length: n }, () => (next++ * 37 + 251) & 0xff)
}

const secret: RoomSecret = newRoomSecret(counter())

describe('base64url', () => {
  it('round-trips every length 0..40 and all byte values', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    expect(fromBase64Url(toBase64Url(all))).toEqual(all)
    for (let n = 1; n <= 40; n++) {
      const b = all.subarray(256 - n)
      const text = toBase64Url(b)
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/)
      expect(fromBase64Url(text)).toEqual(b)
    }
  })

  it('uses - and _ and no padding', () => {
    expect(toBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8')
  })

  it('refuses characters outside the alphabet', () => {
    for (const text of ['ab+c', 'ab/c', 'abc=', 'ab c', '', 'é']) {
      expect(thrown(() => fromBase64Url(text)), text).toMatchObject(badLink)
    }
  })
})

describe('room links', () => {
  it('a new secret has an 8-byte room id and a 32-byte key', () => {
    const s = newRoomSecret(counter())
    expect(fromBase64Url(s.roomId)).toHaveLength(8)
    expect(s.roomId).toHaveLength(11)
    expect(s.key).toHaveLength(32)
    // the default source is the platform's CSPRNG
    const a = newRoomSecret()
    const b = newRoomSecret()
    expect(a.key).not.toEqual(b.key)
  })

  it('formats the secret into the fragment only', () => {
    const frag = formatRoomFragment(secret)
    expect(frag).toBe(`#/r/${secret.roomId}.${toBase64Url(secret.key)}`)
    expect(formatRoomLink('https://fedra.example/app/?x=1', secret)).toBe(`https://fedra.example/app/?x=1${frag}`)
    // an old fragment on the app URL is replaced
    expect(formatRoomLink('https://fedra.example/#/r/old.link', secret)).toBe(`https://fedra.example/${frag}`)
  })

  it('parses a whole URL, a fragment and the bare form to the same secret', () => {
    const frag = formatRoomFragment(secret)
    for (const text of [
      formatRoomLink('https://fedra.example/app/', secret),
      formatRoomLink('http://localhost:5173/?debug', secret),
      frag,
      frag.slice(1),
      frag.slice(4),
      `  ${formatRoomLink('https://x.y/', secret)}\n`
    ]) {
      expect(parseRoomLink(text), text).toEqual(secret)
    }
  })

  it('refuses links without the <room>.<key> shape', () => {
    const key = toBase64Url(secret.key)
    for (const text of ['', 'https://fedra.example/', '#/r/', `#/r/${secret.roomId}`, `#/r/${secret.roomId}.`, `#/r/.${key}`, `#/r/${secret.roomId}.${key}.x`, `${secret.roomId}${key}`]) {
      expect(thrown(() => parseRoomLink(text)), text).toMatchObject(badLink)
    }
  })

  it('refuses bad base64url in either part', () => {
    const key = toBase64Url(secret.key)
    expect(thrown(() => parseRoomLink(`#/r/${secret.roomId.slice(0, 10)}+.${key}`))).toMatchObject(badLink)
    expect(thrown(() => parseRoomLink(`#/r/${secret.roomId}.${key.slice(0, 42)}/`))).toMatchObject(badLink)
    expect(thrown(() => parseRoomLink(`#/r/${secret.roomId}.${key}=`))).toMatchObject(badLink)
  })

  it('refuses wrong lengths of room id and key', () => {
    const key = toBase64Url(secret.key)
    const id = secret.roomId
    const cases = [
      `#/r/${toBase64Url(new Uint8Array(7))}.${key}`,
      `#/r/${toBase64Url(new Uint8Array(9))}.${key}`,
      `#/r/${id}.${toBase64Url(new Uint8Array(31))}`,
      `#/r/${id}.${toBase64Url(new Uint8Array(33))}`,
      `#/r/${id}.${key.slice(0, 40)}`, // cut short, 40 chars = 30 bytes
      `#/r/${id}.${key.slice(0, 42)}` // cut short, 42 chars = 31 bytes
    ]
    for (const text of cases) expect(thrown(() => parseRoomLink(text)), text).toMatchObject(badLink)
  })
})
