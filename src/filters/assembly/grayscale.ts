import { beginEntry, imagePixels, luma, setOutput } from './lib/fedra'
import { BLUE, GREEN, RED, alphaOf, channel, pack, weigh } from './lib/simd'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// In place: the output is the input tile. The SIMD build does four pixels
// per step (same integer formula as luma()); the scalar loop does the rest.
export function grayscale(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 0)
  if (n < 0) return n
  let p = <usize>inPtr
  const end = p + <usize>inLen
  if (ASC_FEATURE_SIMD) p = grayscale4(p, end)
  for (; p < end; p += 4) {
    const y = <u8>luma(p)
    store<u8>(p, y)
    store<u8>(p, y, 1)
    store<u8>(p, y, 2)
  }
  return setOutput(<usize>inPtr, inLen)
}

// Returns where the scalar loop takes over.
function grayscale4(p: usize, end: usize): usize {
  for (; p + 16 <= end; p += 16) {
    const px = v128.load(p)
    const y = weigh(channel(px, RED), channel(px, GREEN), channel(px, BLUE), 77, 150, 29)
    v128.store(p, pack(y, y, y, alphaOf(px)))
  }
  return p
}
