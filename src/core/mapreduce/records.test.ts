import { describe, expect, it } from 'vitest'
import { compareBytes, decodeRecords, encodeRecords, fnv1a, isWordByte, mergeReduceOutputs, partitionRecords, splitText } from './records.js'
import type { KeyValue } from './records.js'
import { prng, thrown } from '../test-support.js'

const invalid = { name: 'InvalidMessageError', code: 'ERR_INVALID_MESSAGE' }
const enc = new TextEncoder()
const dec = new TextDecoder()
const kv = (k: string, v: string): KeyValue => ({ key: enc.encode(k), value: enc.encode(v) })
const text = (records: KeyValue[]): string[] => records.map(r => `${dec.decode(r.key)}=${dec.decode(r.value)}`)

describe('record encoding', () => {
  it('lays out u32le lengths around key and value', () => {
    expect(encodeRecords([kv('ab', 'c')])).toEqual(new Uint8Array([2, 0, 0, 0, 0x61, 0x62, 1, 0, 0, 0, 0x63]))
    expect(encodeRecords([])).toEqual(new Uint8Array(0))
  })

  it('round-trips, including empty keys and values and a view into a larger buffer', () => {
    const records = [kv('hello', '1'), kv('', ''), kv('ünïcode', 'x'.repeat(300)), { key: new Uint8Array([0, 255]), value: new Uint8Array(0) }]
    const bytes = encodeRecords(records)
    expect(decodeRecords(bytes)).toEqual(records)
    const big = new Uint8Array(bytes.byteLength + 7)
    big.set(bytes, 3)
    expect(decodeRecords(big.subarray(3, 3 + bytes.byteLength))).toEqual(records)
    expect(decodeRecords(new Uint8Array(0))).toEqual([])
  })

  it('rejects truncated streams and overlong lengths with InvalidMessageError', () => {
    const bytes = encodeRecords([kv('key', 'value')])
    for (let n = 1; n < bytes.byteLength; n++) {
      expect(thrown(() => decodeRecords(bytes.subarray(0, n))), `cut at ${n}`).toMatchObject(invalid)
    }
    expect(thrown(() => decodeRecords(new Uint8Array([0xff, 0xff, 0xff, 0xff])))).toMatchObject(invalid)
    expect(thrown(() => decodeRecords(new Uint8Array([4, 0, 0, 0, 1, 2, 3])))).toMatchObject(invalid)
    // a key with no value after it
    expect(thrown(() => decodeRecords(new Uint8Array([1, 0, 0, 0, 0x61])))).toMatchObject(invalid)
    // a value length one past the end
    expect(thrown(() => decodeRecords(new Uint8Array([1, 0, 0, 0, 0x61, 2, 0, 0, 0, 0x62])))).toMatchObject(invalid)
  })
})

