import { beginEntry, imagePixels, setOutput } from './lib/fedra'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// 255 - c is c ^ 0xff for a byte: the SIMD build flips R, G, B of four
// pixels per step with one xor; the scalar loop does the rest.
export function invert(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 0)
  if (n < 0) return n
  let p = <usize>inPtr
  const end = p + <usize>inLen
  if (ASC_FEATURE_SIMD) p = invert4(p, end)
  for (; p < end; p += 4) {
    store<u8>(p, 255 - load<u8>(p))
    store<u8>(p, 255 - load<u8>(p, 1), 1)
    store<u8>(p, 255 - load<u8>(p, 2), 2)
  }
  return setOutput(<usize>inPtr, inLen)
}

function invert4(p: usize, end: usize): usize {
  const rgb = i32x4.splat(0x00ffffff)
  for (; p + 16 <= end; p += 16) v128.store(p, v128.xor(v128.load(p), rgb))
  return p
}
