import { ERR_NO_MEMORY, ERR_RECORDS, beginEntry, scratch, setOutput } from './lib/fedra'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// Records are [u32le keyLen][key][u32le valueLen][value]; counts are u32le.

// @ts-ignore: decorator
@inline
function isWordByte(c: u32): bool {
  return (c - 48 < 10) || ((c | 32) - 97 < 26) || c >= 128
}

// @ts-ignore: decorator
@inline
function fnv1a(p: usize, len: usize): u32 {
  let h: u32 = 0x811c9dc5
  for (let i: usize = 0; i < len; i++) h = (h ^ <u32>load<u8>(p + i)) * 0x01000193
  return h
}

function sameBytes(a: usize, b: usize, len: usize): bool {
  for (let i: usize = 0; i < len; i++) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false
  }
  return true
}

// One record per distinct word of the chunk, in order of first occurrence,
// valued with its count in the chunk: the map is its own combiner, which
// keeps shuffle traffic small.
export function map(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const start = <usize>inPtr
  const end = start + <usize>inLen
  let words: u32 = 0
  let inWord = false
  for (let p = start; p < end; p++) {
    let c = <u32>load<u8>(p)
    if (isWordByte(c)) {
      if (c - 65 < 26) store<u8>(p, <u8>(c | 32))
      if (!inWord) words++
      inWord = true
    } else {
      inWord = false
    }
  }
  if (words == 0) return setOutput(start, 0)

  let slots: u32 = 16
  while (slots < words * 2) slots <<= 1
  const mask = slots - 1
  // Slot holds entry index + 1 (0 = empty); an entry is hash, key ptr, key len, count.
  const table = scratch(<usize>slots << 2)
  const entries = scratch(<usize>words << 4)
  if (table == 0 || entries == 0) return ERR_NO_MEMORY
  for (let i: u32 = 0; i < slots; i++) store<u32>(table + (<usize>i << 2), 0)

  let distinct: u32 = 0
  let outLen: usize = 0
  let p = start
  while (p < end) {
    while (p < end && !isWordByte(load<u8>(p))) p++
    if (p >= end) break
    const key = p
    while (p < end && isWordByte(load<u8>(p))) p++
    const len = p - key
    const h = fnv1a(key, len)
    let s = h & mask
    while (true) {
      const slot = table + (<usize>s << 2)
      const v = load<u32>(slot)
      if (v == 0) {
        const e = entries + (<usize>distinct << 4)
        store<u32>(e, h)
        store<u32>(e, <u32>key, 4)
        store<u32>(e, <u32>len, 8)
        store<u32>(e, 1, 12)
        distinct++
        store<u32>(slot, distinct)
        outLen += 12 + len
        break
      }
      const e = entries + (<usize>(v - 1) << 4)
      if (load<u32>(e) == h && load<u32>(e, 8) == <u32>len && sameBytes(<usize>load<u32>(e, 4), key, len)) {
        store<u32>(e, load<u32>(e, 12) + 1, 12)
        break
      }
      s = (s + 1) & mask
    }
  }

  const out = scratch(outLen)
  if (out == 0) return ERR_NO_MEMORY
  let o = out
  for (let i: u32 = 0; i < distinct; i++) {
    const e = entries + (<usize>i << 4)
    const key = <usize>load<u32>(e, 4)
    const len = <usize>load<u32>(e, 8)
    store<u32>(o, <u32>len)
    for (let k: usize = 0; k < len; k++) store<u8>(o + 4 + k, load<u8>(key + k))
    o += 4 + len
    store<u32>(o, 4)
    store<u32>(o, load<u32>(e, 12), 4)
    o += 8
  }
  return setOutput(out, <i32>outLen)
}

// Input: one partition's records sorted by key, equal keys adjacent. Output:
// one record per key with the counts summed (mod 2^32). Written in place:
// the output never overtakes the record being read.
export function reduce(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const start = <usize>inPtr
  const end = <u64>start + <u64>inLen
  let rp = start
  let wp = start
  while (<u64>rp < end) {
    if (<u64>rp + 4 > end) return ERR_RECORDS
    const kl = <usize>load<u32>(rp)
    if (<u64>rp + 12 + <u64>kl > end || load<u32>(rp + 4 + kl) != 4) return ERR_RECORDS
    const key = rp + 4
    let sum = load<u32>(rp + 8 + kl)
    rp += 12 + kl
    while (<u64>rp + 4 <= end) {
      const nl = <usize>load<u32>(rp)
      if (nl != kl || <u64>rp + 12 + <u64>nl > end || !sameBytes(rp + 4, key, kl)) break
      if (load<u32>(rp + 4 + nl) != 4) return ERR_RECORDS
      sum += load<u32>(rp + 8 + nl)
      rp += 12 + nl
    }
    store<u32>(wp, <u32>kl)
    for (let k: usize = 0; k < kl; k++) store<u8>(wp + 4 + k, load<u8>(key + k))
    wp += 4 + kl
    store<u32>(wp, 4)
    store<u32>(wp, sum, 4)
    wp += 8
  }
  return setOutput(start, <i32>(wp - start))
}