describe('shuffle and merge', () => {
  it('compareBytes orders bytewise, shorter prefix first', () => {
    expect(compareBytes(enc.encode('a'), enc.encode('b'))).toBeLessThan(0)
    expect(compareBytes(enc.encode('ab'), enc.encode('a'))).toBeGreaterThan(0)
    expect(compareBytes(enc.encode('ab'), enc.encode('ab'))).toBe(0)
    expect(compareBytes(new Uint8Array([0x7f]), new Uint8Array([0x80]))).toBeLessThan(0)
  })

  it('fnv1a matches the reference values', () => {
    expect(fnv1a(new Uint8Array(0))).toBe(0x811c9dc5)
    expect(fnv1a(enc.encode('a'))).toBe(0xe40c292c)
    expect(fnv1a(enc.encode('foobar'))).toBe(0xbf9cf968)
  })

  it('partitionRecords is deterministic, sorted within a partition, and keeps every record', () => {
    const rand = prng(99)
    const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'a', 'z', '']
    const outputs = Array.from({ length: 5 }, () => encodeRecords(Array.from({ length: 30 }, () => kv(words[Math.floor(rand() * words.length)], '1'))))
    const parts = partitionRecords(outputs, 4)
    expect(parts).toHaveLength(4)
    expect(partitionRecords(outputs, 4)).toEqual(parts)
    // the order of map outputs does not change the partitions
    expect(partitionRecords([...outputs].reverse(), 4)).toEqual(parts)
    let total = 0
    for (const [i, p] of parts.entries()) {
      const recs = decodeRecords(p)
      total += recs.length
      for (let j = 1; j < recs.length; j++) expect(compareBytes(recs[j - 1].key, recs[j].key)).toBeLessThanOrEqual(0)
      for (const r of recs) expect(fnv1a(r.key) % 4).toBe(i)
    }
    expect(total).toBe(150)
    expect(partitionRecords([], 3)).toEqual([new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)])
    expect(decodeRecords(partitionRecords(outputs, 1)[0])).toHaveLength(150)
  })

  it('partitionRecords refuses a malformed map output', () => {
    expect(thrown(() => partitionRecords([new Uint8Array([9, 0, 0, 0])], 2))).toMatchObject(invalid)
  })

  it('mergeReduceOutputs returns every record sorted by key, independent of output order', () => {
    const a = encodeRecords([kv('b', '2'), kv('d', '4')])
    const b = encodeRecords([kv('c', '3'), kv('a', '1')])
    expect(text(mergeReduceOutputs([a, b]))).toEqual(['a=1', 'b=2', 'c=3', 'd=4'])
    expect(text(mergeReduceOutputs([b, a]))).toEqual(['a=1', 'b=2', 'c=3', 'd=4'])
    expect(mergeReduceOutputs([])).toEqual([])
  })
})

describe('splitText', () => {
  it('word bytes are ASCII letters, digits and bytes ≥ 0x80', () => {
    for (const c of 'azAZ09') expect(isWordByte(c.charCodeAt(0))).toBe(true)
    for (const c of ' \t\n.,;!-_\'"/@[`{') expect(isWordByte(c.charCodeAt(0)), c).toBe(false)
    expect(isWordByte(0x80)).toBe(true)
    expect(isWordByte(0xff)).toBe(true)
  })

  it('cuts at the first non-word byte at or after the target', () => {
    const chunks = splitText(enc.encode('hello world foo'), 3).map(c => dec.decode(c))
    expect(chunks).toEqual(['hello', ' world', ' foo'])
    expect(splitText(enc.encode('abc'), 100).map(c => dec.decode(c))).toEqual(['abc'])
    expect(splitText(new Uint8Array(0), 10)).toEqual([])
    expect(splitText(enc.encode('a b c d'), 2).map(c => dec.decode(c))).toEqual(['a b', ' c', ' d'])
  })

  it('never splits a word, and the chunks concatenate to the input (property, fixed seed)', () => {
    const rand = prng(12345)
    const alphabet = [...enc.encode('abcXYZ019 \n\t.,!-'), 0xc3, 0xa9, 0xe2, 0x80, 0x94]
    for (let i = 0; i < 300; i++) {
      const input = Uint8Array.from({ length: Math.floor(rand() * 400) }, () => alphabet[Math.floor(rand() * alphabet.length)])
      const target = 1 + Math.floor(rand() * 64)
      const chunks = splitText(input, target)
      let off = 0
      for (const [j, c] of chunks.entries()) {
        expect(c.byteLength).toBeGreaterThan(0)
        expect(c).toEqual(input.subarray(off, off + c.byteLength))
        off += c.byteLength
        if (off < input.byteLength) {
          // a cut lies between two bytes of which at least one is not a word byte
          expect(isWordByte(input[off - 1]) && isWordByte(input[off]), `chunk ${j} ends inside a word`).toBe(false)
          // and no earlier than the target
          expect(c.byteLength).toBeGreaterThanOrEqual(target)
        }
      }
      expect(off).toBe(input.byteLength)
    }
  })

  it('keeps a long word whole even past the target', () => {
    const input = enc.encode(`${'x'.repeat(50)} y`)
    expect(splitText(input, 10).map(c => c.byteLength)).toEqual([50, 2])
  })
})
